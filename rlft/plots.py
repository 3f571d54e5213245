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
        ax.plot([e["timesteps"] for e in points], [e[key] for e in points], marker="o", markersize=3,
                label=f"stage {stage['id']}{'' if stage['promoted'] else ' (not promoted)'}")
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
