"""Learning-rate schedules as module-level classes with float attributes, so saved models unpickle
them (SB3 calls a schedule with ``progress_remaining``, 1 at the start of training, 0 at the end)."""

from __future__ import annotations

import math


class CyclicalSchedule:
    """Cosine annealing with warm restarts: ``cycles`` times from ``high`` down to ``low``.

    Fine-tunes use it to leave a sharp minimum and settle again, several times per run.
    """

    def __init__(self, high: float, low: float, cycles: int) -> None:
        self.high, self.low, self.cycles = float(high), float(low), int(cycles)

    def __call__(self, progress_remaining: float) -> float:
        phase = ((1.0 - progress_remaining) * self.cycles) % 1.0
        return self.low + 0.5 * (self.high - self.low) * (1.0 + math.cos(math.pi * phase))

    def __repr__(self) -> str:
        return f"CyclicalSchedule(high={self.high}, low={self.low}, cycles={self.cycles})"
