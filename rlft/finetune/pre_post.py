"""Did the fine-tune help, and what did it forget? Paired evaluation before and after.

The champion (before) and the fine-tuned model (after) play the same fixed-seed episodes on the
target stage (the fine-tune's env settings) and on the champion's original stage (its manifest's
env, stage and stage overrides). Success rates get Wilson intervals, the paired per-episode
differences a bootstrap interval; retention = after / before on the original stage.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from rlft.config.schema import on_schema
from rlft.envs.factory import env_kwargs
from rlft.evaluation import Policy
from rlft.scoring import evaluate_on, paired_change, stage_label, summarise

TARGET, ORIGINAL = "target", "original"
FORGET_TOLERANCE = 0.05  # DESIGN.md section 5: an original stage may not drop more than this


def original_config(cfg: DictConfig, manifest: dict[str, Any]) -> DictConfig:
    """``cfg`` with the env, stage and stage overrides the champion was trained on."""
    original = OmegaConf.to_container(cfg, resolve=True)
    assert isinstance(original, dict)
    original.update(env=manifest["env"], stage=manifest["stage"], stage_overrides=manifest["stage_overrides"])
    return on_schema(original)


def evaluate_stages(
    cfg: DictConfig, manifest: dict[str, Any], policy: Policy, model_dir: Path, episodes: int
) -> dict[str, dict[str, Any]]:
    """Summaries on the target stage and, when it differs, on the champion's original stage."""
    results = {TARGET: summarise(evaluate_on(cfg, policy, model_dir, episodes))}
    original = original_config(cfg, manifest)
    if env_kwargs(original) != env_kwargs(cfg) or original.env.id != cfg.env.id:
        results[ORIGINAL] = summarise(evaluate_on(original, policy, model_dir, episodes))
    return results


def assemble(cfg: DictConfig, manifest: dict[str, Any], before: dict, after: dict) -> dict[str, Any]:
    stages = {TARGET: stage_label(cfg), ORIGINAL: stage_label(original_config(cfg, manifest))}
    pre_post: dict[str, Any] = {
        key: {
            "stage": stages[key],
            "before": before[key],
            "after": after[key],
            "change": compare(before[key], after[key]),
        }
        for key in before
        if key in after
    }
    pre_post["episodes"] = before[TARGET]["episodes"]
    pre_post["verdict"] = verdict(pre_post)
    return pre_post


def compare(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Paired change of one stage (the same seeds in the same order): per-episode differences,
    their bootstrap interval, the probability of improvement and the retention after / before."""
    change = paired_change(before, after)
    if change["metric"] == "success_rate":
        change["retention"] = after["success_rate"] / before["success_rate"] if before["success_rate"] else None
    return change


def verdict(pre_post: dict[str, Any]) -> dict[str, Any]:
    target, original = pre_post[TARGET]["change"], pre_post.get(ORIGINAL, {}).get("change")
    improved = target["delta_ci95"] is not None and target["delta_ci95"][0] > 0
    forgot = original is not None and original["delta"] < -FORGET_TOLERANCE - 1e-9  # float dust at the edge
    return {
        "improved": improved,
        "forgot": forgot,
        "summary": ("improved" if improved else "no clear improvement")
        + " on the target stage; "
        + ("forgot on the original stage" if forgot else "kept the original stage")
        + (f" (tolerance {FORGET_TOLERANCE})" if original is not None else ""),
    }


def table(pre_post: dict[str, Any]) -> str:
    """The verdict table printed at the end of a fine-tune."""
    lines = [f"{'stage':<10}{'before':>18}{'after':>18}{'change [95% CI]':>28}"]
    for key in (TARGET, ORIGINAL):
        if key not in pre_post:
            continue
        part = pre_post[key]
        before, after, change = part["before"], part["after"], part["change"]
        metric = change["metric"]

        def cell(summary: dict[str, Any], metric: str = metric) -> str:
            ci = summary.get("success_ci95")
            return f"{summary[metric]:.3f}" + (f" [{ci[0]:.2f},{ci[1]:.2f}]" if ci else "")

        ci = change["delta_ci95"]
        shown = f"{change['delta']:+.3f}" + (f" [{ci[0]:+.2f},{ci[1]:+.2f}]" if ci else "")
        lines.append(f"{key + ' ' + part['stage']:<10}{cell(before):>18}{cell(after):>18}{shown:>28}")
    lines.append(pre_post["verdict"]["summary"])
    return "\n".join(lines)
