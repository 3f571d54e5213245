"""ConcatVecEnv: two CurveTrace VecEnvs (different stages) side by side, and rehearsal splits."""

from __future__ import annotations

import numpy as np
import pytest
from stable_baselines3 import PPO

from rlft.envs.concat import ConcatVecEnv
from rlft.envs.curve_trace.vec_env import CurveTraceVecEnv
from rlft.envs.factory import make_vec_env, rehearsal_split, split_envs
from rlft.errors import ConfigError
from tests.conftest import compose_config


def test_parts_step_side_by_side_and_route_by_index() -> None:
    venv = ConcatVecEnv([CurveTraceVecEnv(3, stage=3, seed=0), CurveTraceVecEnv(2, stage=1, seed=1)])
    venv.seed(5)
    obs = venv.reset()
    assert obs.shape == (5, 2, 15, 15) and len(venv.reset_infos) == 5
    assert venv.get_attr("stage") == [3, 3, 3, 1, 1]
    assert venv.get_attr("stage", indices=[1, 4]) == [3, 1]
    for _ in range(30):
        obs, rewards, dones, infos = venv.step(np.random.default_rng(0).integers(0, 9, 5))
        assert obs.shape == (5, 2, 15, 15) and rewards.shape == dones.shape == (5,) and len(infos) == 5
    assert [p.params.H for p in venv.parts] == [96, 64]
    venv.close()


def test_parts_must_share_spaces() -> None:
    with pytest.raises(ConfigError, match="spaces"):
        ConcatVecEnv([CurveTraceVecEnv(1, stage=1), CurveTraceVecEnv(1, stage=1, stop_mode="decoupled")])


def test_splitting_envs_by_shares() -> None:
    assert [rehearsal_split(8, s) for s in (0.0, 0.01, 0.25, 0.5)] == [0, 1, 2, 4]
    assert split_envs(8, [0.75, 0.25]) == [6, 2]
    assert split_envs(8, [1, 1, 1]) == [3, 3, 2]
    assert split_envs(4, [0.99, 0.01]) == [3, 1]  # a positive share always gets an env
    assert split_envs(5, [1.0, 0.0]) == [5, 0]


def test_a_mixed_vec_env_trains() -> None:
    target = compose_config(
        [
            "stage=3",
            "env.n_envs=4",
            "hparams.n_steps=32",
            "hparams.batch_size=64",
            "hparams.policy_kwargs.features_extractor_kwargs.channels=[4,4]",
        ]
    )
    original = compose_config(["stage=1"])
    venv = make_vec_env(target, 4, seed=0, mix=[(target, 3), (original, 1)])
    parts = venv.venv.parts  # inside VecMonitor
    assert [p.num_envs for p in parts] == [3, 1] and [p.stage for p in parts] == [3, 1]
    from rlft.algos.factory import build_model

    model = build_model(target.hparams, venv, seed=0, device="cpu")
    model.learn(256)
    assert isinstance(model, PPO) and model.num_timesteps >= 256
    venv.close()
