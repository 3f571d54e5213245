"""Every config option composes and passes validation: a broken YAML file fails CI."""

from __future__ import annotations

import pytest

from rlft.config.validate import validate, validate_hparams, validate_run_settings
from tests.conftest import CONF_DIR, compose_config

GROUPS = ["env", "stage", "hparams", "champion", "curriculum"]


def _options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF_DIR / group).glob("*.yaml"))


@pytest.mark.parametrize("group,option", [(g, o) for g in GROUPS for o in _options(g)])
def test_every_option_composes(group: str, option: str) -> None:
    cfg = compose_config([f"{group}={option}"])
    assert cfg[group] is not None
    validate_hparams(cfg)
    validate_run_settings(cfg)


@pytest.mark.parametrize("hparams", _options("hparams"))
def test_every_hparams_option_validates_with_its_env(hparams: str) -> None:
    env = "cartpole"
    validate(compose_config([f"env={env}", f"hparams={hparams}"]))


def test_defaults_name_the_run_after_env_and_algo() -> None:
    cfg = compose_config(["env=cartpole", "hparams=a2c"])
    assert cfg.experiment_name == "cartpole_a2c"


def test_open_dicts_accept_new_keys_without_plus() -> None:
    cfg = compose_config(["env.kwargs={sutton_barto_reward: true}", "stage_overrides.foo=1"])
    assert cfg.env.kwargs.sutton_barto_reward is True
    assert cfg.stage_overrides.foo == 1
