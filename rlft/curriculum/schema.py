"""The ``curriculum`` block: schema and checks (every selected stage's own config passes the
single-run checks). Light: the plan and handoff modules are imported when validating."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, List, Optional, cast

from omegaconf import DictConfig, OmegaConf

from rlft.config.checks import one_of, positive
from rlft.config.schema import NONE
from rlft.errors import ConfigError

ON_FAIL = ("stop", "continue")


@dataclass
class PromotionConfig:
    """When a curriculum stage is good enough to move on: ``metric`` (``mode`` max: >=, min: <=)
    ``threshold`` on a deterministic evaluation of at least ``episodes`` episodes.

    ``early``: end the stage at the first periodic evaluation that meets the rule (the stage's
    evaluations then use at least ``episodes`` episodes); otherwise train the stage's whole budget
    and decide on the final evaluation.
    """

    metric: str = "success_rate"
    mode: str = "max"
    threshold: float = 0.9
    episodes: int = 100
    early: bool = True


@dataclass
class CurriculumConfig:
    """Ordered stages, each starting from the previous stage's model (``rlft.curriculum``).

    ``stages`` entries (see ``rlft.curriculum.plan`` for the keys and the classic per-stage
    layout it also accepts) carry their own budget, hparams overrides, promotion rule and early
    stopping; ``promotion`` is the default rule of entries that name none.
    """

    name: str = NONE
    stages: List[Any] = field(default_factory=list)
    promotion: PromotionConfig = field(default_factory=PromotionConfig)
    handoff: str = "final"  # final | best: which model of a stage the next stage starts from
    on_fail: str = "stop"  # stop | continue: what a stage that misses its promotion rule does
    start: Optional[str] = None  # first stage to run (a stage name from the list); null = the first
    stop: Optional[str] = None  # last stage to run (inclusive); null = the last
    init: Optional[str] = None  # older spelling of the top-level init= (a model source for the first stage)
    max_timesteps_per_stage: Optional[int] = None  # caps every stage's budget (smoke tests)


def require_enabled(cfg: DictConfig) -> None:
    """Stages or a ``curriculum.init`` given without a curriculum (no ``curriculum=<name>``) would
    be ignored by one plain run of the base config: refused instead."""
    if cfg.curriculum.name == NONE and cfg.curriculum.init:
        raise ConfigError(
            f"curriculum.init={cfg.curriculum.init} is set but no curriculum is enabled: it would be ignored; "
            "start a plain run from it with init=..., or add curriculum=<option of conf/curriculum/>"
        )
    if cfg.curriculum.name == NONE and cfg.curriculum.stages:
        raise ConfigError(
            "curriculum.stages is set but no curriculum is enabled (curriculum.name=none): a config that "
            "sets curriculum stages without enabling a curriculum is refused, never silently trained as "
            "one run; add curriculum=<option of conf/curriculum/> or curriculum.name=<name>"
        )


def whole_curriculum_hint(cfg: DictConfig) -> str:
    """What ``stage=all`` without a curriculum should add: the env's own curriculum (the option
    named like the env), else one of the curricula there are."""
    from rlft.config.options import has_option, option_names

    env = cfg.env.name
    if has_option("curriculum", env):
        return f"add curriculum={env} (the env's own curriculum) or choose another with curriculum=<name>"
    names = ", ".join(n for n in option_names("curriculum") if n != NONE)
    return (
        f"env {env!r} has no curriculum of its own (conf/curriculum/{env}.yaml); "
        f"choose one with curriculum=<name> ({names})"
    )


def _env_identity(stage_cfg: DictConfig) -> str:
    """What decides a stage's env spaces: the env block (but its count) and the constructor kwargs."""
    from rlft.envs.factory import env_kwargs

    block = cast("dict[str, Any]", OmegaConf.to_container(stage_cfg.env, resolve=True))
    env = {k: v for k, v in block.items() if k != "n_envs"}
    return json.dumps([env, env_kwargs(stage_cfg)], sort_keys=True, default=repr)


def validate_curriculum(cfg: DictConfig) -> None:
    """Every selected stage's own config passes the single-run checks, its env builds, and every
    stage's model spaces are the first stage's (each stage starts from the previous stage's model,
    :mod:`rlft.envs.spaces`): one env is built per distinct set of env settings."""
    from rlft.curriculum.handoff import HANDOFFS, init_key, resolve_init
    from rlft.curriculum.plan import plan_curriculum, stage_config
    from rlft.envs.factory import probe_spaces
    from rlft.envs.spaces import model_specs, obs_clip
    from rlft.training.schema import validate_hparams, validate_run_settings, validate_spaces

    one_of(cfg, "curriculum.handoff", HANDOFFS)
    one_of(cfg, "curriculum.on_fail", ON_FAIL)
    positive(cfg, "curriculum.max_timesteps_per_stage")
    source = None if cfg.resume else resolve_init(cfg)
    probed: dict[str, tuple[Any, Any]] = {}
    first: tuple[str, tuple[Any, Any], DictConfig] | None = None  # the first stage's id, spaces and config
    for plan in plan_curriculum(cfg):
        stage_cfg = stage_config(cfg, plan)
        try:
            validate_hparams(stage_cfg)
            validate_run_settings(stage_cfg)
            key = _env_identity(stage_cfg)
            if key not in probed:
                probed[key] = probe_spaces(stage_cfg)
        except ConfigError as exc:
            raise ConfigError(f"curriculum stage {plan.id}: {exc}") from None
        spaces = probed[key]
        if first is None:
            first = (plan.id, spaces, stage_cfg)
        held = model_specs(*first[1], obs_clip(first[2].env)), model_specs(*spaces, obs_clip(stage_cfg.env))
        for index, kind in enumerate(("observation", "action")):
            if held[0][index] != held[1][index]:  # as the model holds them: a channel-first twin fits
                raise ConfigError(
                    f"curriculum stages {first[0]} and {plan.id} have different {kind} spaces ({first[1][index]} "
                    f"vs {spaces[index]}): the network cannot carry over from one stage to the next; keep "
                    "every stage's env spaces the same (vary what the env does, not what it shows or takes)"
                )
    if source is not None and first is not None:
        from rlft.champions.sources import check_source_fits

        check_source_fits(source, *first[1], init_key(cfg)[0])  # type: ignore[index]
    if first is not None:  # every stage has the first one's action space, and the same algorithm
        try:
            validate_spaces(first[2])
        except ConfigError as exc:
            raise ConfigError(f"curriculum stage {first[0]}: {exc}") from None
