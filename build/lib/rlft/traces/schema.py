"""The ``distill`` block: schema and checks (the trace store exists and fits the env)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from omegaconf import DictConfig

from rlft.config.checks import positive, require


@dataclass
class DistillConfig:
    """Behaviour cloning on recorded traces (``distill=<trace dir>``, see ``rlft.traces``).

    The policy (fresh, or ``champion=<base>``'s) is trained to give the traces' actions (cross
    entropy, plain torch loop), then its critic is fitted to the traces' discounted returns so RL
    can continue without a value shock; ``rl_timesteps`` > 0 continues with RL on the env.
    """

    traces: Optional[str] = None
    epochs: int = 10
    batch_size: int = 256
    lr: float = 1.0e-3
    critic_epochs: int = 3
    validation: float = 0.1  # share of episodes held out to report the imitation accuracy
    max_steps: Optional[int] = 2_000_000  # steps loaded into memory at most (the first episodes)
    rl_timesteps: int = 0


def validate_distill(cfg: DictConfig) -> None:
    """The trace store exists, its chunks agree, and its observations and actions fit the env."""
    from rlft.envs.factory import probe_spaces
    from rlft.traces.distill import check_traces_fit

    d = cfg.distill
    for key in ("epochs", "batch_size", "lr"):
        positive(cfg, f"distill.{key}")
    require(d.critic_epochs >= 0, f"distill.critic_epochs={d.critic_epochs} must be >= 0")
    require(d.rl_timesteps >= 0, f"distill.rl_timesteps={d.rl_timesteps} must be >= 0")
    require(0 <= d.validation < 1, f"distill.validation={d.validation} must be in [0, 1)")
    require(d.max_steps is None or d.max_steps > 0, f"distill.max_steps={d.max_steps} must be > 0")
    check_traces_fit(Path(d.traces), *probe_spaces(cfg))
