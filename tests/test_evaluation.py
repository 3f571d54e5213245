"""Evaluation on fixed per-episode seeds: paired across models and independent of batching."""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from rlft.evaluation import evaluate


class AlwaysLeft:
    def predict(self, observation, state=None, episode_start=None, deterministic=True):
        return np.zeros(len(observation), dtype=np.int64), state


class SuccessEnv(gym.Env):
    """Episode length = 1 + seed % 3; success on even seeds; reports a numeric final info field."""

    observation_space = gym.spaces.Box(-1, 1, (1,))
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.seed_, self.t = seed, 0
        return np.zeros(1, dtype=np.float32), {}

    def step(self, action):
        self.t += 1
        done = self.t >= 1 + self.seed_ % 3
        info = {"is_success": self.seed_ % 2 == 0, "coverage": 0.5} if done else {}
        return np.zeros(1, dtype=np.float32), 1.0, done, False, info


def test_results_do_not_depend_on_parallel_slots() -> None:
    make = lambda: gym.make("CartPole-v1")  # noqa: E731
    seeds = range(100, 112)
    one = evaluate(AlwaysLeft(), make, seeds, n_parallel=1)
    many = evaluate(AlwaysLeft(), make, seeds, n_parallel=5)
    assert one.rewards == many.rewards and one.lengths == many.lengths
    assert one.successes is None and one.summary()["success_rate"] is None


def test_success_lengths_and_info_means() -> None:
    result = evaluate(AlwaysLeft(), SuccessEnv, range(6), n_parallel=4)
    assert result.lengths == [1, 2, 3, 1, 2, 3]
    assert result.successes == [True, False, True, False, True, False]
    summary = result.summary()
    assert summary["success_rate"] == 0.5 and summary["info/coverage"] == 0.5 and summary["episodes"] == 6


def test_info_metrics_are_namespaced_and_counters_counted() -> None:
    """An info ``reward`` never overwrites mean_reward; a counter dict gives one metric per name;
    strings are skipped; per-episode values stay for the report."""
    from tests.envs.info_env import INFO_REWARD, LENGTH, InfoEnv

    result = evaluate(AlwaysLeft(), InfoEnv, range(3), n_parallel=2)
    summary = result.summary()
    assert summary["mean_reward"] == LENGTH and summary["info/reward"] == INFO_REWARD
    assert summary["info/ess"] == 0.25 and summary["success_rate"] is None
    assert summary["info/achievements/collect_wood"] == 1 and summary["info/achievements/eat_cow"] == 0
    assert not any("biome" in key for key in summary)
    assert result.info_episodes["info/ess"] == [0.25, 0.25, 0.25]
