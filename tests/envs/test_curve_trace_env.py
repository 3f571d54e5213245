"""CurveTraceEnv: API checks, determinism, validation, config round trip, rendering."""

import gymnasium
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env as gym_check_env
from stable_baselines3.common.env_checker import check_env as sb3_check_env

import rlft.envs  # noqa: F401  (registers rlft/CurveTrace-v0)
from rlft.envs.curve_trace import CurveTraceEnv, stage_params
from rlft.envs.curve_trace.params import from_json
from rlft.errors import ConfigError

INFO_KEYS = {"stop_label", "coverage", "endpoint_error"}


@pytest.mark.parametrize("stop_mode", ["standard", "decoupled"])
def test_gymnasium_and_sb3_checkers_pass(stop_mode):
    gym_check_env(CurveTraceEnv(stage=5, stop_mode=stop_mode), skip_render_check=True)
    with pytest.warns(UserWarning, match="minimal resolution"):
        sb3_check_env(CurveTraceEnv(stage=5, stop_mode=stop_mode))


def test_registered_id_builds_the_env():
    env = gymnasium.make("rlft/CurveTrace-v0", stage=3, stop_mode="decoupled")
    obs, _ = env.reset(seed=0)
    assert obs.shape == (2, 15, 15) and obs.dtype == np.uint8
    assert env.action_space == gymnasium.spaces.MultiDiscrete([8, 2])


def _rollout(env, seed, n=40):
    obs, _ = env.reset(seed=seed)
    rng = np.random.default_rng(seed)
    out = [obs]
    for _ in range(n):
        obs, r, term, trunc, info = env.step(int(rng.integers(8)))
        out += [obs, r, term, trunc, info["coverage"]]
        if term or trunc:
            obs, _ = env.reset()
            out.append(obs)
    return out


def test_reset_seed_is_deterministic_and_shared_across_instances():
    a, b = _rollout(CurveTraceEnv(stage=4), 7), _rollout(CurveTraceEnv(stage=4), 7)
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    c = _rollout(CurveTraceEnv(stage=4), 8)
    assert not np.array_equal(a[0], c[0])


def test_info_keys_every_step_and_success_at_the_end():
    env = CurveTraceEnv(stage=2)
    _, info = env.reset(seed=1)
    assert INFO_KEYS <= set(info)
    _, _, term, _, info = env.step(8)  # STOP at the start: a failed episode
    assert term and INFO_KEYS | {"is_success", "achievements"} <= set(info)
    assert info["is_success"] is False and isinstance(info["stop_label"], bool)
    assert (info["early_stop"], info["late_stop"]) == (1, 0), "STOP before the curve was covered"


def test_oracle_episodes_report_how_they_ended_in_both_envs():
    """A scripted oracle's failures on stage 12 are early or late stops, the same in the single and
    the batched env (the same seeds play the same episodes)."""
    from rlft.envs.curve_trace.oracle import RayBridgeOracle
    from rlft.envs.curve_trace.vec_env import CurveTraceVecEnv
    from rlft.evaluation import evaluate

    oracle = RayBridgeOracle()
    single = evaluate(oracle, lambda: CurveTraceEnv(stage=12), range(40))
    venv = CurveTraceVecEnv(40, pool_size=1, stage=12)
    venv.set_options({"episode_seed": 0})
    obs, ended = venv.reset(), {}
    while len(ended) < 40:
        actions, _ = oracle.predict(obs)
        obs, _, dones, infos = venv.step(actions)
        for i in np.flatnonzero(dones):
            ended.setdefault(int(i), infos[i])
    batched = [ended[i] for i in range(40)]
    assert single.successes == [info["is_success"] for info in batched]
    kinds = ("early_stop", "late_stop", "lost", "stuck")
    for kind in kinds:
        assert single.info_means[f"info/{kind}"] == np.mean([info[kind] for info in batched])
    for info in batched:  # the four kinds partition the failures
        assert sum(info[kind] for kind in kinds) == (not info["is_success"])
    assert single.info_means["info/early_stop"] > 0, "stage 12 fails the oracle mostly by stopping at gaps"


def test_a_policy_that_loops_is_stuck_and_one_that_walks_off_is_lost():
    env = CurveTraceEnv(stage=3)
    env.reset(seed=0)
    done, action = False, 0
    while not done:  # north, south, north, ...: stays in the tube, never progresses
        _, _, term, trunc, info = env.step(action)
        action = 4 - action
        done = term or trunc
    assert trunc and (info["stuck"], info["lost"], info["early_stop"], info["late_stop"]) == (1, 0, 0, 0)
    env.reset(seed=0)
    done = False
    while not done:  # always west: off the curve at once
        _, _, term, trunc, info = env.step(6)
        done = term or trunc
    assert term and (info["lost"], info["stuck"], info["early_stop"], info["late_stop"]) == (1, 0, 0, 0)


@pytest.mark.parametrize("batched", [False, True])
def test_stop_label_marks_the_end_inside_the_success_disk(batched):
    """The label disk (2 px) lies inside the success disk (4 px): STOP at 3 px from the end
    succeeds but is not labelled, so a stop head trained on the labels stops short of the rim."""
    from rlft.envs.curve_trace.oracle import RayBridgeOracle
    from rlft.envs.curve_trace.vec_env import CurveTraceVecEnv

    oracle, seen = RayBridgeOracle(), []
    for seed in range(10):
        env = CurveTraceEnv(stage=1)
        obs, info = env.reset(seed=seed)
        done = False
        while not done:
            seen.append((info["stop_label"], info["endpoint_error"], info["coverage"], seed, env._t))
            obs, _, term, trunc, info = env.step(oracle.predict(obs[None])[0][0])
            done = term or trunc
    labelled = [s for s in seen if s[0]]
    assert labelled and all(err <= 2.0 and cov >= 0.9 for _, err, cov, _, _ in labelled)
    _, err, _, seed, t = next(s for s in seen if not s[0] and 2.0 < s[1] <= 4.0 and s[2] >= 0.9)
    # replay to that step and press STOP: a success although the label was False
    if batched:
        venv = CurveTraceVecEnv(1, pool_size=1, stage=1)
        venv.set_options({"episode_seed": seed})
        obs = venv.reset()
        for _ in range(t):
            obs = venv.step(oracle.predict(obs)[0])[0]
        _, reward, _, infos = venv.step(np.array([8]))
        success = infos[0]["is_success"]
    else:
        env = CurveTraceEnv(stage=1)
        obs, _ = env.reset(seed=seed)
        for _ in range(t):
            obs = env.step(oracle.predict(obs[None])[0][0])[0]
        _, reward, _, _, info = env.step(8)
        success = info["is_success"]
    assert success and reward > 0, f"STOP {err:.1f} px from the end is a success"


def test_override_changes_the_episode():
    quiet = CurveTraceEnv(stage=3).reset(seed=5)[0]
    noisy = CurveTraceEnv(stage=3, noise_sigma=0.3).reset(seed=5)[0]
    assert not np.array_equal(quiet[0], noisy[0])
    assert CurveTraceEnv(stage=3, noise_sigma=0.3).params.noise_sigma == 0.3


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"stage": 0}, "stage"),
        ({"stage": 13}, "stage"),
        ({"stage": "x"}, "stage"),
        ({"stop_mode": "decoupeld"}, "stop_mode"),
        ({"noise_sgima": 0.1}, "noise_sgima"),
        ({"noise_sigma": -0.1}, "noise_sigma"),
        ({"max_intensity": 1.5}, "max_intensity"),
        ({"min_intensity": 0.9, "max_intensity": 0.5}, "min_intensity"),
        ({"render_mode": "human"}, "render_mode"),
        ({"H": 64.5}, "H"),
        ({"label_radius": 5.0}, "label_radius"),
    ],
)
def test_bad_inputs_raise_config_error_naming_the_parameter(kwargs, name):
    with pytest.raises(ConfigError, match=name):
        CurveTraceEnv(**kwargs)


def test_error_messages_give_the_valid_range():
    with pytest.raises(ConfigError, match=r"1\.\.12"):
        stage_params(13)
    with pytest.raises(ConfigError, match="standard, decoupled"):
        CurveTraceEnv(stop_mode="x")
    with pytest.raises(ConfigError, match="valid names: H, min_length"):
        stage_params(1, foo=1)


def test_config_json_round_trip(tmp_path):
    env = CurveTraceEnv(stage=7, noise_sigma=0.12, r_success=4.0)
    path = env.export_config(tmp_path / "curve_config.json")
    assert from_json(path) == env.params
    again = CurveTraceEnv(curve_config=path)
    assert again.params == env.params
    assert np.array_equal(again.reset(seed=3)[0], env.reset(seed=3)[0])
    assert CurveTraceEnv(curve_config=path, noise_sigma=0.0).params.noise_sigma == 0.0
    with pytest.raises(ConfigError, match="curve_config"):
        CurveTraceEnv(curve_config=tmp_path / "missing.json")


def test_stage_table_follows_the_spec():
    assert stage_params(1).H == 64 and stage_params(12).H == 128
    p = stage_params(12)
    assert (p.min_length, p.max_length, p.n_gaps, p.gap_length, p.n_distractors, p.n_blobs) == (150, 250, 4, 5, 4, 6)


def test_render_frame_and_episode_files(tmp_path):
    from rlft.envs.curve_trace.oracle import RayBridgeOracle
    from rlft.envs.curve_trace.render import save_episode

    env = CurveTraceEnv(stage=1, render_mode="rgb_array")
    env.reset(seed=0)
    frame = env.render()
    assert frame.dtype == np.uint8 and frame.ndim == 3 and frame.shape[2] == 3
    gif = save_episode(RayBridgeOracle(), {"stage": 1}, tmp_path / "ep.gif", seed=0)
    png = save_episode(RayBridgeOracle(), {"stage": 1}, tmp_path / "ep.png", seed=0)
    assert (tmp_path / "ep.gif").stat().st_size > 0 and (tmp_path / "ep.png").stat().st_size > 0
    assert gif["steps"] == png["steps"] > 0
