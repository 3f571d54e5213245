"""Scripted oracles: calibration against the stage table and both stop modes."""

import numpy as np
import pytest

from rlft.envs.curve_trace.generator import episode_from_seed
from rlft.envs.curve_trace.oracle import GreedyOracle, RayBridgeOracle, success_rate
from rlft.envs.curve_trace.params import stage_params


@pytest.mark.parametrize("stop_mode", ["standard", "decoupled"])
def test_ray_bridge_is_good_at_stage_1_and_poor_at_stage_12(stop_mode):
    easy = success_rate(RayBridgeOracle(stop_mode), 40, seed=1000, stage=1, stop_mode=stop_mode)
    hard = success_rate(RayBridgeOracle(stop_mode), 40, seed=1000, stage=12, stop_mode=stop_mode)
    assert easy > 0.9 and hard < 0.5 * easy


def test_greedy_oracle_action_format():
    obs = np.zeros((3, 2, 15, 15), dtype=np.uint8)
    actions, state = GreedyOracle().predict(obs, state="s")
    assert actions.shape == (3,) and state == "s" and (actions == 8).all()  # nothing visible: STOP
    actions, _ = GreedyOracle("decoupled").predict(obs)
    assert actions.shape == (3, 2) and (actions[:, 1] == 1).all()


def test_generation_is_deterministic_and_fast_enough():
    import time

    p = stage_params(12)
    t = time.perf_counter()
    a = episode_from_seed.__wrapped__(p, 123)
    assert time.perf_counter() - t < 0.5
    b = episode_from_seed.__wrapped__(p, 123)
    assert np.array_equal(a.image, b.image) and np.array_equal(a.idx_map, b.idx_map)
    assert a.zone_map[a.start] == 0 and len(a.curve) >= p.min_length
