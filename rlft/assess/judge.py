"""Evaluate models over stages on shared fixed seeds, with intervals.

Every model plays episode ``i`` of a stage from ``reset(seed=eval.seed + i)``, so two models (or a
model before and after a fine-tune) are compared episode by episode (paired). Success rates get
Wilson intervals, mean rewards and paired differences bootstrap intervals.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from omegaconf import DictConfig, OmegaConf

from rlft.assess.sources import Source, check_runs_on
from rlft.config.checks import seed, sound_settings
from rlft.config.complete import complete_from_model
from rlft.config.compose import compose_config
from rlft.config.metrics import is_info_metric
from rlft.config.options import load_option, option_names
from rlft.config.schema import on_schema
from rlft.errors import ConfigError
from rlft.scoring import evaluate_on, metric_of, paired_change, stage_label, summarise  # noqa: F401  (judge's API)


def info_metrics(stages: Sequence[dict[str, Any]]) -> list[str]:
    """Every ``info/`` metric any of ``stages`` reports, in the order they first appear (the env's
    episode-end numbers: CurveTrace's endpoint error, coverage and failure shares, a user env's own)."""
    return list(dict.fromkeys(name for stage in stages for name in stage if is_info_metric(name)))


@dataclass(frozen=True)
class StageTarget:
    label: str  # "3", "3+overrides", or the model's own stage
    cfg: DictConfig


def parse_stages(value: str | Sequence[str] | None) -> list[str] | None:
    """``[1,5,11]``, ``1,5,11``, ``3`` or ``all`` (or those already split into a list) -> stage
    option names; None when not given."""
    if value is None:
        return None
    if not isinstance(value, str):
        value = ",".join(value)
    text = value.strip().strip("[]").replace(" ", "")
    if text == "all":
        return sorted((n for n in option_names("stage") if n.isdigit()), key=int)
    names = [part.strip("'\"") for part in text.split(",") if part]
    if not names:
        raise ConfigError(f"stages={value} is empty: list at least one stage, e.g. stages=[1,5]")
    return names


def stage_targets(source: Source, overrides: Sequence[str], stages: list[str] | None) -> list[StageTarget]:
    """The env settings to evaluate on: the model's env (unless ``env=`` was given) with each of
    ``stages`` (stage options as shipped, plus the user's ``stage_overrides``), or else the model's
    own stage (with its overrides and the user's)."""
    user = compose_config(overrides)
    sound_settings(user)  # an unknown +key or a NaN is refused here: nothing else reads them
    seed(user, "eval.seed")
    cfg = complete_from_model(user, overrides, source.config) if source.config is not None else user
    if stages is None:
        return [StageTarget(stage_label(cfg), cfg)]
    targets = []
    for name in stages:
        plain = OmegaConf.to_container(cfg, resolve=True)
        assert isinstance(plain, dict)
        plain.update(
            stage=OmegaConf.to_container(load_option("stage", name, "stages")),
            stage_overrides=OmegaConf.to_container(user.stage_overrides, resolve=True),
        )
        stage_cfg = on_schema(plain)
        targets.append(StageTarget(stage_label(stage_cfg), stage_cfg))
    return targets


def record_settings(
    episodes: int, deterministic: bool, overrides: Sequence[str], targets: list[StageTarget]
) -> dict[str, Any]:
    """What an evaluation or a comparison record says about how it was made (the same fields in both)."""
    from rlft.runs.provenance import package_versions

    return {
        "episodes": episodes,
        "deterministic": deterministic,
        "eval_seed": targets[0].cfg.eval.seed,
        "env": targets[0].cfg.env.name,
        "overrides": list(overrides),
        "packages": package_versions(),
    }


def prepare(source: Source, targets: list[StageTarget]) -> Any:
    """Load the policy once and check it runs on every target env (before anything is written)."""
    from rlft.envs.factory import probe_spaces

    policy = source.load(targets[0].cfg)
    for target in targets:
        check_runs_on(source, policy, probe_spaces(target.cfg), f"stage {target.label}")
    return policy


def evaluate_stages(
    source: Source, policy: Any, targets: list[StageTarget], episodes: int, deterministic: bool
) -> list[dict[str, Any]]:
    return [
        {"stage": target.label, **summarise(evaluate_on(target.cfg, policy, source.model_dir, episodes, deterministic))}
        for target in targets
    ]
