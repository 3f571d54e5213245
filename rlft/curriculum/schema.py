"""The ``curriculum`` block: schema and checks (every selected stage's own config passes the
single-run checks). Light: the plan and handoff modules are imported when validating."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, List, Optional

from omegaconf import DictConfig

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
    init: Optional[str] = None  # a run folder or model folder whose model starts the first stage
    max_timesteps_per_stage: Optional[int] = None  # caps every stage's budget (smoke tests)


def validate_curriculum(cfg: DictConfig) -> None:
    """Every selected stage's own config passes the single-run checks, its env builds, and its
    model spaces are the first stage's (each stage starts from the previous stage's model)."""
    from rlft.curriculum.handoff import HANDOFFS, resolve_init
    from rlft.curriculum.plan import plan_curriculum, stage_config
    from rlft.envs.factory import probe_spaces
    from rlft.envs.spaces import model_specs, obs_clip, spaces_mismatch
    from rlft.training.schema import validate_hparams, validate_run_settings, validate_spaces

    one_of(cfg, "curriculum.handoff", HANDOFFS)
    one_of(cfg, "curriculum.on_fail", ON_FAIL)
    positive(cfg, "curriculum.max_timesteps_per_stage")
    if cfg.curriculum.init and not cfg.resume:
        resolve_init(cfg.curriculum.init, cfg.curriculum.handoff, cfg.paths.registry)
    first: tuple[str, Any] | None = None  # the first stage's id and model specs
    for plan in plan_curriculum(cfg):
        stage_cfg = stage_config(cfg, plan)
        try:
            validate_hparams(stage_cfg)
            validate_run_settings(stage_cfg)
            validate_spaces(stage_cfg)
            env_spaces, clip = probe_spaces(stage_cfg), obs_clip(stage_cfg.env)
            if first is None:
                first = (plan.id, model_specs(*env_spaces, clip))
            elif (wrong := spaces_mismatch(first[1], env_spaces, clip)) is not None:
                raise ConfigError(f"stage {first[0]}'s model cannot carry on here: {wrong}")
        except ConfigError as exc:
            raise ConfigError(f"curriculum stage {plan.id}: {exc}") from None
