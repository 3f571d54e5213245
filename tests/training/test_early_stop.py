"""Early stopping decisions, one rule at a time."""

from __future__ import annotations

from omegaconf import OmegaConf

from rlft.training.early_stop import EarlyStopper
from rlft.training.schema import EarlyStopConfig


def _stopper(**fields) -> EarlyStopper:
    return EarlyStopper(OmegaConf.structured(EarlyStopConfig(**fields)))


def _feed(stopper: EarlyStopper, values: list[float], metric: str = "success_rate") -> list[str | None]:
    return [stopper.update({metric: v}) for v in values]


def test_disabled_never_stops() -> None:
    assert _feed(_stopper(), [0.0, 1.0, 1.0]) == [None, None, None]


def test_target_stops_at_first_evaluation_reaching_it() -> None:
    reasons = _feed(_stopper(metric="success_rate", target=0.9), [0.5, 0.89, 0.9, 0.95])
    assert reasons[:2] == [None, None] and "target" in reasons[2]


def test_min_mode_target() -> None:
    reasons = _feed(_stopper(metric="mean_length", mode="min", target=10), [30, 12, 9], metric="mean_length")
    assert reasons[:2] == [None, None] and reasons[2] is not None


def test_threshold_needs_consecutive_evaluations() -> None:
    stopper = _stopper(metric="success_rate", threshold=0.9, patience=2)
    assert _feed(stopper, [0.95, 0.5, 0.92]) == [None, None, None]
    assert "threshold" in stopper.update({"success_rate": 0.97})


def test_patience_without_threshold_counts_evaluations_without_improvement() -> None:
    stopper = _stopper(metric="mean_reward", patience=2, min_delta=1.0)
    assert _feed(stopper, [10, 15, 15.5], metric="mean_reward") == [None, None, None]
    assert "did not improve" in stopper.update({"mean_reward": 14})


def test_state_round_trip_continues_counting() -> None:
    stopper = _stopper(metric="success_rate", threshold=0.9, patience=3)
    _feed(stopper, [0.95, 0.96])
    restored = EarlyStopper(
        OmegaConf.structured(EarlyStopConfig(metric="success_rate", threshold=0.9, patience=3)), stopper.state_dict()
    )
    assert restored.update({"success_rate": 0.99}) is not None


def test_missing_metric_is_ignored() -> None:
    assert _stopper(metric="success_rate", target=0.5).update({"success_rate": None}) is None
