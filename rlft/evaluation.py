"""Evaluate a policy on fixed, per-episode seeds so two models face the same episodes (paired).

Episode ``i`` always starts from ``reset(seed=seeds[i])`` whatever happened in other episodes, so
results do not depend on episode lengths, batch size or the model. ``n_parallel`` episodes run side
by side to batch the policy's forward passes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Callable, Protocol, Sequence

import numpy as np

from rlft.config.metrics import info_metric


class Policy(Protocol):
    def predict(
        self, observation: Any, state: Any = None, episode_start: Any = None, deterministic: bool = False
    ) -> tuple[np.ndarray, Any]: ...


# observations (an array, or a dict of arrays for Dict observations) -> what the policy sees, e.g.
# VecNormalize.normalize_obs
ObsTransform = Callable[[Any], Any]


class EpisodeObserver(Protocol):
    """Sees every step of an evaluation (e.g. the trace recorder): episode ``i`` is seed ``seeds[i]``."""

    def on_step(
        self, episode: int, observation: Any, action: Any, reward: float, done: bool, info: dict[str, Any]
    ) -> None: ...

    def on_end(self, episode: int, info: dict[str, Any]) -> None: ...


@dataclass
class EvalResult:
    """Per-episode outcomes plus the summary written to ``metrics.json``."""

    rewards: list[float]
    lengths: list[int]
    successes: list[bool] | None  # None when the env never reports ``is_success``
    seeds: list[int]
    info_means: dict[str, float] = field(default_factory=dict)  # info/<key>: means of numeric final-info fields
    info_episodes: dict[str, list[float]] = field(default_factory=dict)  # info/<key>: one value per episode
    action_counts: dict[str, int] = field(default_factory=dict)  # "3" (Discrete) or "0:3" (head 0 of MultiDiscrete)

    @property
    def episodes(self) -> int:
        return len(self.rewards)

    @property
    def success_rate(self) -> float | None:
        return None if self.successes is None else float(np.mean(self.successes))

    @property
    def mean_reward(self) -> float:
        return float(np.mean(self.rewards))

    @property
    def mean_length(self) -> float:
        return float(np.mean(self.lengths))

    def summary(self) -> dict[str, Any]:
        return {
            "success_rate": self.success_rate,
            "mean_reward": self.mean_reward,
            "std_reward": float(np.std(self.rewards)),
            "mean_length": self.mean_length,
            "reward_per_step": float(np.sum(self.rewards) / max(1, np.sum(self.lengths))),
            "episodes": self.episodes,
            **self.info_means,
        }

    def action_shares(self) -> dict[str, float]:
        """Share of each action taken (per head for multi-part actions), for histograms."""
        total = sum(self.action_counts.values())
        return (
            {key: count / total for key, count in sorted(self.action_counts.items(), key=_action_order)}
            if total
            else {}
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


FINAL_INFO_SKIP = frozenset({"is_success", "TimeLimit.truncated", "terminal_observation", "episode"})


class EpisodeRunner:
    """Keeps ``n_parallel`` evaluation envs alive across evaluations (some envs are slow to build)."""

    def __init__(self, make_env: Callable[[], Any], n_parallel: int = 8) -> None:
        self.envs = [make_env() for _ in range(max(1, n_parallel))]

    def evaluate(
        self,
        policy: Policy,
        seeds: Sequence[int],
        *,
        deterministic: bool = True,
        obs_transform: ObsTransform | None = None,
        observer: EpisodeObserver | None = None,
    ) -> EvalResult:
        """Run one episode per seed and collect returns, lengths, success and final-info means."""
        envs = self.envs[: max(1, min(len(self.envs), len(seeds)))]
        return _run_episodes(policy, envs, list(seeds), deterministic, obs_transform, observer)

    def close(self) -> None:
        for env in self.envs:
            env.close()


def evaluate(
    policy: Policy,
    make_env: Callable[[], Any],
    seeds: Sequence[int],
    *,
    deterministic: bool = True,
    n_parallel: int = 8,
    obs_transform: ObsTransform | None = None,
    observer: EpisodeObserver | None = None,
) -> EvalResult:
    """One-off evaluation: build the envs, run one episode per seed, close them."""
    runner = EpisodeRunner(make_env, min(n_parallel, max(1, len(seeds))))
    try:
        return runner.evaluate(
            policy, seeds, deterministic=deterministic, obs_transform=obs_transform, observer=observer
        )
    finally:
        runner.close()


def _run_episodes(
    policy: Policy,
    envs: list[Any],
    seeds: list[int],
    deterministic: bool,
    obs_transform: ObsTransform | None,
    observer: EpisodeObserver | None = None,
) -> EvalResult:
    n_episodes = len(seeds)
    rewards = np.zeros(n_episodes)
    lengths = np.zeros(n_episodes, dtype=int)
    successes: list[bool | None] = [None] * n_episodes
    final_infos: list[dict[str, Any]] = [{} for _ in range(n_episodes)]
    action_counts: dict[str, int] = {}

    slot_episode: list[int | None] = [None] * len(envs)
    observations: list[Any] = [None] * len(envs)
    next_episode = 0

    def start(slot: int) -> None:
        nonlocal next_episode
        if next_episode >= n_episodes:
            slot_episode[slot] = None
            return
        observations[slot], _ = envs[slot].reset(seed=int(seeds[next_episode]))
        slot_episode[slot] = next_episode
        next_episode += 1

    for slot in range(len(envs)):
        start(slot)
    episode_start = np.ones(len(envs), dtype=bool)
    state = None  # a recurrent policy's per-slot memory, reset where episode_start is set
    masked = _takes_action_masks(policy)
    while any(ep is not None for ep in slot_episode):
        active = [slot for slot, ep in enumerate(slot_episode) if ep is not None]
        filler = observations[active[0]]
        batch = stack_observations(
            [observations[s] if slot_episode[s] is not None else filler for s in range(len(envs))]
        )
        if obs_transform is not None:
            batch = obs_transform(batch)
        extra = {"action_masks": _action_masks(envs, slot_episode, active[0])} if masked else {}
        actions, state = policy.predict(
            batch, state=state, episode_start=episode_start, deterministic=deterministic, **extra
        )
        episode_start[:] = False
        for slot in active:
            episode = slot_episode[slot]
            assert episode is not None  # the slot is active
            _count_action(action_counts, actions[slot])
            seen = observations[slot]
            observations[slot], reward, terminated, truncated, info = envs[slot].step(actions[slot])
            rewards[episode] += float(reward)
            lengths[episode] += 1
            if observer is not None:
                observer.on_step(episode, seen, actions[slot], float(reward), bool(terminated or truncated), info)
            if terminated or truncated:
                if "is_success" in info:
                    successes[episode] = bool(info["is_success"])
                final_infos[episode] = info
                if observer is not None:
                    observer.on_end(episode, info)
                start(slot)
                episode_start[slot] = True
    return EvalResult(
        rewards=rewards.tolist(),
        lengths=lengths.tolist(),
        successes=None if all(s is None for s in successes) else [bool(s) for s in successes],
        seeds=[int(s) for s in seeds],
        **_info_metrics(final_infos),
        action_counts=action_counts,
    )


def _takes_action_masks(policy: Policy) -> bool:
    """A policy whose ``predict`` takes ``action_masks`` (sb3-contrib's MaskablePPO) gets each env's."""
    import inspect

    return "action_masks" in inspect.signature(policy.predict).parameters


def _action_masks(envs: list[Any], slot_episode: list[int | None], filler: int) -> np.ndarray:
    from rlft.algos.masks import env_action_masks

    return np.stack([env_action_masks(envs[s if slot_episode[s] is not None else filler]) for s in range(len(envs))])


def stack_observations(observations: Sequence[Any]) -> Any:
    """One batch of observations: an array, or for Dict observations one array per key (what
    SB3's ``predict`` takes)."""
    if isinstance(observations[0], dict):
        return {key: np.stack([obs[key] for obs in observations]) for key in observations[0]}
    return np.stack(observations)


def _count_action(counts: dict[str, int], action: Any) -> None:
    parts = np.atleast_1d(np.asarray(action))
    if parts.dtype.kind not in "iub":  # continuous actions: no histogram
        return
    keys = [str(int(parts[0]))] if parts.size == 1 else [f"{h}:{int(v)}" for h, v in enumerate(parts)]
    for key in keys:
        counts[key] = counts.get(key, 0) + 1


def _action_order(item: tuple[str, Any]) -> tuple[int, ...]:
    return tuple(int(part) for part in item[0].split(":"))


def _is_number(value: Any) -> bool:
    return (
        isinstance(value, (int, float, np.number)) and not isinstance(value, (bool, np.bool_)) and np.ndim(value) == 0
    )


def _is_counter(value: Any) -> bool:
    """A counter dict ``{name: count}`` (Crafter's ``achievements``): per-name metrics."""
    return (
        isinstance(value, dict) and bool(value) and all(isinstance(k, str) and _is_number(v) for k, v in value.items())
    )


def info_values(infos: list[dict[str, Any]]) -> dict[str, list[float]]:
    """Per-episode values of the numeric final-info fields present in every episode, under their
    own names (``info/<key>``, a counter dict as ``info/<key>/<name>``, a name an episode lacks
    counting 0) so they never mix with rlft's own metrics; other values are skipped."""
    if not infos:
        return {}
    keys = set(infos[0])
    for info in infos[1:]:
        keys &= set(info)
    values: dict[str, list[float]] = {}
    for key in sorted(keys - FINAL_INFO_SKIP):
        column = [info[key] for info in infos]
        if all(_is_number(v) for v in column):
            values[info_metric(key)] = [float(v) for v in column]
        elif all(_is_counter(v) for v in column):
            for name in sorted({n for counter in column for n in counter}):
                values[info_metric(key, name)] = [float(counter.get(name, 0)) for counter in column]
    return values


def _info_metrics(infos: list[dict[str, Any]]) -> dict[str, Any]:
    per_episode = info_values(infos)
    return {
        "info_episodes": per_episode,
        "info_means": {name: float(np.mean(values)) for name, values in per_episode.items()},
    }
