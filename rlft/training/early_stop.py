"""Early stopping on any evaluation metric; pure logic, its state saved in checkpoints."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from omegaconf import DictConfig


@dataclass
class EarlyStopState:
    best: float | None = None
    evals_since_best: int = 0
    evals_beyond_threshold: int = 0


class EarlyStopper:
    """Decides after each evaluation whether to stop, and says why (see ``EarlyStopConfig``)."""

    def __init__(self, cfg: DictConfig, state: dict[str, Any] | None = None) -> None:
        self.metric: str | None = cfg.metric
        self.sign = 1.0 if cfg.mode == "max" else -1.0
        self.target = cfg.target
        self.threshold = cfg.threshold
        self.patience = cfg.patience
        self.min_delta = cfg.min_delta
        self.state = EarlyStopState(**(state or {}))

    @property
    def enabled(self) -> bool:
        return self.metric is not None

    def _reached(self, value: float, level: float) -> bool:
        return self.sign * (value - level) >= 0

    def update(self, summary: dict[str, Any]) -> str | None:
        """Feed one evaluation summary; return the reason to stop, or None to go on."""
        if self.metric is None:  # not enabled
            return None
        value = summary.get(self.metric)
        if value is None:
            return None
        s = self.state
        if s.best is None or self.sign * (value - s.best) > self.min_delta:
            s.best, s.evals_since_best = value, 0
        else:
            s.evals_since_best += 1
        if self.target is not None and self._reached(value, self.target):
            return f"{self.metric}={value:.4g} reached early_stop.target={self.target}"
        if self.patience is None:
            return None
        if self.threshold is not None:
            s.evals_beyond_threshold = s.evals_beyond_threshold + 1 if self._reached(value, self.threshold) else 0
            if s.evals_beyond_threshold >= self.patience:
                return (
                    f"{self.metric} stayed at or beyond early_stop.threshold={self.threshold} for "
                    f"{self.patience} evaluations (last {value:.4g})"
                )
        elif s.evals_since_best >= self.patience:
            return (
                f"{self.metric} did not improve by more than {self.min_delta} for {self.patience} "
                f"evaluations (best {s.best:.4g})"
            )
        return None

    def state_dict(self) -> dict[str, Any]:
        return asdict(self.state)
