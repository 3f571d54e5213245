"""StopPPO: split-head loss, stop-label capture, save/load, determinism (fake envs, seconds each)."""

from __future__ import annotations

import json
import warnings
import zipfile

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.logger import configure
from stable_baselines3.common.vec_env import DummyVecEnv, VecMonitor

from rlft.algos.stop_ppo import StopPPO
from rlft.errors import ConfigError
from rlft.policies.extractors import SmallCNN

th.set_num_threads(1)

OBS_SPACE = gym.spaces.Box(0, 255, (2, 15, 15), np.uint8)
ROW = 7  # the corridor's image row


class Corridor(gym.Env):
    """A 1-px corridor of ``length`` cells; moves 0-3 step forward, 4-7 stay.

    Channel 0 shows the corridor with its end brighter, channel 1 the agent's cell, so "at the
    end" is visible. Stop flag 1 ends the episode: +1 at the end, -1 elsewhere.
    ``stop_label`` = at the end. ``with_labels=False`` gives infos without the key.
    """

    observation_space = OBS_SPACE
    action_space = gym.spaces.MultiDiscrete([8, 2])

    def __init__(self, length: int = 3, max_steps: int = 12, with_labels: bool = True) -> None:
        self.length, self.max_steps, self.with_labels = length, max_steps, with_labels

    def _obs(self) -> np.ndarray:
        obs = np.zeros(OBS_SPACE.shape, np.uint8)
        obs[0, ROW, : self.length] = 100
        obs[0, ROW, self.length - 1] = 255
        obs[1, ROW, self.pos] = 255
        return obs

    def _info(self, **extra: bool) -> dict:
        return {"stop_label": self.pos == self.length - 1, **extra} if self.with_labels else dict(extra)

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self.pos, self.t = 0, 0
        return self._obs(), self._info()

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict]:
        move, stop = int(action[0]), int(action[1])
        self.t += 1
        at_end = self.pos == self.length - 1
        if stop:
            return self._obs(), (1.0 if at_end else -1.0), True, False, self._info(is_success=at_end)
        if move < 4:
            self.pos = min(self.pos + 1, self.length - 1)
        truncated = self.t >= self.max_steps
        extra = {"is_success": False} if truncated else {}
        return self._obs(), -0.01, False, truncated, self._info(**extra)


class StandardCorridor(Corridor):
    """The corridor with CurveTrace's standard actions: Discrete(9), moves 0-7 as above, 8 = STOP."""

    action_space = gym.spaces.Discrete(9)

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict]:
        a = int(action)
        return super().step(np.array([min(a, 7), int(a == 8)]))


class Scripted(gym.Env):
    """Ignores actions; episode k of env ``env_id`` lasts ``3 + env_id`` steps.

    The observation encodes (step t, env id) in two pixels and ``stop_label`` = t is even, so the
    label of every stored observation is known. ``reset_label=False`` leaves the key out of the
    reset info (the first observation's label must then be False).
    """

    observation_space = OBS_SPACE
    action_space = gym.spaces.MultiDiscrete([8, 2])

    def __init__(self, env_id: int, reset_label: bool = True) -> None:
        self.env_id, self.reset_label = env_id, reset_label

    def _obs(self) -> np.ndarray:
        obs = np.zeros(OBS_SPACE.shape, np.uint8)
        obs[0, 0, 0], obs[0, 0, 1] = self.t, self.env_id
        return obs

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self.t = 0
        return self._obs(), ({"stop_label": True} if self.reset_label else {})

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict]:
        self.t += 1
        return self._obs(), 0.0, self.t >= 3 + self.env_id, False, {"stop_label": self.t % 2 == 0}


def small_model(env=None, **kwargs) -> StopPPO:
    settings = dict(n_steps=64, batch_size=64, n_epochs=2, seed=0, device="cpu", policy_kwargs={"net_arch": [32, 32]})
    settings.update(kwargs)
    return StopPPO("MlpPolicy", env if env is not None else Corridor(), **settings)


def stop_probs(model: StopPPO, obs: np.ndarray) -> np.ndarray:
    with th.no_grad():
        dist = model.policy.get_distribution(model.policy.obs_to_tensor(obs)[0])
        if isinstance(dist.distribution, th.distributions.Categorical):  # standard: STOP is the last action
            return dist.distribution.probs[:, -1].numpy()
        return dist.distribution[1].probs[:, 1].numpy()


def corridor_states(length: int = 3) -> np.ndarray:
    env = Corridor(length)
    env.reset()
    states = []
    for pos in range(length):
        env.pos = pos
        states.append(env._obs())
    return np.stack(states)


class KeepBuffers(BaseCallback):
    """Copies the rollout buffer's observations and stop labels at each rollout's end (before train())."""

    def __init__(self) -> None:
        super().__init__()
        self.rollouts: list[tuple[np.ndarray, np.ndarray, bool]] = []

    def _on_step(self) -> bool:
        return True

    def _on_rollout_end(self) -> None:
        buf = self.model.rollout_buffer
        self.rollouts.append((buf.observations.copy(), buf.stop_labels.copy(), buf.has_stop_labels))


@pytest.mark.parametrize("reset_label", [True, False])
def test_labels_aligned_with_buffer_positions(reset_label: bool) -> None:
    venv = VecMonitor(DummyVecEnv([lambda i=i: Scripted(i, reset_label) for i in range(3)]))
    model = small_model(venv, n_steps=7, batch_size=21, n_epochs=1)
    keep = KeepBuffers()
    model.learn(7 * 3 * 3, callback=keep)
    assert len(keep.rollouts) == 3
    for observations, labels, has_labels in keep.rollouts:
        assert has_labels
        t = observations[:, :, 0, 0, 0].astype(int)  # (n_steps, n_envs)
        assert (observations[:, :, 0, 0, 1] == np.arange(3)).all()
        assert (t == 0).any() and (t > 0).any()  # resets inside the rollouts
        expected = (t % 2 == 0) & ((t > 0) | reset_label)
        np.testing.assert_array_equal(labels, expected.astype(np.float32))


def test_learn_logs_stop_scalars(tmp_path) -> None:
    model = small_model(n_steps=32, batch_size=32)
    model.set_logger(configure(str(tmp_path), ["csv"]))
    model.learn(32 * 3)
    header, *rows = (tmp_path / "progress.csv").read_text().splitlines()
    columns = header.split(",")
    last = dict(zip(columns, rows[-1].split(",")))
    for key in (
        "train/stop_loss",
        "train/stop_bce",
        "train/move_pg_loss",
        "train/stop_pg_loss",
        "train/policy_gradient_loss",
        "train/value_loss",
        "train/approx_kl",
        "train/entropy_loss",
    ):
        assert key in columns, key
        assert np.isfinite(float(last[key])), key


def test_discrete_actions_factorise_exactly_into_move_and_stop() -> None:
    from rlft.algos.stop_ppo import _factorised_stop

    logits = th.randn(64, 9, dtype=th.float64) * 3
    actions = th.arange(64) % 9
    head_log_prob, stop_logit = _factorised_stop(logits, actions)
    joint = th.distributions.Categorical(logits=logits)
    th.testing.assert_close(head_log_prob.sum(dim=1), joint.log_prob(actions))
    th.testing.assert_close(th.sigmoid(stop_logit), joint.probs[:, 8])
    assert th.all(head_log_prob[actions == 8, 0] == 0)  # a STOP has no move


@pytest.mark.parametrize("env_class", [Corridor, StandardCorridor])
def test_snapshot_matches_rollout_joint_log_prob(env_class: type) -> None:
    model = small_model(env_class())
    snapshots = []

    class Snap(BaseCallback):
        def _on_step(self) -> bool:
            return True

        def _on_rollout_end(self) -> None:
            self.model._snapshot_head_log_probs()
            buf = self.model.rollout_buffer
            snapshots.append((buf.old_head_log_prob.sum(-1), buf.log_probs.copy()))

    model.learn(64 * 2, callback=Snap())
    for heads_sum, joint in snapshots:
        np.testing.assert_allclose(heads_sum, joint, atol=1e-5)


@pytest.mark.parametrize("env_class", [Corridor, StandardCorridor])
def test_lambda_stop_drives_stop_head_update(env_class: type) -> None:
    def stop_rows_after_one_update(lambda_stop: float) -> tuple[th.Tensor, th.Tensor]:
        model = small_model(env_class(), lambda_stop=lambda_stop, stop_label_coef=0.0, ent_coef=0.0)
        before = model.policy.action_net.weight[8:].detach().clone()
        model.learn(64)
        return before, model.policy.action_net.weight[8:].detach().clone()

    before, after = stop_rows_after_one_update(0.0)
    assert th.equal(before, after)  # only the stop terms reach the stop head's logits
    before, after = stop_rows_after_one_update(5.0)
    assert not th.allclose(before, after)


@pytest.mark.parametrize("env_class", [Corridor, StandardCorridor])
def test_stop_label_bce_teaches_the_stop_head(env_class: type) -> None:
    # lambda_stop=0, ent_coef=0: the stop decision learns from the BCE term only.
    model = small_model(
        env_class(length=2),
        n_steps=128,
        batch_size=64,
        n_epochs=4,
        learning_rate=1e-3,
        lambda_stop=0.0,
        ent_coef=0.0,
        stop_label_coef=1.0,
        stop_pos_weight=2.0,
    )
    states = corridor_states(length=2)
    start = stop_probs(model, states)
    model.learn(128 * 12)
    end = stop_probs(model, states)
    assert abs(start[1] - start[0]) < 0.1
    assert end[1] > 0.8 and end[0] < 0.2, end


def test_env_without_labels_warns_once_and_skips_bce(tmp_path) -> None:
    model = small_model(Corridor(with_labels=False), n_steps=32, batch_size=32)
    model.set_logger(configure(str(tmp_path), ["csv"]))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.learn(32 * 3)
    assert sum("stop_label" in str(w.message) for w in caught) == 1
    header = (tmp_path / "progress.csv").read_text().splitlines()[0].split(",")
    assert "train/stop_pg_loss" in header and "train/stop_bce" not in header


def test_save_load_round_trip(tmp_path) -> None:
    model = small_model(lambda_stop=7.5, stop_label_coef=0.25, stop_pos_weight=3.0)
    model.learn(64)
    path = tmp_path / "model.zip"
    model.save(path)
    with zipfile.ZipFile(path) as archive:
        data = json.loads(archive.read("data"))
    assert "_last_stop_labels" not in data and "rollout_buffer" not in data

    obs = corridor_states()
    expected, _ = model.predict(obs, deterministic=True)
    loaded = StopPPO.load(path, env=Corridor(), device="cpu")
    assert (loaded.lambda_stop, loaded.stop_label_coef, loaded.stop_pos_weight) == (7.5, 0.25, 3.0)
    np.testing.assert_array_equal(loaded.predict(obs, deterministic=True)[0], expected)
    np.testing.assert_allclose(stop_probs(loaded, obs), stop_probs(model, obs))
    loaded.learn(64, reset_num_timesteps=False)  # continues training after load

    plain = PPO.load(path, device="cpu")  # inference with stock SB3
    np.testing.assert_array_equal(plain.predict(obs, deterministic=True)[0], expected)


@pytest.mark.parametrize(
    "space", [gym.spaces.Discrete(1), gym.spaces.MultiDiscrete([8, 3]), gym.spaces.MultiDiscrete([8, 2, 2])]
)
def test_action_space_without_a_stop_decision_is_a_config_error(space: gym.Space) -> None:
    env = Corridor()
    env.action_space = space
    with pytest.raises(ConfigError, match="last action is STOP"):
        small_model(env)


@pytest.mark.parametrize("kwargs", [{"lambda_stop": -1.0}, {"stop_label_coef": -0.5}, {"stop_pos_weight": 0.0}])
def test_bad_stop_hyperparameters_are_config_errors(kwargs: dict) -> None:
    with pytest.raises(ConfigError):
        small_model(**kwargs)


@pytest.mark.parametrize("env_class", [Corridor, StandardCorridor])
def test_same_seed_same_parameters(env_class: type) -> None:
    def params(seed: int) -> dict[str, th.Tensor]:
        model = StopPPO(
            "MlpPolicy",
            env_class(),
            n_steps=32,
            batch_size=16,
            n_epochs=2,
            seed=seed,
            device="cpu",
            policy_kwargs={
                "features_extractor_class": SmallCNN,
                "features_extractor_kwargs": {"features_dim": 16, "channels": 4},
            },
        )
        model.learn(64)
        return model.policy.state_dict()

    first, second, other = params(1), params(1), params(2)
    assert all(th.equal(first[k], second[k]) for k in first)
    assert not all(th.equal(first[k], other[k]) for k in first)


@pytest.mark.slow
def test_learns_to_stop_at_the_corridor_end() -> None:
    env = DummyVecEnv([lambda: Corridor(length=6, max_steps=20) for _ in range(4)])
    model = StopPPO(
        "MlpPolicy",
        env,
        n_steps=64,
        batch_size=128,
        n_epochs=4,
        seed=0,
        device="cpu",
        ent_coef=0.01,
        lambda_stop=5.0,
        stop_label_coef=1.0,
        policy_kwargs={"net_arch": [64, 64]},
    )
    model.learn(2048 * 6)
    corridor, wins = Corridor(length=6, max_steps=20), 0
    for episode in range(10):
        obs, info = corridor.reset(seed=episode)
        done = False
        while not done:
            obs, _, terminated, truncated, info = corridor.step(model.predict(obs, deterministic=True)[0])
            done = terminated or truncated
        wins += info["is_success"]
    assert wins == 10
