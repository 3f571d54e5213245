"""Comparison plots: every action named and placed (STOP included), a panel per stage."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from gymnasium import spaces

from rlft import plots
from rlft.envs.actions import action_labels, env_action_labels
from rlft.envs.curve_trace.env import CurveTraceEnv


@pytest.fixture
def figures(monkeypatch) -> list[Any]:
    kept: list[Any] = []

    def keep(fig: Any, path: Path) -> Path:
        kept.append(fig)
        return path

    monkeypatch.setattr(plots, "_save", keep)
    return kept


def test_curve_trace_names_every_action_including_stop() -> None:
    standard = env_action_labels(CurveTraceEnv(stage=1))
    assert list(standard) == [str(i) for i in range(9)]
    assert standard["0"] == "0 N" and standard["8"] == "8 STOP"
    decoupled = env_action_labels(CurveTraceEnv(stage=1, stop_mode="decoupled"))
    assert list(decoupled) == [f"0:{i}" for i in range(8)] + ["1:0", "1:1"]
    assert decoupled["1:1"] == "1:1 STOP"


def test_an_env_without_names_gets_its_indices_and_names_that_do_not_fit_are_ignored() -> None:
    assert action_labels(spaces.Discrete(3)) == {"0": "0", "1": "1", "2": "2"}
    assert action_labels(spaces.Discrete(2), ["left"]) == {"0": "0", "1": "1"}
    assert action_labels(spaces.Box(0, 1, (2,))) == {}


def test_the_action_histogram_has_a_panel_per_stage_and_every_action(figures: list[Any], tmp_path: Path) -> None:
    labels = env_action_labels(CurveTraceEnv(stage=1))
    shares = {"2": {"a": {"0": 0.5, "8": 0.5}, "b": {"1": 1.0}}, "3": {"a": {"0": 1.0}, "b": {"8": 1.0}}}
    assert plots.plot_action_shares(shares, labels, tmp_path / "actions.png") is not None
    axes = figures[0].axes
    assert [ax.get_title() for ax in axes] == ["stage 2", "stage 3"]
    for ax in axes:
        assert [t.get_text() for t in ax.get_xticklabels()] == list(labels.values())
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b"]


def test_learning_curves_of_two_stages_never_share_an_axis(figures: list[Any], tmp_path: Path) -> None:
    curve = [{"timesteps": 10240, "success_rate": 0.5}, {"timesteps": 20480, "success_rate": 0.8}]
    panels = {"2": {"champion": curve}, "3": {"fine-tune": curve}}
    assert plots.plot_learning_curves(panels, tmp_path / "curves.png") is not None
    first, second = figures[0].axes
    assert (first.get_title(), second.get_title()) == ("trained on stage 2", "trained on stage 3")
    assert [t.get_text() for t in first.get_legend().get_texts()] == ["champion"]
    assert [t.get_text() for t in second.get_legend().get_texts()] == ["fine-tune"]
    assert first.xaxis.get_major_formatter().get_offset() == "", "steps read as they are"


def test_compare_splits_histories_by_the_stage_they_were_trained_on() -> None:
    from types import SimpleNamespace

    from rlft.compare import curve_panels

    champion = SimpleNamespace(config={"stage": {"name": "2"}}, curve=[{"timesteps": 64}])
    curriculum = SimpleNamespace(
        config={"stage": {"name": "3"}}, curve=[{"timesteps": 64, "stage": "1"}, {"timesteps": 128, "stage": "3"}]
    )
    oracle = SimpleNamespace(config=None, curve=[])
    panels = curve_panels(["base@v1", "cur", "oracle"], [champion, curriculum, oracle])
    assert panels == {
        "2": {"base@v1": [{"timesteps": 64}]},
        "1": {"cur": [{"timesteps": 64, "stage": "1"}]},
        "3": {"cur": [{"timesteps": 128, "stage": "3"}]},
    }
