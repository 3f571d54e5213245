"""VecNormalize statistics without pickle: Dict observations entry by entry, reward-only settings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rlft.envs.normalization import ObservationNormalizer, load_normalization_into, save_normalization
from tests.user_envs import DictObservation, MultiDiscreteAction


def _stepped(env_class: type, **settings: bool):
    from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

    venv = VecNormalize(DummyVecEnv([env_class, env_class]), **settings)
    venv.seed(0)
    venv.reset()
    for _ in range(5):
        obs, *_ = venv.step(np.array([venv.action_space.sample() for _ in range(2)]))
    return venv, venv.get_original_obs()


def test_dict_statistics_round_trip_and_normalise_like_vecnormalize(tmp_path: Path) -> None:
    venv, raw = _stepped(DictObservation, norm_obs=True, norm_reward=True)
    assert save_normalization(venv, tmp_path)
    got = ObservationNormalizer(tmp_path)(raw)
    want = venv.normalize_obs(raw)
    assert set(got) == {"image", "vector"}
    for key in got:
        np.testing.assert_allclose(got[key], want[key], rtol=1e-5, atol=1e-5)

    fresh, _ = _stepped(DictObservation, norm_obs=True, norm_reward=True)
    load_normalization_into(fresh, tmp_path)
    for key in ("image", "vector"):
        np.testing.assert_array_equal(fresh.obs_rms[key].mean, venv.obs_rms[key].mean)


@pytest.mark.parametrize("env_class", [MultiDiscreteAction, DictObservation])
def test_reward_only_normalisation_saves_and_leaves_observations_alone(tmp_path: Path, env_class: type) -> None:
    venv, raw = _stepped(env_class, norm_obs=False, norm_reward=True)
    assert save_normalization(venv, tmp_path)
    assert ObservationNormalizer(tmp_path)(raw) is raw
    fresh, _ = _stepped(env_class, norm_obs=False, norm_reward=True)
    load_normalization_into(fresh, tmp_path)
    assert fresh.ret_rms.count == venv.ret_rms.count
