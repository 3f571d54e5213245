"""The registration gate on any metric (``gate='mean_reward>=4'``, ``gate='info/ess>=0.9'``), and
the default success gate of an env that reports no success."""

from __future__ import annotations

from pathlib import Path

import pytest

from rlft.champions.registry import Registry
from rlft.errors import ConfigError
from rlft.runs.layout import RunFolder
from tests.envs.info_env import LENGTH, info_run


@pytest.fixture(scope="module")
def reward_only(tmp_path_factory) -> RunFolder:
    """A finished run on an env that reports no success (its info has its own reward and ess)."""
    return info_run(tmp_path_factory.mktemp("runs") / "info_env")


def test_a_gate_on_mean_reward_passes_and_is_recorded(reward_only: RunFolder, tmp_path: Path) -> None:
    champion = Registry(tmp_path / "champions").register(reward_only.root, "pole", gate=f"mean_reward>={LENGTH}")
    assert champion.manifest["gate"] == {"rule": f"mean_reward>={LENGTH}", "value": LENGTH, "forced": False}


def test_a_gate_on_an_info_metric_refuses_with_the_figure(reward_only: RunFolder, tmp_path: Path) -> None:
    registry = Registry(tmp_path / "champions")
    with pytest.raises(ConfigError, match=r"info/ess=0\.\d+ does not pass the gate info/ess>=0\.9.*force=true"):
        registry.register(reward_only.root, "ess", gate="info/ess>=0.9")
    with pytest.raises(ConfigError, match=r"metric 'info/esss' is not reported.*info/ess"):
        registry.register(reward_only.root, "ess", gate="info/esss>=0.9")
    assert registry.champions() == []


def test_the_default_gate_of_an_env_without_success_asks_for_a_gate(reward_only: RunFolder, tmp_path: Path) -> None:
    registry = Registry(tmp_path / "champions")
    with pytest.raises(ConfigError, match=r"reports no success rate.*give gate=.*it reports .*info/ess"):
        registry.register(reward_only.root, "plain")
    assert registry.register(reward_only.root, "plain", force=True).manifest["gate"]["forced"]


def test_the_command_line_takes_a_gate_and_lists_it(reward_only: RunFolder, tmp_path: Path, capsys) -> None:
    from rlft.champions.__main__ import main as champions
    from rlft.register import main as register

    registry = f"paths.registry={tmp_path / 'champions'}"
    register([str(reward_only.root), "name=cli", f"gate=mean_reward>={LENGTH - 1}", registry])
    assert f"mean_reward>={LENGTH - 1}: {LENGTH}" in capsys.readouterr().out
    champions(["list", registry])
    assert f"mean_reward>={LENGTH - 1} ({LENGTH})" in capsys.readouterr().out
