"""PPO with a separately weighted, optionally supervised stop decision (both CurveTrace modes).

For an action space ``MultiDiscrete([n_moves, 2])`` = (move, stop flag) (decoupled mode), the
policy's two heads get separate clipped surrogate terms::

    r_move = pi(move | s) / pi_old(move | s)        r_stop = pi(stop | s) / pi_old(stop | s)
    L_move = -E[min(r_move A, clip(r_move) A)]      L_stop = -E[min(r_stop A, clip(r_stop) A)]
    L_bce  = BCE(P(stop = 1 | s), stop_label(s))    (pos_weight = stop_pos_weight)
    loss   = L_move + lambda_stop * L_stop + stop_label_coef * L_bce
             + vf_coef * L_value - ent_coef * entropy

Why: stopping is rare (about one step in an episode length), so in plain PPO its gradient is
swamped by the move head's; early random stops are punished and the policy learns to suppress
STOP long before it can find the end (see CurveTrace's "Learnability" notes). ``lambda_stop``
amplifies the stop head's policy gradient and the dense ``info["stop_label"]`` supervises it.
Both heads share one advantage; each ratio is clipped on its own, so even ``lambda_stop=1``
differs slightly from PPO's single clipped joint ratio.

For ``Discrete(n)`` whose last action is STOP (standard mode), the one softmax factorises exactly
into the same two decisions: ``pi(STOP) = P(stop)`` and ``pi(move) = (1 - P(stop)) * P(move | not
stop)``, so the "stop head" is log P(stop) or log(1 - P(stop)), its logit is
``z_STOP - logsumexp(z_moves)``, and the "move head" is log P(move | not stop) (0 for a STOP). The
same loss then applies unchanged; only its supervised term touches the STOP logit directly.

Per-head behaviour log-probs: the rollout buffer stores only the joint old log-prob, so
``train()`` first evaluates the rollout's observations/actions with the not-yet-updated policy
(minibatches, ``no_grad``, eval mode like the rollout) and keeps that snapshot in the buffer.

Written against stable-baselines3 2.9 (``PPO.train`` is one loop, so ``train`` is a copy of it
with the loss changed); re-check it when the SB3 minor version moves.
"""

from __future__ import annotations

import warnings
from collections.abc import Generator
from typing import Any, NamedTuple

import numpy as np
import torch as th
from gymnasium import spaces
from stable_baselines3 import PPO
from stable_baselines3.common.buffers import RolloutBuffer
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.policies import ActorCriticPolicy
from stable_baselines3.common.type_aliases import GymEnv, MaybeCallback, Schedule
from stable_baselines3.common.utils import explained_variance
from stable_baselines3.common.vec_env import VecEnv, VecEnvWrapper
from torch.nn import functional as F

from rlft.errors import ConfigError

MOVE, STOP = 0, 1  # action columns of MultiDiscrete([n_moves, 2]); the two heads in both modes


def _factorised_stop(logits: th.Tensor, actions: th.Tensor) -> tuple[th.Tensor, th.Tensor]:
    """Discrete(n) logits (batch, n) with STOP last, as the two decisions of the decoupled mode.

    :return: per-decision log-probs (batch, 2) of the taken actions, columns (move, stop):
        log P(move | not stop) (0 for a STOP) and log P(stop) or log(1 - P(stop)); and the stop
        logit log P(stop) - log(1 - P(stop)) = z_STOP - logsumexp(z_moves) (batch,).
    """
    move_logits, stop_z = logits[:, :-1], logits[:, -1]
    moves_z = th.logsumexp(move_logits, dim=1)
    stop_logit = stop_z - moves_z
    stopped = actions == logits.shape[1] - 1
    log_p_stop = F.logsigmoid(stop_logit)
    log_p_go = F.logsigmoid(-stop_logit)
    move = actions.clamp(max=logits.shape[1] - 2)
    log_p_move = move_logits.gather(1, move[:, None]).squeeze(1) - moves_z
    head_log_prob = th.stack(
        [th.where(stopped, th.zeros_like(log_p_move), log_p_move), th.where(stopped, log_p_stop, log_p_go)], dim=1
    )
    return head_log_prob, stop_logit


class StopRolloutBufferSamples(NamedTuple):
    """SB3's ``RolloutBufferSamples`` plus the stop head's data (all tensors, leading dim = batch)."""

    observations: th.Tensor
    actions: th.Tensor
    old_values: th.Tensor
    old_log_prob: th.Tensor
    advantages: th.Tensor
    returns: th.Tensor
    old_head_log_prob: th.Tensor  # (batch, 2): behaviour log-prob of the move and of the stop flag
    stop_labels: th.Tensor  # (batch,): 1.0 where info["stop_label"] of the observation was True


class StopRolloutBuffer(RolloutBuffer):
    """A ``RolloutBuffer`` that also holds per-step stop labels and per-head behaviour log-probs.

    ``stop_labels[pos, env]`` is written by :class:`StopPPO` while collecting, at the position
    where the observation it describes is stored; ``has_stop_labels`` turns False for a rollout in
    which some step's ``info`` lacked ``stop_label``. ``old_head_log_prob`` is filled by
    ``StopPPO.train`` before the first minibatch.
    """

    stop_labels: np.ndarray
    old_head_log_prob: np.ndarray
    has_stop_labels: bool

    def reset(self) -> None:
        self.stop_labels = np.zeros((self.buffer_size, self.n_envs), dtype=np.float32)
        self.old_head_log_prob = np.zeros((self.buffer_size, self.n_envs, 2), dtype=np.float32)
        self.has_stop_labels = True
        super().reset()

    def get(self, batch_size: int | None = None) -> Generator[StopRolloutBufferSamples, None, None]:  # type: ignore[override]
        # SB3 flattens its own arrays (env-major) on the first get(); flatten ours the same way.
        if not self.generator_ready:
            self.stop_labels = self.swap_and_flatten(self.stop_labels)
            self.old_head_log_prob = self.swap_and_flatten(self.old_head_log_prob)
        yield from super().get(batch_size)  # type: ignore[misc]

    def _get_samples(self, batch_inds: np.ndarray, env: Any = None) -> StopRolloutBufferSamples:  # type: ignore[override]
        base = super()._get_samples(batch_inds, env)
        return StopRolloutBufferSamples(
            *base,
            old_head_log_prob=self.to_torch(self.old_head_log_prob[batch_inds]),
            stop_labels=self.to_torch(self.stop_labels[batch_inds].flatten()),
        )


class StopPPO(PPO):
    """PPO with a weighted, label-supervised stop decision: ``MultiDiscrete([n_moves, 2])`` actions
    (a separate stop head), or ``Discrete(n)`` whose last action is STOP (see the module docstring).

    Takes every ``PPO`` argument, plus:

    :param lambda_stop: weight of the stop head's clipped policy-gradient term (>= 0; 5-15 works
        for CurveTrace; 0 leaves the stop flag to the BCE and entropy terms).
    :param stop_label_coef: weight of the BCE between P(stop flag = 1 | s) and ``info["stop_label"]``
        of the observation s the action was taken from (>= 0; 0 disables it). Envs without
        ``stop_label`` in their infos disable it too, with a one-time warning.
    :param stop_pos_weight: BCE weight of positive labels (>0), for class imbalance: positives
        are about 1/episode-length of the steps. None = 1.

    How labels are captured: SB3's ``collect_rollouts`` calls ``_update_info_buffer(infos, dones)``
    once per env step, after the callbacks and right before
    ``rollout_buffer.add(self._last_obs, ...)`` at ``rollout_buffer.pos``. The override stores the
    label of ``self._last_obs`` there (it came with that observation, i.e. from the previous step's
    info) and derives the label of the next observation from this step's ``infos``; where an env
    is done the next observation is a reset observation, whose label comes from the innermost
    VecEnv's ``reset_infos`` (False when absent). This avoids copying ``collect_rollouts`` and
    leaves user callbacks untouched.

    Logged in addition to PPO's scalars: ``train/move_pg_loss``, ``train/stop_pg_loss`` (both
    unweighted), ``train/stop_bce`` (whenever labels exist, even with ``stop_label_coef=0``) and
    ``train/stop_loss`` = ``lambda_stop * stop_pg_loss + stop_label_coef * stop_bce``;
    ``train/policy_gradient_loss`` is ``move_pg_loss + lambda_stop * stop_pg_loss``.

    Saved zips load with ``StopPPO.load`` (hyperparameters restored) and, for inference, with
    ``stable_baselines3.PPO.load`` as long as ``rlft`` is importable.
    """

    rollout_buffer: StopRolloutBuffer
    policy: ActorCriticPolicy

    def __init__(
        self,
        policy: str | type[ActorCriticPolicy],
        env: GymEnv | str,
        learning_rate: float | Schedule = 3e-4,
        n_steps: int = 2048,
        batch_size: int = 64,
        n_epochs: int = 10,
        gamma: float = 0.99,
        gae_lambda: float = 0.95,
        clip_range: float | Schedule = 0.2,
        clip_range_vf: float | Schedule | None = None,
        normalize_advantage: bool = True,
        ent_coef: float = 0.0,
        vf_coef: float = 0.5,
        max_grad_norm: float = 0.5,
        use_sde: bool = False,
        sde_sample_freq: int = -1,
        rollout_buffer_class: type[RolloutBuffer] | None = None,
        rollout_buffer_kwargs: dict[str, Any] | None = None,
        target_kl: float | None = None,
        stats_window_size: int = 100,
        tensorboard_log: str | None = None,
        policy_kwargs: dict[str, Any] | None = None,
        verbose: int = 0,
        seed: int | None = None,
        device: th.device | str = "auto",
        lambda_stop: float = 5.0,
        stop_label_coef: float = 1.0,
        stop_pos_weight: float | None = None,
        _init_setup_model: bool = True,
    ):
        super().__init__(
            policy,
            env,
            learning_rate=learning_rate,
            n_steps=n_steps,
            batch_size=batch_size,
            n_epochs=n_epochs,
            gamma=gamma,
            gae_lambda=gae_lambda,
            clip_range=clip_range,
            clip_range_vf=clip_range_vf,
            normalize_advantage=normalize_advantage,
            ent_coef=ent_coef,
            vf_coef=vf_coef,
            max_grad_norm=max_grad_norm,
            use_sde=use_sde,
            sde_sample_freq=sde_sample_freq,
            rollout_buffer_class=rollout_buffer_class,
            rollout_buffer_kwargs=rollout_buffer_kwargs,
            target_kl=target_kl,
            stats_window_size=stats_window_size,
            tensorboard_log=tensorboard_log,
            policy_kwargs=policy_kwargs,
            verbose=verbose,
            seed=seed,
            device=device,
            _init_setup_model=False,
        )
        self.lambda_stop = lambda_stop
        self.stop_label_coef = stop_label_coef
        self.stop_pos_weight = stop_pos_weight
        if _init_setup_model:
            self._setup_model()

    # ----------------------------------------------------------------------------- setup, save

    def _setup_model(self) -> None:
        # Runs after __init__ and after load() restored the saved attributes: validate here.
        self._check_stop_config()
        if self.rollout_buffer_class is None:
            self.rollout_buffer_class = StopRolloutBuffer
        super()._setup_model()
        self._last_stop_labels: np.ndarray | None = None
        self._warned_missing_stop_labels = False

    def _check_stop_config(self) -> None:
        space = self.action_space
        decoupled = isinstance(space, spaces.MultiDiscrete) and space.nvec.shape == (2,) and space.nvec[STOP] == 2
        if not (decoupled or (isinstance(space, spaces.Discrete) and space.n >= 2)):
            raise ConfigError(
                f"StopPPO (lambda_stop, stop_label_coef) needs MultiDiscrete([n_moves, 2]) (a stop flag) or "
                f"Discrete(n) whose last action is STOP; got {space}. Use algo ppo for {space}"
            )
        if isinstance(self.observation_space, spaces.Dict):
            raise ConfigError("StopPPO does not support Dict observation spaces; flatten the observation")
        if self.rollout_buffer_class is not None and not issubclass(self.rollout_buffer_class, StopRolloutBuffer):
            raise ConfigError(
                f"StopPPO needs a StopRolloutBuffer (sub)class as rollout_buffer_class, got {self.rollout_buffer_class}"
            )
        for name in ("lambda_stop", "stop_label_coef"):
            value = getattr(self, name)
            if not value >= 0:
                raise ConfigError(f"StopPPO: {name} must be >= 0, got {value}")
        if self.stop_pos_weight is not None and not self.stop_pos_weight > 0:
            raise ConfigError(f"StopPPO: stop_pos_weight must be > 0 or None, got {self.stop_pos_weight}")

    def _excluded_save_params(self) -> list[str]:
        # Per-run collection state, rebuilt by _setup_model; the snapshot lives in the (excluded) buffer.
        return [*super()._excluded_save_params(), "_last_stop_labels", "_warned_missing_stop_labels"]

    # ---------------------------------------------------------------------------- stop labels

    def _setup_learn(
        self,
        total_timesteps: int,
        callback: MaybeCallback = None,
        reset_num_timesteps: bool = True,
        tb_log_name: str = "run",
        progress_bar: bool = False,
    ) -> tuple[int, BaseCallback]:
        resets = reset_num_timesteps or self._last_obs is None  # the condition SB3 resets the env on
        result = super()._setup_learn(total_timesteps, callback, reset_num_timesteps, tb_log_name, progress_bar)
        if resets or self._last_stop_labels is None:
            self._last_stop_labels = self._reset_stop_labels(np.ones(self.n_envs, dtype=bool))
        return result

    def _reset_stop_labels(self, reset: np.ndarray) -> np.ndarray:
        """Labels of freshly reset observations (``reset[i]`` True): from ``reset_infos``, else False."""
        venv: VecEnv | None = self.env
        # Each VecEnvWrapper has its own (empty) reset_infos: only the innermost VecEnv fills it.
        while isinstance(venv, VecEnvWrapper):
            venv = venv.venv
        reset_infos = getattr(venv, "reset_infos", None) or [{}] * self.n_envs
        return np.array(
            [bool(reset_infos[i].get("stop_label", False)) for i in np.flatnonzero(reset)], dtype=np.float32
        )

    def _update_info_buffer(self, infos: list[dict[str, Any]], dones: np.ndarray | None = None) -> None:
        super()._update_info_buffer(infos, dones)
        if dones is None:
            return
        buffer = self.rollout_buffer
        if self._last_stop_labels is not None:
            buffer.stop_labels[buffer.pos] = self._last_stop_labels
        if not all("stop_label" in info for info in infos):
            buffer.has_stop_labels = False
            if self.stop_label_coef > 0 and not self._warned_missing_stop_labels:
                warnings.warn(
                    "StopPPO: the env's info has no 'stop_label'; the stop-label BCE term is off", stacklevel=2
                )
                self._warned_missing_stop_labels = True
        labels = np.array([bool(info.get("stop_label", False)) for info in infos], dtype=np.float32)
        if np.any(dones):
            labels[np.flatnonzero(dones)] = self._reset_stop_labels(np.asarray(dones, dtype=bool))
        self._last_stop_labels = labels

    # -------------------------------------------------------------------------------- update

    def _evaluate_heads(self, obs: th.Tensor, actions: th.Tensor) -> tuple[th.Tensor, th.Tensor, th.Tensor, th.Tensor]:
        """``ActorCriticPolicy.evaluate_actions`` split into the move and the stop decision.

        :param obs: observations (batch, *obs_shape), as stored in the rollout buffer.
        :param actions: long tensor (batch, 2) of (move, stop flag), or (batch, 1) of Discrete actions.
        :return: values (batch,), per-head log-probs (batch, 2), joint entropy (batch,) and the
            stop flag's logit log P(stop=1) - log P(stop=0) (batch,).
        """
        policy = self.policy
        features = policy.extract_features(obs)
        if policy.share_features_extractor:
            latent_pi, latent_vf = policy.mlp_extractor(features)
        else:
            pi_features, vf_features = features
            latent_pi = policy.mlp_extractor.forward_actor(pi_features)
            latent_vf = policy.mlp_extractor.forward_critic(vf_features)
        values = policy.value_net(latent_vf).flatten()
        if isinstance(self.action_space, spaces.Discrete):  # last action = STOP
            logits = policy.action_net(latent_pi)  # raw: torch's normalised logits would leak z_STOP into the moves
            head_log_prob, stop_logit = _factorised_stop(logits, actions[:, 0])
            return values, head_log_prob, th.distributions.Categorical(logits=logits).entropy(), stop_logit
        # policy.action_dist is one shared object: read its per-head Categoricals right away.
        heads = policy._get_action_dist_from_latent(latent_pi).distribution
        assert isinstance(heads, list)  # MultiDiscrete: one Categorical per head
        head_log_prob = th.stack([head.log_prob(actions[:, i]) for i, head in enumerate(heads)], dim=1)
        entropy = th.stack([head.entropy() for head in heads], dim=1).sum(dim=1)
        stop_head = heads[STOP]
        assert isinstance(stop_head, th.distributions.Categorical)
        stop_logits = stop_head.logits
        stop_logit = stop_logits[:, 1] - stop_logits[:, 0]
        return values, head_log_prob, entropy, stop_logit

    @th.no_grad()
    def _snapshot_head_log_probs(self) -> None:
        """Per-head log-probs of the rollout's actions under the pre-update policy, into the buffer."""
        buffer = self.rollout_buffer
        n = buffer.buffer_size * buffer.n_envs
        observations = buffer.observations.reshape(n, *buffer.obs_shape)
        actions = buffer.actions.reshape(n, -1)
        snapshot = np.empty((n, 2), dtype=np.float32)
        for start in range(0, n, self.batch_size):
            part = slice(start, start + self.batch_size)
            obs = buffer.to_torch(observations[part])
            act = buffer.to_torch(actions[part]).long()
            snapshot[part] = self._evaluate_heads(obs, act)[1].cpu().numpy()
        # Same element order as the observations, flattened or not.
        buffer.old_head_log_prob = snapshot.reshape(*buffer.observations.shape[: -len(buffer.obs_shape)], 2)

    def train(self) -> None:
        """One PPO update on the rollout buffer with the split-head loss (see the module docstring)."""
        # The snapshot must see the behaviour policy in the rollout's (eval) mode.
        self.policy.set_training_mode(False)
        self._snapshot_head_log_probs()
        self.policy.set_training_mode(True)
        self._update_learning_rate(self.policy.optimizer)
        clip_range = self.clip_range(self._current_progress_remaining)  # type: ignore[operator]
        if self.clip_range_vf is not None:
            clip_range_vf = self.clip_range_vf(self._current_progress_remaining)  # type: ignore[operator]
        has_labels = self.rollout_buffer.has_stop_labels
        pos_weight = None if self.stop_pos_weight is None else th.tensor(self.stop_pos_weight, device=self.device)

        entropy_losses, pg_losses, value_losses, clip_fractions = [], [], [], []
        move_pg_losses, stop_pg_losses, stop_bces, stop_losses = [], [], [], []

        continue_training = True
        for epoch in range(self.n_epochs):
            approx_kl_divs = []
            for rollout_data in self.rollout_buffer.get(self.batch_size):
                actions = rollout_data.actions.long()
                values, head_log_prob, entropy, stop_logit = self._evaluate_heads(rollout_data.observations, actions)
                log_prob = head_log_prob.sum(dim=1)

                advantages = rollout_data.advantages
                # Normalization does not make sense if mini batchsize == 1, see SB3 GH issue #325
                if self.normalize_advantage and len(advantages) > 1:
                    advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)

                # Clipped surrogate per head, both with the shared advantage: columns (move, stop).
                head_ratio = th.exp(head_log_prob - rollout_data.old_head_log_prob)
                surrogate = th.min(
                    advantages[:, None] * head_ratio,
                    advantages[:, None] * th.clamp(head_ratio, 1 - clip_range, 1 + clip_range),
                )
                move_pg_loss = -surrogate[:, MOVE].mean()
                stop_pg_loss = -surrogate[:, STOP].mean()
                policy_loss = move_pg_loss + self.lambda_stop * stop_pg_loss
                stop_loss = self.lambda_stop * stop_pg_loss
                if has_labels:
                    stop_bce = F.binary_cross_entropy_with_logits(
                        stop_logit, rollout_data.stop_labels, pos_weight=pos_weight
                    )
                    stop_bces.append(stop_bce.item())
                    stop_loss = stop_loss + self.stop_label_coef * stop_bce

                pg_losses.append(policy_loss.item())
                move_pg_losses.append(move_pg_loss.item())
                stop_pg_losses.append(stop_pg_loss.item())
                stop_losses.append(stop_loss.item())
                ratio = th.exp(log_prob - rollout_data.old_log_prob)
                clip_fractions.append(th.mean((th.abs(ratio - 1) > clip_range).float()).item())

                if self.clip_range_vf is None:
                    values_pred = values
                else:
                    values_pred = rollout_data.old_values + th.clamp(
                        values - rollout_data.old_values, -clip_range_vf, clip_range_vf
                    )
                value_loss = F.mse_loss(rollout_data.returns, values_pred)
                value_losses.append(value_loss.item())

                entropy_loss = -th.mean(entropy)
                entropy_losses.append(entropy_loss.item())

                loss = move_pg_loss + stop_loss + self.ent_coef * entropy_loss + self.vf_coef * value_loss

                # Approximate reverse KL of the joint policy for early stopping (SB3 GH #417).
                with th.no_grad():
                    log_ratio = log_prob - rollout_data.old_log_prob
                    approx_kl_div = th.mean((th.exp(log_ratio) - 1) - log_ratio).cpu().numpy()
                    approx_kl_divs.append(approx_kl_div)

                if self.target_kl is not None and approx_kl_div > 1.5 * self.target_kl:
                    continue_training = False
                    if self.verbose >= 1:
                        print(f"Early stopping at step {epoch} due to reaching max kl: {approx_kl_div:.2f}")
                    break

                self.policy.optimizer.zero_grad()
                loss.backward()
                th.nn.utils.clip_grad_norm_(self.policy.parameters(), self.max_grad_norm)
                self.policy.optimizer.step()

            self._n_updates += 1
            if not continue_training:
                break

        explained_var = explained_variance(self.rollout_buffer.values.flatten(), self.rollout_buffer.returns.flatten())

        self.logger.record("train/entropy_loss", np.mean(entropy_losses))
        self.logger.record("train/policy_gradient_loss", np.mean(pg_losses))
        self.logger.record("train/value_loss", np.mean(value_losses))
        self.logger.record("train/approx_kl", np.mean(approx_kl_divs))
        self.logger.record("train/clip_fraction", np.mean(clip_fractions))
        self.logger.record("train/loss", loss.item())
        self.logger.record("train/explained_variance", explained_var)
        self.logger.record("train/move_pg_loss", np.mean(move_pg_losses))
        self.logger.record("train/stop_pg_loss", np.mean(stop_pg_losses))
        self.logger.record("train/stop_loss", np.mean(stop_losses))
        if stop_bces:
            self.logger.record("train/stop_bce", np.mean(stop_bces))
        self.logger.record("train/n_updates", self._n_updates, exclude="tensorboard")
        self.logger.record("train/clip_range", clip_range)
        if self.clip_range_vf is not None:
            self.logger.record("train/clip_range_vf", clip_range_vf)
