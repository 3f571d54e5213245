"""``python -m rlft.traces record MODEL [options]``: play a model for many episodes and store every
step, chunk by chunk (never the whole set in memory).

Episodes use seeds ``first_seed, first_seed + 1, ...`` (default 0: apart from the evaluation seeds,
which start at 1,000,000, so a model distilled from traces is not judged on the episodes it was
trained on). Actions are sampled (``deterministic=false``) by default: a filter needs variety.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from rlft.errors import ConfigError
from rlft.traces import store

log = logging.getLogger("rlft")

SKIP_INFO = frozenset({"is_success", "achievements", "TimeLimit.truncated", "terminal_observation", "episode",
                       "early_stop", "late_stop"})


def _info_fields(info: dict[str, Any]) -> list[str]:
    """Numeric scalar info fields reported every step (CurveTrace: stop_label, coverage, endpoint_error)."""
    return sorted(k for k, v in info.items() if k not in SKIP_INFO and isinstance(v, (bool, int, float, np.number))
                  and np.ndim(v) == 0)


class _Buffers:
    """Column buffers of finished episodes, flushed as one chunk of steps and one of episodes."""

    def __init__(self, info_fields: list[str]) -> None:
        self.info_fields = info_fields
        self.steps: dict[str, list] = {k: [] for k in ("episode_id", "t", "obs", "action", "reward", "done",
                                                       *(f"info_{n}" for n in info_fields))}
        self.episodes: dict[str, list] = {k: [] for k in ("episode_id", "seed", "return", "length", "success",
                                                          "achievements", "model", "stage")}

    def add(self, episode: dict[str, Any]) -> None:
        for key, values in episode["steps"].items():
            self.steps[key].extend(values)
        for key in self.episodes:
            self.episodes[key].append(episode[key])

    def __len__(self) -> int:
        return len(self.episodes["episode_id"])


def record(policy: Any, make_env: Any, out: Path, *, episodes: int, first_seed: int, deterministic: bool,
           model_label: str, stage_label: str, manifest_extra: dict[str, Any], n_parallel: int = 8,
           chunk_episodes: int = 200, obs_transform: Any = None, progress: bool = True) -> dict[str, Any]:
    """Play ``episodes`` episodes and write them to ``out`` in chunks; returns the manifest."""
    envs = [make_env() for _ in range(max(1, min(n_parallel, episodes)))]
    first_obs, first_info = envs[0].reset(seed=first_seed)
    obs_dtype, obs_shape = np.asarray(first_obs).dtype, list(np.asarray(first_obs).shape)
    info_fields = _info_fields(first_info)
    manifest = {"model": model_label, "stage": stage_label, "obs_dtype": str(obs_dtype), "obs_shape": obs_shape,
                "info_fields": info_fields, "first_seed": first_seed, "deterministic": deterministic,
                "episodes_requested": episodes, **manifest_extra}
    (out / store.STEPS).mkdir(parents=True, exist_ok=True)
    (out / store.EPISODES).mkdir(parents=True, exist_ok=True)
    store.write_manifest(out, {**manifest, "complete": False})

    buffers = _Buffers(info_fields)
    written = {"chunks": 0, "episodes": 0, "steps": 0}
    slots: list[dict[str, Any] | None] = [None] * len(envs)
    observations: list[Any] = [None] * len(envs)
    next_episode = 0
    t0, last_report = time.monotonic(), 0.0

    def start(slot: int) -> None:
        nonlocal next_episode
        if next_episode >= episodes:
            slots[slot] = None
            return
        seed = first_seed + next_episode
        observations[slot], _ = envs[slot].reset(seed=seed)
        slots[slot] = {"episode_id": next_episode, "seed": seed, "return": 0.0, "length": 0,
                       "model": model_label, "stage": stage_label, "steps": {k: [] for k in buffers.steps}}
        next_episode += 1

    def flush() -> None:
        nonlocal buffers
        if not len(buffers):
            return
        name = store.chunk_name(written["chunks"])
        # steps first: an episodes chunk is only ever written once its steps are on disk
        store.write_table(store.steps_table(buffers.steps, obs_dtype, info_fields), out / store.STEPS / name)
        store.write_table(store.episodes_table(buffers.episodes), out / store.EPISODES / name)
        written["chunks"] += 1
        written["episodes"] += len(buffers)
        written["steps"] += len(buffers.steps["episode_id"])
        buffers = _Buffers(info_fields)

    try:
        for slot in range(len(envs)):
            start(slot)
        state, episode_start = None, np.ones(len(envs), dtype=bool)
        while any(s is not None for s in slots):
            active = [i for i, s in enumerate(slots) if s is not None]
            filler = observations[active[0]]
            batch = np.stack([observations[i] if slots[i] is not None else filler for i in range(len(envs))])
            actions, state = policy.predict(obs_transform(batch) if obs_transform else batch, state=state,
                                            episode_start=episode_start, deterministic=deterministic)
            episode_start[:] = False
            for i in active:
                episode = slots[i]
                action = actions[i]
                obs = observations[i]
                observations[i], reward, terminated, truncated, info = envs[i].step(action)
                steps = episode["steps"]
                steps["episode_id"].append(episode["episode_id"])
                steps["t"].append(episode["length"])
                steps["obs"].append(np.ascontiguousarray(obs).tobytes())
                steps["action"].append([int(a) for a in np.atleast_1d(action)])
                steps["reward"].append(float(reward))
                steps["done"].append(bool(terminated or truncated))
                for name in info_fields:
                    steps[f"info_{name}"].append(float(info.get(name, np.nan)))
                episode["return"] += float(reward)
                episode["length"] += 1
                if terminated or truncated:
                    episode["success"] = bool(info.get("is_success", False))
                    episode["achievements"] = sorted(str(a) for a in info.get("achievements", ()))
                    buffers.add(episode)
                    if len(buffers) >= chunk_episodes:
                        flush()
                    start(i)
                    episode_start[i] = True
            now = time.monotonic()
            if progress and now - last_report > 10:
                done = written["episodes"] + len(buffers)
                log.info("recorded %d/%d episodes (%.0f episodes/s)", done, episodes, done / max(now - t0, 1e-9))
                last_report = now
        flush()
    finally:
        for env in envs:
            env.close()
    manifest.update(complete=True, episodes=written["episodes"], steps=written["steps"], chunks=written["chunks"],
                    wall_time_s=round(time.monotonic() - t0, 2))
    store.write_manifest(out, manifest)
    return manifest


def run(argv: Sequence[str]) -> dict[str, Any]:
    """The CLI's work: resolve the model and env as ``rlft.evaluate`` does, then record."""
    from rlft.assess import cli, judge
    from rlft.assess.sources import resolve_source
    from rlft.envs.factory import env_factory
    from rlft.envs.normalization import ObservationNormalizer, has_normalization
    from rlft.runs.provenance import package_versions

    args = cli.parse(argv, "traces record", extra=("first_seed", "chunk"))
    if len(args.models) != 1:
        raise ConfigError(f"record takes one model, got {len(args.models)}")
    if args.out is None:
        raise ConfigError("record needs out=DIR: the folder of the new trace store")
    if args.out.exists() and any(args.out.iterdir()):
        raise ConfigError(f"out={args.out} is not empty: record into a new folder")
    if args.stages is not None:
        raise ConfigError("record plays one stage: use stage=K (or stage_overrides.*), not stages=")
    first_seed = int(args.extra.get("first_seed", 0))
    chunk = int(args.extra.get("chunk", 200))
    if chunk <= 0:
        raise ConfigError(f"chunk={chunk} must be a positive number of episodes per chunk")
    source = resolve_source(args.models[0], args.registry, args.which)
    (target,) = judge.stage_targets(source, args.overrides, None)
    policy = judge.prepare(source, [target])
    transform = ObservationNormalizer(source.model_dir) if source.model_dir and has_normalization(source.model_dir) else None
    from omegaconf import OmegaConf

    extra = {"model_spec": source.spec, "model_kind": source.kind, "env": OmegaConf.to_container(target.cfg.env),
             "stage_config": OmegaConf.to_container(target.cfg.stage),
             "stage_overrides": OmegaConf.to_container(target.cfg.stage_overrides), "packages": package_versions()}
    return record(policy, env_factory(target.cfg), args.out, episodes=args.episodes or 1000, first_seed=first_seed,
                  deterministic=bool(args.deterministic),
                  model_label=source.label, stage_label=target.label, manifest_extra=extra,
                  n_parallel=target.cfg.eval.n_envs, chunk_episodes=chunk, obs_transform=transform)
