"""``rlft traces record MODEL [stage=K ...] [episodes=1000] out=DIR [options]``: play a model for
many episodes and store every step, chunk by chunk (never the whole set in memory).

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

SKIP_INFO = frozenset(
    {
        "is_success",
        "achievements",
        "TimeLimit.truncated",
        "terminal_observation",
        "episode",
        "early_stop",
        "late_stop",
        "lost",
        "stuck",
    }
)


def _info_fields(info: dict[str, Any]) -> list[str]:
    """Numeric scalar info fields reported every step (CurveTrace: stop_label, coverage, endpoint_error)."""
    return sorted(
        k
        for k, v in info.items()
        if k not in SKIP_INFO and isinstance(v, (bool, int, float, np.number)) and np.ndim(v) == 0
    )


class _Recorder:
    """An :class:`~rlft.evaluation.EpisodeObserver` that writes each finished episode's steps to
    column buffers and flushes them as one chunk of steps and one of episodes every
    ``chunk_episodes`` episodes (episodes finish out of order across the parallel envs)."""

    def __init__(
        self,
        out: Path,
        info_fields: list[str],
        layout: dict[str, Any],
        labels: dict[str, str],
        first_seed: int,
        total: int,
        chunk_episodes: int,
        progress: bool,
    ) -> None:
        self.out, self.info_fields, self.layout, self.labels = out, info_fields, layout, labels
        self.continuous = layout["action_dtype"] != "int64"
        self.first_seed, self.total, self.chunk_episodes, self.progress = first_seed, total, chunk_episodes, progress
        self.open: dict[int, dict[str, list]] = {}  # running episodes: their step columns
        self.written = {"chunks": 0, "episodes": 0, "steps": 0}
        self.t0, self.last_report = time.monotonic(), 0.0
        self._new_buffers()

    def _new_buffers(self) -> None:
        self.steps: dict[str, list] = {k: [] for k in self._step_columns()}
        self.episodes: dict[str, list] = {
            k: [] for k in ("episode_id", "seed", "return", "length", "success", "achievements", "model", "stage")
        }

    def _step_columns(self) -> tuple[str, ...]:
        return (
            "episode_id",
            "t",
            *store.obs_columns(self.layout),
            "action",
            "reward",
            "done",
            *(f"info_{n}" for n in self.info_fields),
        )

    def on_step(
        self, episode: int, observation: Any, action: Any, reward: float, done: bool, info: dict[str, Any]
    ) -> None:
        steps = self.open.setdefault(episode, {k: [] for k in self._step_columns()})
        steps["episode_id"].append(episode)
        steps["t"].append(len(steps["t"]))
        parts = observation.items() if isinstance(observation, dict) else [(None, observation)]
        for key, value in parts:
            steps[store.obs_column(key)].append(np.ascontiguousarray(value).tobytes())
        flat = np.atleast_1d(action).ravel()
        steps["action"].append([float(a) for a in flat] if self.continuous else [int(a) for a in flat])
        steps["reward"].append(reward)
        steps["done"].append(done)
        for name in self.info_fields:
            steps[f"info_{name}"].append(float(info.get(name, np.nan)))

    def on_end(self, episode: int, info: dict[str, Any]) -> None:
        steps = self.open.pop(episode)
        for key, values in steps.items():
            self.steps[key].extend(values)
        for key, value in (
            ("episode_id", episode),
            ("seed", self.first_seed + episode),
            ("return", float(np.sum(steps["reward"]))),
            ("length", len(steps["t"])),
            ("success", None if "is_success" not in info else bool(info["is_success"])),  # null: not reported
            ("achievements", store.achievement_counts(info.get("achievements"))),
            ("model", self.labels["model"]),
            ("stage", self.labels["stage"]),
        ):
            self.episodes[key].append(value)
        if len(self.episodes["episode_id"]) >= self.chunk_episodes:
            self.flush()
        now = time.monotonic()
        if self.progress and now - self.last_report > 10:
            done = self.written["episodes"] + len(self.episodes["episode_id"])
            log.info("recorded %d/%d episodes (%.0f episodes/s)", done, self.total, done / max(now - self.t0, 1e-9))
            self.last_report = now

    def flush(self) -> None:
        if not self.episodes["episode_id"]:
            return
        name = store.chunk_name(self.written["chunks"])
        # steps first: an episodes chunk is only ever written once its steps are on disk
        store.write_table(store.steps_table(self.steps, self.info_fields, self.layout), self.out / store.STEPS / name)
        store.write_table(store.episodes_table(self.episodes), self.out / store.EPISODES / name)
        self.written["chunks"] += 1
        self.written["episodes"] += len(self.episodes["episode_id"])
        self.written["steps"] += len(self.steps["episode_id"])
        self._new_buffers()


def record(
    policy: Any,
    make_env: Any,
    out: Path,
    *,
    episodes: int,
    first_seed: int,
    deterministic: bool,
    model_label: str,
    stage_label: str,
    manifest_extra: dict[str, Any],
    n_parallel: int = 8,
    chunk_episodes: int = 200,
    obs_transform: Any = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Play ``episodes`` episodes (the evaluation loop, with a recording observer) and write them
    to ``out`` in chunks; returns the manifest."""
    from gymnasium import spaces

    from rlft.evaluation import evaluate

    probe = make_env()
    try:
        first_obs, first_info = probe.reset(seed=first_seed)
        continuous = isinstance(probe.action_space, spaces.Box)
    finally:
        probe.close()
    layout = {**store.obs_layout(first_obs), "action_dtype": "float32" if continuous else "int64"}
    info_fields = _info_fields(first_info)
    manifest = {
        "model": model_label,
        "stage": stage_label,
        **layout,
        "info_fields": info_fields,
        "first_seed": first_seed,
        "deterministic": deterministic,
        "episodes_requested": episodes,
        **manifest_extra,
    }
    (out / store.STEPS).mkdir(parents=True, exist_ok=True)
    (out / store.EPISODES).mkdir(parents=True, exist_ok=True)
    store.write_manifest(out, {**manifest, "complete": False})
    recorder = _Recorder(
        out,
        info_fields,
        layout,
        {"model": model_label, "stage": stage_label},
        first_seed,
        episodes,
        chunk_episodes,
        progress,
    )
    evaluate(
        policy,
        make_env,
        range(first_seed, first_seed + episodes),
        deterministic=deterministic,
        n_parallel=n_parallel,
        obs_transform=obs_transform,
        observer=recorder,
    )
    recorder.flush()
    written = recorder.written
    manifest.update(
        complete=True,
        episodes=written["episodes"],
        steps=written["steps"],
        chunks=written["chunks"],
        wall_time_s=round(time.monotonic() - recorder.t0, 2),
    )
    store.write_manifest(out, manifest)
    return manifest


def run(argv: Sequence[str]) -> dict[str, Any]:
    """The CLI's work: resolve the model and env as ``rlft.evaluate`` does, then record."""
    from rlft.assess import judge
    from rlft.assess.sources import resolve_source
    from rlft.envs.factory import env_factory
    from rlft.envs.normalization import ObservationNormalizer, has_normalization
    from rlft.runs.provenance import package_versions
    from rlft.traces.cli import RECORD

    args = RECORD.parse(argv)
    if args.out.exists() and any(args.out.iterdir()):
        raise ConfigError(f"out={args.out} is not empty: record into a new folder")
    if any(item.startswith("stages=") for item in args.overrides):
        raise ConfigError("record plays one stage: use stage=K (or stage_overrides.*), not stages=")
    source = resolve_source(args.model, str(args.paths_registry), args.which, args.checkpoint, args.trust_pickle)
    (target,) = judge.stage_targets(source, args.overrides, None)
    policy = judge.prepare(source, [target])
    transform = (
        ObservationNormalizer(source.model_dir) if source.model_dir and has_normalization(source.model_dir) else None
    )
    from omegaconf import OmegaConf

    extra = {
        "model_spec": source.spec,
        "model_kind": source.kind,
        "env": OmegaConf.to_container(target.cfg.env),
        "stage_config": OmegaConf.to_container(target.cfg.stage),
        "stage_overrides": OmegaConf.to_container(target.cfg.stage_overrides),
        "packages": package_versions(),
    }
    return record(
        policy,
        env_factory(target.cfg),
        args.out,
        episodes=args.episodes,
        first_seed=args.first_seed,
        deterministic=args.deterministic,
        model_label=source.label,
        stage_label=target.label,
        manifest_extra=extra,
        n_parallel=target.cfg.eval.n_envs,
        chunk_episodes=args.chunk,
        obs_transform=transform,
    )
