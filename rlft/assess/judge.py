"""Evaluate models over stages on shared fixed seeds, with intervals.

Every model plays episode ``i`` of a stage from ``reset(seed=eval.seed + i)``, so two models (or a
model before and after a fine-tune) are compared episode by episode (paired). Success rates get
Wilson intervals, mean rewards and paired differences bootstrap intervals.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from omegaconf import DictConfig, OmegaConf

from rlft.assess.sources import Source, check_runs_on
from rlft.config.compose import compose_config
from rlft.config.complete import complete_from_model
from rlft.config.options import load_option, option_names
from rlft.config.schema import schema_node
from rlft.errors import ConfigError
from rlft.stats import bootstrap_mean, probability_of_improvement, wilson

# CurveTrace's episode-end fields, reported per stage when the env gives them (the four failure
# shares add up to 1 - success)
ENV_METRICS = ("mean_endpoint_error", "mean_coverage", "mean_early_stop", "mean_late_stop", "mean_lost",
               "mean_stuck")


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


def stage_label(cfg: DictConfig) -> str:
    """``3``, or ``3+overrides`` when stage overrides apply."""
    overrides = OmegaConf.to_container(cfg.stage_overrides, resolve=True)
    return f"{cfg.stage.name}" + ("+overrides" if overrides else "")


def stage_targets(source: Source, overrides: Sequence[str], stages: list[str] | None) -> list[StageTarget]:
    """The env settings to evaluate on: the model's env (unless ``env=`` was given) with each of
    ``stages`` (stage options as shipped, plus the user's ``stage_overrides``), or else the model's
    own stage (with its overrides and the user's)."""
    user = compose_config(overrides)
    cfg = complete_from_model(user, overrides, source.config) if source.config is not None else user
    if stages is None:
        return [StageTarget(stage_label(cfg), cfg)]
    targets = []
    for name in stages:
        plain = OmegaConf.to_container(cfg, resolve=True)
        plain.update(stage=OmegaConf.to_container(load_option("stage", name, "stages")),
                     stage_overrides=OmegaConf.to_container(user.stage_overrides, resolve=True))
        stage_cfg = OmegaConf.merge(schema_node(), plain)
        targets.append(StageTarget(stage_label(stage_cfg), stage_cfg))
    return targets


def summarise(result: Any) -> dict[str, Any]:
    """Success with its Wilson interval, mean reward with a bootstrap interval, length, env metrics
    and the per-episode outcomes (for pairing)."""
    summary = result.summary()
    if result.successes is not None:
        summary["success_ci95"] = list(wilson(sum(result.successes), result.episodes))
        summary["successes"] = [int(s) for s in result.successes]
    summary["mean_reward_ci95"] = list(bootstrap_mean(result.rewards))
    summary["rewards"] = [round(r, 4) for r in result.rewards]
    summary["lengths"] = list(result.lengths)
    shares = result.action_shares()
    if shares:
        summary["action_shares"] = shares
    return summary


def prepare(source: Source, targets: list[StageTarget]) -> Any:
    """Load the policy once and check it runs on every target env (before anything is written)."""
    from rlft.envs.factory import probe_spaces

    policy = source.load(targets[0].cfg)
    for target in targets:
        check_runs_on(source, policy, probe_spaces(target.cfg), f"stage {target.label}")
    return policy


def evaluate_on(cfg: DictConfig, policy: Any, model_dir: Path | None, episodes: int,
                deterministic: bool | None = None) -> Any:
    """``episodes`` episodes of ``cfg``'s env from seeds ``eval.seed, eval.seed + 1, ...``, with the
    model folder's observation normalisation when it has one; an :class:`~rlft.evaluation.EvalResult`."""
    from rlft.envs.factory import env_factory
    from rlft.envs.normalization import ObservationNormalizer, has_normalization
    from rlft.evaluation import evaluate

    transform = ObservationNormalizer(model_dir) if model_dir is not None and has_normalization(model_dir) else None
    return evaluate(policy, env_factory(cfg), range(cfg.eval.seed, cfg.eval.seed + episodes),
                    deterministic=cfg.eval.deterministic if deterministic is None else deterministic,
                    n_parallel=cfg.eval.n_envs, obs_transform=transform)


def evaluate_stages(source: Source, policy: Any, targets: list[StageTarget], episodes: int,
                    deterministic: bool) -> list[dict[str, Any]]:
    return [{"stage": target.label, **summarise(evaluate_on(target.cfg, policy, source.model_dir, episodes,
                                                             deterministic))} for target in targets]


def metric_of(stage: dict[str, Any]) -> str:
    return "success_rate" if stage.get("success_rate") is not None else "mean_reward"


def paired_change(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """B - A on one stage: the difference, its paired bootstrap interval, P(B better)."""
    if a.get("successes") is not None and b.get("successes") is not None:
        metric, xs, ys = "success_rate", a["successes"], b["successes"]
    else:
        metric, xs, ys = "mean_reward", a["rewards"], b["rewards"]
    diffs = [y - x for x, y in zip(xs, ys)]
    return {"metric": metric, "delta": b[metric] - a[metric], "delta_ci95": list(bootstrap_mean(diffs)),
            "p_improvement": probability_of_improvement(diffs)}
