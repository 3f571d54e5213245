"""Plots written into run folders (matplotlib with the Agg backend: no display needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rlft.io import atomic_path


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig: Any, path: Path) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    _pyplot().close(fig)
    return path


def plot_learning_curve(metrics: dict[str, Any], path: Path) -> Path | None:
    """Evaluation success rate (or mean reward) against timesteps; None if nothing to plot."""
    history = metrics.get("eval") or []
    if not history:
        return None
    plt = _pyplot()
    steps = [e["timesteps"] for e in history]
    has_success = all(e.get("success_rate") is not None for e in history)
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=110)
    if has_success:
        ax.plot(steps, [e["success_rate"] for e in history], marker="o", label="eval success rate")
        ax.set_ylim(-0.02, 1.02)
        ax.set_ylabel("success rate")
    else:
        ax.plot(steps, [e["mean_reward"] for e in history], marker="o", label="eval mean reward")
        ax.set_ylabel("mean reward")
    ax.ticklabel_format(axis="x", useOffset=False)  # a late stage's steps read as they are
    ax.set_xlabel("timesteps")
    ax.set_title(metrics.get("experiment_name", "run"))
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return _save(fig, path)


def plot_curriculum(metrics: dict[str, Any], path: Path) -> Path | None:
    """Success rate (or mean reward) against global steps, one colour per stage, a dashed line at
    each stage boundary labelled with the stage and whether it was promoted."""
    stages = metrics.get("stages") or []
    history = metrics.get("eval") or []
    if not stages or not history:
        return None
    plt = _pyplot()
    key = "success_rate" if all(e.get("success_rate") is not None for e in history) else "mean_reward"
    fig, ax = plt.subplots(figsize=(8, 3.8), dpi=110)
    for stage in stages:
        points = [e for e in history if e.get("stage") == stage["id"]]
        ax.plot(
            [e["timesteps"] for e in points],
            [e[key] for e in points],
            marker="o",
            markersize=3,
            label=f"stage {stage['id']}{'' if stage['promoted'] else ' (not promoted)'}",
        )
        ax.axvline(stage["start_step"], color="grey", linestyle="--", linewidth=0.8)
    if key == "success_rate":
        ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("global timesteps")
    ax.set_ylabel(key.replace("_", " "))
    ax.set_title(f"curriculum {metrics.get('curriculum', '')}: {metrics.get('status', '')}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="lower right", ncol=2)
    fig.tight_layout()
    return _save(fig, path)


def plot_pre_post(pre_post: dict[str, Any], path: Path, title: str = "") -> Path | None:
    """Before / after bars per stage (target, original) with 95% intervals."""
    stages = [key for key in ("target", "original") if key in pre_post]
    if not stages:
        return None
    plt = _pyplot()
    metric = pre_post[stages[0]]["change"]["metric"]
    fig, ax = plt.subplots(figsize=(5.5, 3.5), dpi=110)
    width = 0.38
    for offset, (when, colour) in enumerate((("before", "#9aa5b1"), ("after", "#2b7bba"))):
        values = [pre_post[s][when][metric] for s in stages]
        intervals = [pre_post[s][when].get("success_ci95") for s in stages]
        errors = None
        if all(intervals):
            errors = [
                [v - lo for v, (lo, _) in zip(values, intervals)],
                [hi - v for v, (_, hi) in zip(values, intervals)],
            ]
        ax.bar(
            [i + (offset - 0.5) * width for i in range(len(stages))],
            values,
            width,
            yerr=errors,
            capsize=4,
            color=colour,
            label=when,
        )
    ax.set_xticks(range(len(stages)), [f"{s}\n{pre_post[s]['stage']}" for s in stages])
    if metric == "success_rate":
        ax.set_ylim(0, 1.05)
    ax.set_ylabel(metric.replace("_", " "))
    ax.set_title(title or "fine-tune: before / after", fontsize=9)
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return _save(fig, path)


def plot_stage_bars(models: dict[str, list[dict[str, Any]]], path: Path, title: str = "") -> Path | None:
    """Grouped bars: per stage, one bar per model (success rate with its Wilson interval, else mean
    reward with its bootstrap interval)."""
    if not models:
        return None
    plt = _pyplot()
    first = next(iter(models.values()))
    stages = [s["stage"] for s in first]
    metric = (
        "success_rate" if all(s.get("success_rate") is not None for m in models.values() for s in m) else "mean_reward"
    )
    interval = "success_ci95" if metric == "success_rate" else "mean_reward_ci95"
    fig, ax = plt.subplots(figsize=(max(4.5, 1.2 * len(stages) * max(1, len(models)) ** 0.5 + 2), 3.6), dpi=110)
    width = 0.8 / len(models)
    for k, (label, results) in enumerate(models.items()):
        values = [s[metric] for s in results]
        errors = [  # never negative (matplotlib refuses it), even for an interval that misses its value
            [max(0.0, v - s[interval][0]) for v, s in zip(values, results)],
            [max(0.0, s[interval][1] - v) for v, s in zip(values, results)],
        ]
        ax.bar(
            [i + (k - (len(models) - 1) / 2) * width for i in range(len(stages))],
            values,
            width,
            yerr=errors,
            capsize=3,
            label=label,
        )
    ax.set_xticks(range(len(stages)), [f"stage {s}" for s in stages])
    if metric == "success_rate":
        ax.set_ylim(0, 1.05)
    ax.set_ylabel(metric.replace("_", " ") + " (95% CI)")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    return _save(fig, path)


def _panels(count: int, width: float, height: float):
    """A row of ``count`` axes (one per stage)."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, count, figsize=(width * count + 0.6, height), dpi=110, squeeze=False)
    return fig, list(axes[0])


def plot_learning_curves(
    panels: dict[str, dict[str, list[dict[str, Any]]]],
    path: Path,
    title: str = "",
    styles: dict[str, dict[str, Any]] | None = None,
    target: float | None = None,
) -> Path | None:
    """Evaluation histories of several runs, one panel per stage they were trained on
    (``{stage: {label: history}}``), so no axis mixes two stages (success rate, else mean reward).

    ``styles``: matplotlib line keywords per label (colour, linestyle); ``target``: a grey line there.
    """
    panels = {stage: {label: c for label, c in curves.items() if c} for stage, curves in panels.items()}
    panels = {stage: curves for stage, curves in panels.items() if curves}
    if not panels:
        return None
    entries = [e for curves in panels.values() for c in curves.values() for e in c]
    key = "success_rate" if all(e.get("success_rate") is not None for e in entries) else "mean_reward"
    fig, axes = _panels(len(panels), 5.2, 3.6)
    for ax, (stage, curves) in zip(axes, panels.items()):
        for label, curve in curves.items():
            style = {"marker": "o", "markersize": 3, **(styles or {}).get(label, {})}
            ax.plot([e["timesteps"] for e in curve], [e[key] for e in curve], label=label, **style)
        if target is not None:
            ax.axhline(target, color="grey", linewidth=0.8, alpha=0.6)
        if key == "success_rate":
            ax.set_ylim(-0.02, 1.02)
        ax.ticklabel_format(axis="x", useOffset=False)
        ax.set_xlabel("timesteps")
        ax.set_ylabel(f"eval {key.replace('_', ' ')}")
        ax.set_title(f"trained on stage {stage}", fontsize=9)
        ax.legend(fontsize=7 if len(curves) <= 6 else 6.5, ncol=1 if len(curves) <= 6 else 2)
        ax.grid(alpha=0.3)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return _save(fig, path)


def plot_action_shares(
    panels: dict[str, dict[str, dict[str, float]]], labels: dict[str, str], path: Path, title: str = ""
) -> Path | None:
    """Grouped bars, one panel per stage (``{stage: {model: {action key: share}}}``): how often each
    model takes each action. ``labels``: every action's key and tick label (``8 STOP``) from the
    env (:mod:`rlft.envs.actions`), so actions never taken still get their (empty) place."""
    panels = {stage: {m: shares for m, shares in models.items() if shares} for stage, models in panels.items()}
    panels = {stage: models for stage, models in panels.items() if models}
    if not panels:
        return None
    taken = {a for models in panels.values() for shares in models.values() for a in shares}
    actions = list(labels) + sorted(taken - set(labels), key=lambda a: tuple(int(p) for p in a.split(":")))
    n_models = max(len(models) for models in panels.values())
    fig, axes = _panels(len(panels), max(5.0, 0.4 * len(actions) * n_models + 2), 3.4)
    for ax, (stage, models) in zip(axes, panels.items()):
        width = 0.8 / len(models)
        for k, (label, shares) in enumerate(models.items()):
            ax.bar(
                [i + (k - (len(models) - 1) / 2) * width for i in range(len(actions))],
                [shares.get(a, 0.0) for a in actions],
                width,
                label=label,
            )
        ax.set_xticks(range(len(actions)), [labels.get(a, a) for a in actions], rotation=90 if len(actions) > 12 else 0)
        ax.set_xlabel("action")
        ax.set_ylabel("share of steps")
        ax.set_title(f"stage {stage}", fontsize=9)
        ax.legend(fontsize=7)
        ax.grid(axis="y", alpha=0.3)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    return _save(fig, path)


def plot_metric_against_parameters(columns: dict[str, list[Any]], values: list[Any], metric: str, path: Path) -> Path:
    """One panel per swept parameter: each job's final ``metric`` against its value (log axis
    when a positive numeric parameter spans two decades or more)."""
    plt = _pyplot()
    fig, axes = plt.subplots(1, len(columns), figsize=(3.6 * len(columns) + 0.8, 3.2), dpi=110, squeeze=False)
    for ax, (key, xs) in zip(axes[0], columns.items()):
        ax.scatter(xs, values, alpha=0.8)
        numeric = all(isinstance(x, (int, float)) for x in xs)
        if numeric and len(set(xs)) > 1 and min(xs) > 0 and max(xs) / min(xs) >= 100:
            ax.set_xscale("log")
        ax.set_xlabel(key)
        ax.set_ylabel(metric.replace("_", " "))
        ax.grid(alpha=0.3)
    fig.suptitle(f"final {metric.replace('_', ' ')} per job", fontsize=9)
    fig.tight_layout()
    return _save(fig, path)
