"""Curriculum configs -> stage plans: both layouts, selection, caps, per-stage configs, bad input."""

from __future__ import annotations

import pytest

from rlft.curriculum.plan import plan_curriculum, stage_config
from rlft.errors import ConfigError
from tests.conftest import compose_config


def _plans(*overrides: str):
    cfg = compose_config(["curriculum=curve_trace", *overrides])
    return cfg, plan_curriculum(cfg)


def test_shipped_curricula_plan_all_stages() -> None:
    _, plans = _plans()
    assert [p.id for p in plans] == [str(k) for k in range(1, 13)]
    assert plans[0].promotion.threshold == 0.9 and plans[-1].promotion.threshold < 0.9
    _, short = _plans("curriculum=curve_trace_short")
    assert [p.id for p in short] == ["1", "2", "3"]
    assert all(p.max_timesteps >= p.timesteps for p in short)


def test_start_stop_and_stage_select_a_subset() -> None:
    _, plans = _plans("curriculum.start=3", "curriculum.stop=6")
    assert [p.id for p in plans] == ["3", "4", "5", "6"]
    _, plans = _plans("stage=5")
    assert [p.id for p in plans] == ["5"]
    _, plans = _plans("stage=all")
    assert len(plans) == 12


def test_cap_limits_every_stage_budget() -> None:
    _, plans = _plans("curriculum.max_timesteps_per_stage=1000")
    assert {(p.timesteps, p.max_timesteps) for p in plans} == {(1000, 1000)}


def test_stage_config_applies_the_entry() -> None:
    cfg, plans = _plans("curriculum=curve_trace_short", "eval.episodes=20", "eval.final_episodes=50")
    stage2 = stage_config(cfg, plans[1])
    assert stage2.stage.name == "2" and stage2.stage.env_kwargs.stage == 2
    assert stage2.hparams.lr == 2.0e-4 and stage2.hparams.total_timesteps == plans[1].max_timesteps
    assert stage2.hparams.n_epochs == cfg.hparams.n_epochs  # untouched fields carry over
    # promotion over 100 episodes: the evaluations that decide it use 100 episodes on fixed seeds
    assert stage2.eval.episodes == 100 and stage2.eval.final_episodes == 100
    assert stage2.curriculum.name == "none"


CLASSIC = (
    "curriculum.stages=[{name: 2, environment: {noise_sigma: 0.01}, ppo: {learning_rate: 1.0e-4, "
    "ent_coef: 0.02, n_envs: 4}, total_timesteps: 5000, ess_threshold: 0.95, ess_patience: 2}]"
)


def test_classic_layout_maps_key_by_key() -> None:
    cfg, plans = _plans(CLASSIC)
    (plan,) = plans
    assert (plan.stage, plan.option, plan.timesteps, plan.n_envs) == ("2", False, 5000, 4)
    assert plan.hparams == {"lr": 1.0e-4, "ent_coef": 0.02}
    assert plan.env_kwargs == {"noise_sigma": 0.01}
    assert plan.early_stop == {"metric": "success_rate", "threshold": 0.95, "patience": 2}
    stage = stage_config(cfg, plan)
    assert stage.stage.name == "2" and stage.stage.env_kwargs == {"noise_sigma": 0.01}, "an inline stage"
    assert stage.env.n_envs == 4 and "noise_sigma" not in stage.stage_overrides
    assert stage.early_stop.threshold == 0.95 and stage.early_stop.patience == 2


def test_classic_ess_threshold_on_the_metric_the_user_names() -> None:
    _, (plan,) = _plans(CLASSIC.replace("ess_patience: 2", "ess_patience: 2, ess_metric: info/ess"))
    assert plan.early_stop == {"metric": "info/ess", "threshold": 0.95, "patience": 2}
    with pytest.raises(ConfigError, match=r"curriculum.stages\[0\].ess_metric='ess' is not a metric"):
        _plans(CLASSIC.replace("ess_patience: 2", "ess_patience: 2, ess_metric: ess"))


def test_promotion_on_an_info_metric_and_one_line_when_the_env_lacks_it() -> None:
    _, plans = _plans("curriculum=curve_trace_short", "curriculum.promotion.metric=info/coverage")
    rule = plans[0].promotion
    assert rule.met({"info/coverage": 0.99, "episodes": rule.episodes})
    with pytest.raises(ConfigError, match=r"promotion.metric: metric 'info/coverage' is not reported.*mean_reward"):
        rule.met({"mean_reward": 1.0, "episodes": rule.episodes})


def test_classic_environment_stage_names_the_stage() -> None:
    """CurveTrace takes a stage argument: environment.stage is both the env's and the stage's name."""
    _, (plan,) = _plans("curriculum.stages=[{environment: {stage: 3}, total_timesteps: 100}]")
    assert (plan.stage, plan.env_kwargs) == ("3", {"stage": 3})


def test_inline_stages_are_named_sets_of_env_kwargs() -> None:
    cfg, plans = _plans(
        "curriculum.stages=[{name: calm, env_kwargs: {noise_sigma: 0.0}, timesteps: 10}, "
        "{name: calm, env_kwargs: {noise_sigma: 0.05}, timesteps: 10}, {stage: 2, timesteps: 10}]"
    )
    assert [(p.id, p.stage, p.option) for p in plans] == [
        ("calm", "calm", False),
        ("calm-2", "calm", False),
        ("2", "2", True),
    ]
    second = stage_config(cfg, plans[1])
    assert second.stage.name == "calm" and dict(second.stage.env_kwargs) == {"noise_sigma": 0.05}
    assert second.experiment_name.endswith("_stagecalm-2")


def test_a_repeated_stage_gets_its_own_id() -> None:
    _, plans = _plans("curriculum.stages=[{stage: 1, timesteps: 10}, {stage: 1, timesteps: 10}]")
    assert [p.id for p in plans] == ["1", "1-2"]


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (("curriculum.stages=[{stage: 1, timesteps: 10, hparams: {ent_cof: 0.1}}]",), "did you mean ent_coef"),
        (("curriculum.stages=[{stage: 1, timesteps: 10, hparams: {policy: MlpPolicy}}]",), "carry over"),
        (("curriculum.stages=[{stage: 1, timesteps: 0}]",), "timesteps=0 must be a positive integer"),
        (("curriculum.stages=[{stage: 1, timesteps: 10, max_timesteps: 5}]",), "below its timesteps"),
        (("curriculum.stages=[{timesteps: 10}]",), "names no stage"),
        (("curriculum.stages=[{stage: 99, timesteps: 10}]",), "'99' is not a stage option"),
        (("curriculum.stages=[{stage: 1, timesteps: 10, promotion: {episodes: 0}}]",), "episodes=0"),
        (("curriculum.stages=[{stage: 1, timestep: 10}]",), "did you mean timesteps"),
        (("curriculum.stages=[{name: 1, stage: 1, timesteps: 10}]",), "either name"),
        (("curriculum.stages=[]",), "has no stages"),
        (("curriculum.stages=[{env_kwargs: {noise_sigma: 0.1}, timesteps: 10}]",), "names no stage: add name"),
        (("curriculum.stages=[{name: ../up, env_kwargs: {}, timesteps: 10}]",), "name='../up' is not a plain folder"),
        (("curriculum.stages=[{name: all, env_kwargs: {}, timesteps: 10}]",), "name=all: a curriculum entry names one"),
        (("curriculum.start=9", "curriculum.stop=2"), "comes after"),
        (("stage=3", "curriculum.start=1"), "drop curriculum.start/stop"),
    ],
)
def test_bad_entries_name_the_problem(overrides: tuple[str, ...], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        _plans(*overrides)


def make_anything(**kwargs):
    """An env factory that takes any keyword (it decides itself what ``stage`` means)."""
    raise AssertionError("only its signature is read")


@pytest.mark.parametrize(
    ("env", "takes"),
    [
        ({"id": "rlft/CurveTrace-v0"}, True),
        ({"id": "FrozenLake-v1"}, False),
        ({"id": None, "_target_": "tests.curriculum.test_plan.make_anything"}, True),
    ],
)
def test_which_envs_take_a_stage_argument(env: dict, takes: bool) -> None:
    from omegaconf import OmegaConf

    from rlft.curriculum.constructor import takes_argument

    assert takes_argument(OmegaConf.create({"id": None, "_target_": None, **env}), "stage") is takes


def test_every_stage_keeps_the_first_stage_model_spaces() -> None:
    """Each stage starts from the previous stage's model: a stage whose env gives the model other
    spaces (here another action space) is one line before anything runs."""
    from rlft.curriculum.schema import validate_curriculum

    stages = (
        "curriculum.stages=[{stage: 1, timesteps: 10}, {stage: 2, timesteps: 10, env_kwargs: {stop_mode: decoupled}}]"
    )
    with pytest.raises(
        ConfigError, match=r"curriculum stages 1 and 2 have different action spaces \(Discrete\(9\) vs MultiDiscrete"
    ):
        validate_curriculum(compose_config(["curriculum=curve_trace", stages]))
    validate_curriculum(compose_config(["curriculum=curve_trace_short"]))
