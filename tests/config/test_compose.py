"""Every config option composes and passes validation: a broken YAML file fails CI."""

from __future__ import annotations

import pytest

from rlft.errors import ConfigError
from rlft.training.schema import validate_hparams, validate_run_settings
from rlft.workflows import validate
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


def _env_for(hparams: str) -> list[str]:
    if "stop" in hparams or "decoupled" in hparams:
        return ["env=curve_trace_decoupled"]
    if "curve_trace" in hparams:
        return ["env=curve_trace"]
    if hparams in ("sac", "td3", "ddpg", "tqc", "ars"):  # continuous actions
        return ["env=cartpole", "env.id=Pendulum-v1", "env.name=pendulum"]
    if hparams == "maskable_ppo":  # an env with action_masks()
        return ["env=cartpole", "env.id=null", "env._target_=tests.algos.masked_env.LeftOnlyCartPole"]
    return ["env=cartpole"]


@pytest.mark.parametrize("hparams", _options("hparams"))
def test_every_hparams_option_validates_with_its_env(hparams: str) -> None:
    validate(compose_config([*_env_for(hparams), f"hparams={hparams}"]))


@pytest.mark.parametrize("env", _options("env"))
def test_every_env_validates_with_its_default_hparams(env: str) -> None:
    cfg = compose_config([f"env={env}"])
    assert cfg.hparams is not None
    validate(cfg)


@pytest.mark.parametrize("stage", [o for o in _options("stage") if o not in ("none", "all")])
def test_every_stage_validates_on_curve_trace(stage: str) -> None:
    cfg = compose_config(["env=curve_trace", f"stage='{stage}'"])
    assert cfg.stage.env_kwargs.stage == int(stage)
    validate(cfg)


def test_defaults_name_the_run_after_env_stage_and_algo() -> None:
    assert compose_config(["env=cartpole", "hparams=a2c"]).experiment_name == "cartpole_a2c"
    assert compose_config(["stage='3'"]).experiment_name == "curve_trace_stage3_stop_ppo"
    assert compose_config(["stage='3'", "hparams=ppo_curve_trace_plain"]).experiment_name == "curve_trace_stage3_ppo"
    assert compose_config(["curriculum=curve_trace_short"]).experiment_name == "curve_trace_short_stop_ppo"


@pytest.mark.parametrize("curriculum", [o for o in _options("curriculum") if o != "none"])
def test_every_curriculum_validates(curriculum: str) -> None:
    validate(compose_config([f"curriculum={curriculum}"]))


def test_stage_all_without_a_curriculum_is_refused() -> None:
    with pytest.raises(ConfigError, match="stage=all runs a whole curriculum"):
        validate(compose_config(["env=cartpole", "stage=all"]))


def test_curve_trace_is_the_default_env_with_its_tuned_hparams() -> None:
    cfg = compose_config()
    assert cfg.env.name == "curve_trace" and cfg.hparams.policy == "CnnPolicy"
    # both agents default to StopPPO (stop-label BCE); plain PPO is the standard agent's baseline
    assert cfg.hparams.algo == "stop_ppo" and cfg.hparams.gamma == 0.9
    assert compose_config(["env=curve_trace_decoupled"]).hparams.algo == "stop_ppo"
    plain = compose_config(["hparams=ppo_curve_trace_plain"]).hparams
    assert plain.algo == "ppo" and plain.lambda_stop is None and plain.policy_kwargs == cfg.hparams.policy_kwargs


def test_open_dicts_accept_new_keys_without_plus() -> None:
    cfg = compose_config(["env=cartpole", "env.kwargs={sutton_barto_reward: true}", "stage_overrides.foo=1"])
    assert cfg.env.kwargs.sutton_barto_reward is True
    assert cfg.stage_overrides.foo == 1
