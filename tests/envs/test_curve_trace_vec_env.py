"""CurveTraceVecEnv: SB3 semantics, determinism and agreement with the single env."""

import numpy as np
import pytest

from rlft.envs.curve_trace import CurveTraceEnv
from rlft.envs.curve_trace.vec_env import CurveTraceVecEnv
from rlft.errors import ConfigError


def test_shapes_dtypes_and_infos():
    venv = CurveTraceVecEnv(4, stage=2, seed=0)
    obs = venv.reset()
    assert obs.shape == (4, 2, 15, 15) and obs.dtype == np.uint8
    obs, rew, dones, infos = venv.step(np.zeros(4, dtype=np.int64))
    assert rew.shape == (4,) and rew.dtype == np.float32 and dones.dtype == bool
    assert all({"stop_label", "coverage", "endpoint_error"} <= set(i) for i in infos)
    assert venv.get_attr("render_mode") == [None] * 4 and venv.env_is_wrapped(object) == [False] * 4


def test_done_gives_terminal_observation_and_auto_reset():
    venv = CurveTraceVecEnv(3, stage=1, seed=0)
    before = venv.reset()
    obs, rew, dones, infos = venv.step(np.full(3, 8))  # STOP at the start: fail, terminate
    assert dones.all() and np.allclose(rew, -2.01)
    for i, info in enumerate(infos):
        assert np.array_equal(info["terminal_observation"], before[i])
        assert info["is_success"] is False and info["TimeLimit.truncated"] is False
    assert obs.shape == before.shape


def test_truncation_sets_time_limit_flag():
    venv = CurveTraceVecEnv(
        1, stage=1, seed=0, time_limit_factor=1.0, time_limit_offset=0, min_length=10, max_length=10, min_coverage=1.0
    )
    venv.reset()
    for _ in range(10):  # step back and forth on the trail: never leaves the tube, never ends
        obs, _, dones, infos = venv.step(np.array([0]))
        if dones[0]:
            break
        obs, _, dones, infos = venv.step(np.array([4]))
        if dones[0]:
            break
    assert dones[0] and "terminal_observation" in infos[0]
    assert infos[0]["TimeLimit.truncated"] == (not infos[0]["is_success"] and infos[0]["coverage"] < 1)


def _run(venv, steps, seed):
    rng = np.random.default_rng(seed)
    out = [venv.reset()]
    for _ in range(steps):
        obs, rew, dones, infos = venv.step(rng.integers(0, 9, venv.num_envs))
        out += [obs, rew, dones]
    return out


def test_seed_makes_runs_reproducible():
    a = _run(CurveTraceVecEnv(8, stage=3, seed=11), 60, 0)
    b_env = CurveTraceVecEnv(8, stage=3)
    b_env.seed(11)
    b = _run(b_env, 60, 0)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))


@pytest.mark.parametrize("stop_mode", ["standard", "decoupled"])
def test_single_and_vec_env_agree_on_the_same_episode(stop_mode):
    stage, seed = 4, 21
    venv = CurveTraceVecEnv(1, stage=stage, stop_mode=stop_mode)
    venv.set_options({"episode_seed": seed})
    vobs = venv.reset()
    env = CurveTraceEnv(stage=stage, stop_mode=stop_mode)
    obs, _ = env.reset(seed=seed)
    assert np.array_equal(vobs[0], obs)
    rng = np.random.default_rng(0)
    for _ in range(200):
        move = int(rng.choice([0, 1, 2, 3, 4, 5, 6, 7, 2, 3]))
        stop = rng.random() < 0.02
        action = (8 if stop else move) if stop_mode == "standard" else np.array([move, int(stop)])
        obs, r, term, trunc, info = env.step(action)
        vobs, vr, vdone, vinfo = venv.step(np.array([action]))
        assert np.isclose(r, vr[0]) and (term or trunc) == vdone[0]
        assert np.isclose(info["coverage"], vinfo[0]["coverage"]) and info["stop_label"] == vinfo[0]["stop_label"]
        if term or trunc:
            assert info["is_success"] == vinfo[0]["is_success"]
            assert np.array_equal(obs, vinfo[0]["terminal_observation"])
            break
        assert np.array_equal(obs, vobs[0])


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"stage": 13}, "stage"),
        ({"stop_mode": "std"}, "stop_mode"),
        ({"noise_sigma": -1}, "noise_sigma"),
        ({"n_envs": 0}, "n_envs"),
        ({"bogus": 1}, "bogus"),
    ],
)
def test_vec_env_validates_like_the_single_env(kwargs, name):
    with pytest.raises(ConfigError, match=name):
        CurveTraceVecEnv(**{"n_envs": 2, **kwargs})


def test_atlas_slots_stay_right_while_the_pool_turns_over():
    """Episodes live once in a shared atlas; with a tiny pool refreshed on every reset, slots are
    reclaimed constantly and each env must still see its own episode's image and maps."""
    from rlft.envs.curve_trace.generator import PATCH

    venv = CurveTraceVecEnv(6, stage=2, seed=3, pool_size=3, pool_refresh=1.0)
    obs = venv.reset()
    rng = np.random.default_rng(0)
    for _ in range(300):
        for i, ep in enumerate(venv.episodes):
            y, x = int(venv._y[i]), int(venv._x[i])
            assert np.array_equal(obs[i, 0], ep.image[y : y + PATCH, x : x + PATCH])
            assert np.array_equal(venv._zone[venv._slot[i]], ep.zone_map)
        obs, *_ = venv.step(rng.integers(0, 9, 6))
    assert len(venv._slot_of) <= venv.pool_size + venv.num_envs
