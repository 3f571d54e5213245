"""Behaviour cloning on a trace store (``python -m rlft.train distill=<trace dir> [champion=<base>]``).

The kept episodes are loaded (at most ``distill.max_steps`` steps, whole episodes, in episode
order), the policy is trained with a plain torch loop to give the traces' actions (cross entropy
= negative log-likelihood under the policy's own distribution, so Discrete and MultiDiscrete
agents alike), a share of episodes is held out to report imitation accuracy, and the critic alone
(value layers; the shared features stay the actor's) is fitted to the discounted returns-to-go so
RL fine-tuning (``distill.rl_timesteps``) starts from values that match the new policy.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rlft.errors import ConfigError
from rlft.stats import finite_or_none
from rlft.traces import store

if TYPE_CHECKING:
    from stable_baselines3.common.base_class import BaseAlgorithm

log = logging.getLogger("rlft")


@dataclass
class Traces:
    obs: np.ndarray  # (N, *obs_shape), the recorded dtype
    actions: np.ndarray  # (N, action_dims) int64
    returns: np.ndarray  # (N,) float32, discounted return-to-go
    episodes: np.ndarray  # (N,) episode ids
    manifest: dict[str, Any]


def check_traces_fit(folder: Path, observation_space: Any, action_space: Any) -> None:
    """The store is readable and consistent, and its observations and actions fit the env."""
    import pyarrow.parquet as pq
    from gymnasium import spaces

    manifest = store.read_manifest(folder)
    store.check_schemas(folder)
    if "obs_keys" in manifest:
        raise ConfigError(
            f"traces in {folder} hold Dict observations ({', '.join(manifest['obs_keys'])}): behaviour "
            "cloning takes single-array observations only; record and filter them, distil another env"
        )
    if manifest.get("action_dtype", "int64") != "int64":
        raise ConfigError(
            f"traces in {folder} hold continuous actions: behaviour cloning fits Discrete and "
            "MultiDiscrete actions only"
        )
    shape, dtype = tuple(manifest["obs_shape"]), np.dtype(manifest["obs_dtype"])
    if shape != tuple(observation_space.shape) or dtype != observation_space.dtype:
        raise ConfigError(
            f"traces in {folder} hold observations {shape} {dtype} but the env gives "
            f"{tuple(observation_space.shape)} {observation_space.dtype}: distill on the env they "
            "were recorded on"
        )
    first = pq.ParquetFile(store.chunks(folder, store.STEPS)[0]).read_row_group(0, columns=["action"])
    dims = len(first.column("action")[0].as_py())
    wanted = 1 if isinstance(action_space, spaces.Discrete) else len(getattr(action_space, "nvec", []))
    if dims != wanted:
        raise ConfigError(
            f"traces in {folder} hold {dims}-part actions but the env's action space {action_space} "
            f"takes {wanted}: a standard agent cannot clone a decoupled one (or the reverse)"
        )


def load(folder: Path, gamma: float, max_steps: int | None) -> Traces:
    """Whole episodes in episode order, up to ``max_steps`` steps, with returns-to-go."""
    import duckdb

    manifest = store.read_manifest(folder)
    steps_glob = str(Path(folder) / store.STEPS / "chunk-*.parquet").replace("'", "''")
    episodes_glob = str(Path(folder) / store.EPISODES / "chunk-*.parquet").replace("'", "''")
    cap = f"WHERE running <= {int(max_steps)}" if max_steps else ""
    with duckdb.connect() as connection:
        result = connection.execute(
            f"WITH chosen AS (SELECT episode_id FROM (SELECT episode_id, sum(length) OVER (ORDER BY episode_id) AS running "
            f"FROM read_parquet('{episodes_glob}')) {cap}) "
            f"SELECT s.episode_id, s.t, s.obs, s.action, s.reward FROM read_parquet('{steps_glob}') s "
            f"SEMI JOIN chosen c ON s.episode_id = c.episode_id ORDER BY s.episode_id, s.t"
        )
        # DuckDB 2 renamed fetch_arrow_table to to_arrow_table
        if hasattr(result, "to_arrow_table"):
            table = result.to_arrow_table()
        else:
            table = result.fetch_arrow_table()  # type: ignore[attr-defined]  # DuckDB 1's name, not in DuckDB 2's stubs
    assert table is not None  # a SELECT's result
    if table.num_rows == 0:
        raise ConfigError(f"traces in {folder}: no whole episode fits distill.max_steps={max_steps}")
    episodes = table.column("episode_id").to_numpy()
    obs = store.decode_obs(table.column("obs").to_pylist(), manifest)
    actions = np.array(table.column("action").to_pylist(), dtype=np.int64)
    rewards = table.column("reward").to_numpy().astype(np.float32)
    returns = np.zeros_like(rewards)
    ends = np.flatnonzero(np.r_[episodes[1:] != episodes[:-1], True])
    start = 0
    for end in ends:  # discounted return-to-go, episode by episode (reverse accumulation)
        running = 0.0
        for i in range(end, start - 1, -1):
            running = rewards[i] + gamma * running
            returns[i] = running
        start = int(end) + 1
    return Traces(obs, actions, returns, episodes, manifest)


def _split(episodes: np.ndarray, share: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    ids = np.unique(episodes)
    rng = np.random.default_rng(seed)
    held = set(rng.choice(ids, size=int(round(share * len(ids))), replace=False).tolist()) if share > 0 else set()
    mask = np.array([e in held for e in episodes])
    return np.flatnonzero(~mask), np.flatnonzero(mask)


def _actions_tensor(actions: np.ndarray, th: Any, device: Any) -> Any:
    tensor = th.as_tensor(actions, device=device)
    return tensor[:, 0] if actions.shape[1] == 1 else tensor


def behaviour_clone(model: "BaseAlgorithm", traces: Traces, settings: Any, seed: int) -> dict[str, Any]:
    """Fit the policy to the traces' actions, then the critic to their returns; returns the history."""
    import torch as th

    policy: Any = model.policy  # an actor-critic policy (get_distribution, predict_values)
    policy.set_training_mode(True)
    train, held = _split(traces.episodes, settings.validation, seed)
    rng = np.random.default_rng(seed)
    optimizer = th.optim.Adam(policy.parameters(), lr=settings.lr)
    history = []

    def batches(indices: np.ndarray, shuffle: bool):
        order = rng.permutation(indices) if shuffle else indices
        for lo in range(0, len(order), settings.batch_size):
            chosen = order[lo : lo + settings.batch_size]
            obs, _ = policy.obs_to_tensor(traces.obs[chosen])
            yield chosen, obs

    def held_out() -> dict[str, float | None]:
        if not len(held):
            return {}
        correct, nll, count = 0.0, 0.0, 0
        with th.no_grad():
            for chosen, obs in batches(held, shuffle=False):
                target = _actions_tensor(traces.actions[chosen], th, policy.device)
                distribution = policy.get_distribution(obs)
                nll += float(-distribution.log_prob(target).sum())
                predicted = distribution.get_actions(deterministic=True)
                same = (predicted == target) if predicted.dim() == 1 else (predicted == target).all(dim=1)
                correct += float(same.sum())
                count += len(chosen)
        return {"held_out_accuracy": correct / count, "held_out_nll": finite_or_none(nll / count)}

    for epoch in range(settings.epochs):
        total, count = 0.0, 0
        for chosen, obs in batches(train, shuffle=True):
            target = _actions_tensor(traces.actions[chosen], th, policy.device)
            loss = -policy.get_distribution(obs).log_prob(target).mean()
            optimizer.zero_grad()
            loss.backward()
            th.nn.utils.clip_grad_norm_(policy.parameters(), 1.0)
            optimizer.step()
            total += float(loss) * len(chosen)
            count += len(chosen)
        entry = {"epoch": epoch + 1, "train_nll": finite_or_none(total / max(count, 1)), **held_out()}
        history.append(entry)
        log.info(
            "behaviour cloning epoch %d/%d: %s",
            epoch + 1,
            settings.epochs,
            ", ".join(f"{k}={v:.4f}" if v is not None else f"{k}=nan" for k, v in entry.items() if k != "epoch"),
        )

    critic = [p for n, p in policy.named_parameters() if n.startswith(("mlp_extractor.value_net", "value_net"))]
    critic_history = []
    if critic and settings.critic_epochs:
        value_optimizer = th.optim.Adam(critic, lr=settings.lr)
        returns = th.as_tensor(traces.returns, device=policy.device)
        for epoch in range(settings.critic_epochs):
            total, count = 0.0, 0
            for chosen, obs in batches(train, shuffle=True):
                loss = th.nn.functional.mse_loss(policy.predict_values(obs).flatten(), returns[chosen])
                value_optimizer.zero_grad()
                loss.backward()
                value_optimizer.step()
                total += float(loss) * len(chosen)
                count += len(chosen)
            critic_history.append({"epoch": epoch + 1, "value_mse": finite_or_none(total / max(count, 1))})
        log.info(
            "critic warm-up: value MSE %s after %d epochs", critic_history[-1]["value_mse"], settings.critic_epochs
        )
    policy.set_training_mode(False)
    return {
        "steps": int(len(traces.obs)),
        "episodes": int(len(np.unique(traces.episodes))),
        "train_steps": int(len(train)),
        "held_out_steps": int(len(held)),
        "history": history,
        "critic": critic_history,
        "traces": str(traces.manifest.get("filtered_from") or ""),
        "traces_model": traces.manifest.get("model"),
        "traces_stage": traces.manifest.get("stage"),
    }
