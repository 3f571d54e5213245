"""Confidence intervals for evaluation results (DESIGN.md section 5), numpy only.

Rates get Wilson score intervals; means and paired differences get percentile bootstrap
intervals with a fixed seed, so the same results always print the same interval.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

Z95 = 1.959963984540054


def finite_or_none(value: float) -> float | None:
    """``value``, or None when it is NaN or infinite (a diverged loss): JSON has no NaN, and rlft
    writes strict JSON, so an undefined figure is recorded as ``null``."""
    return float(value) if math.isfinite(value) else None


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """95% Wilson score interval of a success rate (sensible at 0/n and n/n, unlike the normal one)."""
    if n <= 0:
        return (0.0, 1.0)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    low = 0.0 if successes == 0 else max(0.0, centre - half)  # exact at the edges (no float dust)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return (low, high)


def _bootstrap_means(values: Sequence[float], samples: int, seed: int) -> np.ndarray:
    data = np.asarray(values, dtype=float)
    rng = np.random.default_rng(seed)
    return data[rng.integers(0, data.size, size=(samples, data.size))].mean(axis=1)


def bootstrap_mean(values: Sequence[float], *, samples: int = 2000, seed: int = 0) -> tuple[float, float]:
    """95% percentile bootstrap interval of the mean of ``values`` (e.g. paired differences)."""
    if len(values) == 0:
        return (float("nan"), float("nan"))
    low, high = np.percentile(_bootstrap_means(values, samples, seed), [2.5, 97.5])
    return (float(low), float(high))


def probability_of_improvement(differences: Sequence[float], *, samples: int = 2000, seed: int = 0) -> float:
    """Bootstrap probability that the mean paired difference (B - A) is above 0 (ties count half)."""
    if len(differences) == 0:
        return float("nan")
    means = _bootstrap_means(differences, samples, seed)
    return float(np.mean(means > 0) + 0.5 * np.mean(means == 0))
