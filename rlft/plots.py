"""Plots written into run folders (matplotlib with the Agg backend: no display needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rlft.io import atomic_path


def plot_learning_curve(metrics: dict[str, Any], path: Path) -> Path | None:
    """Evaluation success rate (or mean reward) against timesteps; None if nothing to plot."""
    history = metrics.get("eval") or []
    if not history:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

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
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    plt.close(fig)
    return path
