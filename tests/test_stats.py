"""Intervals: known values and behaviour at the edges."""

from __future__ import annotations

import pytest

from rlft.stats import bootstrap_mean, wilson


def test_wilson_matches_the_textbook_value() -> None:
    low, high = wilson(81, 100)
    assert low == pytest.approx(0.7222, abs=1e-3) and high == pytest.approx(0.8749, abs=1e-3)


def test_wilson_edges_stay_inside_zero_one_and_are_not_degenerate() -> None:
    assert wilson(0, 100)[0] == 0.0 and wilson(0, 100)[1] > 0.02
    assert wilson(100, 100)[1] == 1.0 and wilson(100, 100)[0] < 0.98
    assert wilson(0, 0) == (0.0, 1.0)


def test_bootstrap_is_deterministic_and_covers_the_mean() -> None:
    values = [0.0, 1.0] * 50
    assert bootstrap_mean(values) == bootstrap_mean(values)
    low, high = bootstrap_mean(values)
    assert low < 0.5 < high and high - low < 0.3
    assert bootstrap_mean([1.0] * 10) == (1.0, 1.0)


def test_probability_of_improvement_reads_the_paired_differences() -> None:
    from rlft.stats import probability_of_improvement

    assert probability_of_improvement([1.0] * 30 + [0.0] * 70) == 1.0
    assert probability_of_improvement([-1.0] * 30 + [0.0] * 70) == 0.0
    assert probability_of_improvement([0.0] * 50) == 0.5
    mixed = probability_of_improvement([1.0] * 12 + [-1.0] * 10 + [0.0] * 78)
    assert 0.5 < mixed < 0.9, "a small edge over noise is not a sure improvement"


def test_an_undefined_figure_is_recorded_as_null() -> None:
    from rlft.stats import finite_or_none

    assert (finite_or_none(0.25), finite_or_none(float("nan")), finite_or_none(float("-inf"))) == (0.25, None, None)
