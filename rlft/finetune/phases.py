"""Progressive fine-tuning: a list of phases, each a budget and a mix of stages played side by side.

``finetune.phases: [{timesteps: 30000, mix: {original: 0.5, target: 0.5}}, {timesteps: 70000,
mix: {target: 1}}]`` eases the champion into the new stage. A mix names ``target`` (the fine-tune's
own env settings), ``original`` (the champion's stage) or a stage option (``"2"``, played as
shipped); the training envs are split by the shares. The budget is the phases' sum. A phase starts
at the first rollout boundary at or past its first step; the switch swaps the parts of the
training ConcatVecEnv in place and resets it, so the model, its optimizer and wrappers carry on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
from omegaconf import DictConfig, OmegaConf

from rlft.config.options import has_option, load_option, option_names
from rlft.errors import ConfigError

if TYPE_CHECKING:
    from stable_baselines3.common.callbacks import BaseCallback

log = logging.getLogger("rlft")

TARGET, ORIGINAL = "target", "original"


@dataclass(frozen=True)
class Phase:
    timesteps: int
    mix: tuple[tuple[str, float], ...]  # (stage key, share), shares > 0 and summing to 1

    def label(self) -> str:
        return " + ".join(f"{share:.0%} {key}" for key, share in self.mix)


def parse_phases(cfg: DictConfig) -> list[Phase]:
    """``finetune.phases`` checked and normalised; one-line errors name the phase and the key."""
    raw = OmegaConf.to_container(cfg.finetune.phases, resolve=True)
    assert isinstance(raw, list)  # the schema types finetune.phases as a list
    phases = []
    for i, entry in enumerate(raw):
        where = f"finetune.phases[{i}]"
        if not isinstance(entry, dict) or set(entry) != {"timesteps", "mix"}:
            raise ConfigError(
                f"{where}={entry!r} must be a mapping with exactly timesteps and mix, e.g. "
                "{timesteps: 50000, mix: {target: 0.7, original: 0.3}}"
            )
        steps, mix = entry["timesteps"], entry["mix"]
        if not isinstance(steps, int) or isinstance(steps, bool) or steps <= 0:
            raise ConfigError(f"{where}.timesteps={steps!r} must be a positive integer")
        if not isinstance(mix, dict) or not mix:
            raise ConfigError(f"{where}.mix={mix!r} must map stages (target, original or a stage option) to shares")
        for key, share in mix.items():
            key = str(key)
            if key not in (TARGET, ORIGINAL) and not has_option("stage", key):
                stages = sorted(
                    (n for n in option_names("stage") if n not in ("none", "all")), key=lambda n: (len(n), n)
                )
                raise ConfigError(
                    f"{where}.mix: {key!r} is not a stage: use target, original or one of {', '.join(stages)}"
                )
            if not isinstance(share, (int, float)) or isinstance(share, bool) or share < 0:
                raise ConfigError(f"{where}.mix.{key}={share!r} must be a share >= 0")
        total = float(sum(mix.values()))
        if total <= 0:
            raise ConfigError(f"{where}.mix has no positive share")
        phases.append(Phase(steps, tuple((str(k), v / total) for k, v in mix.items() if v > 0)))
    return phases


def boundaries(phases: list[Phase]) -> list[int]:
    """The first step of each phase (0, t1, t1 + t2, ...)."""
    return [int(b) for b in np.cumsum([0] + [p.timesteps for p in phases[:-1]])]


def phase_at(phases: list[Phase], step: int) -> int:
    return max(i for i, start in enumerate(boundaries(phases)) if start <= step)


def stage_config(cfg: DictConfig, original: DictConfig, key: str) -> DictConfig:
    """The env settings a mix key stands for."""
    if key == TARGET:
        return cfg
    if key == ORIGINAL:
        return original
    from rlft.config.schema import on_schema

    other = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(other, dict)
    other.update(stage=OmegaConf.to_container(load_option("stage", key, "finetune.phases mix")), stage_overrides={})
    return on_schema(other)


def phase_switcher(
    phases: list[Phase], build: Callable[[Phase, int], list[Any]], start_step: int, seed: int
) -> "BaseCallback":
    """An SB3 callback that, at the end of a rollout past a phase boundary, swaps in the next
    phase's envs (``build(phase, seed) -> VecEnv parts``) and resets the training env, seeded with
    ``seed`` + the step (as a resume would be)."""
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.vec_env import VecEnvWrapper

    from rlft.envs.concat import ConcatVecEnv

    class PhaseSwitcher(BaseCallback):
        def __init__(self) -> None:
            super().__init__(verbose=0)
            self.current = phase_at(phases, start_step)

        def _on_step(self) -> bool:
            return True

        def _on_rollout_end(self) -> None:
            wanted = phase_at(phases, self.model.num_timesteps)
            if wanted == self.current:
                return
            venv = self.model.get_env()
            assert venv is not None  # the model is learning on it
            inner = venv
            while not isinstance(inner, ConcatVecEnv):
                assert isinstance(inner, VecEnvWrapper)
                inner = inner.venv
            step = self.model.num_timesteps
            inner.replace_parts(build(phases[wanted], seed + step))
            venv.seed(seed + step)
            self.model._last_obs = venv.reset()  # type: ignore[assignment]  # SB3's own _setup_learn does the same
            self.model._last_episode_starts = np.ones((venv.num_envs,), dtype=bool)
            self.current = wanted
            log.info(
                "phase %d of %d from step %d: %s",
                wanted + 1,
                len(phases),
                self.model.num_timesteps,
                phases[wanted].label(),
            )

    return PhaseSwitcher()
