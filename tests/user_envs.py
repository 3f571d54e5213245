"""User-shaped envs for the observation and action kinds rlft must carry end to end: channel-last
and channel-first images, Dict observations (a channel-last image and a vector), MultiDiscrete and
continuous Box actions. Episodes are short (``length`` steps); ``is_success`` is reported at the
end; nothing needs to be learnable.
"""

from __future__ import annotations

import copy
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

SIDE = 36  # SB3's NatureCNN needs images of at least 36 px


def _image(shape: tuple[int, ...]) -> spaces.Box:
    return spaces.Box(0, 255, shape=shape, dtype=np.uint8)


def _vector() -> spaces.Box:
    return spaces.Box(-1.0, 1.0, shape=(4,), dtype=np.float32)


class _UserEnv(gym.Env):
    """Random observations of ``observation_space``; reward 1 for action 0 (first part)."""

    observation_space: Any
    action_space: Any

    def __init__(self, length: int = 6) -> None:
        self.length, self.t = length, 0
        self.observation_space = copy.deepcopy(type(self).observation_space)  # seeded per instance

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[Any, dict]:
        super().reset(seed=seed)
        self.observation_space.seed(int(self.np_random.integers(2**31)))
        self.t = 0
        return self.observation_space.sample(), {}

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict]:
        self.t += 1
        first = float(np.atleast_1d(action)[0])
        reward = 1.0 if abs(first) < 0.5 else 0.0
        done = self.t >= self.length
        info = {"is_success": reward > 0} if done else {}
        return self.observation_space.sample(), reward, done, False, info


class ChannelLastImage(_UserEnv):
    observation_space = _image((SIDE, SIDE, 3))
    action_space = spaces.Discrete(3)


class ChannelFirstImage(_UserEnv):
    observation_space = _image((3, SIDE, SIDE))
    action_space = spaces.Discrete(3)


class DictObservation(_UserEnv):
    observation_space = spaces.Dict({"image": _image((SIDE, SIDE, 3)), "vector": _vector()})
    action_space = spaces.Discrete(3)


class MultiDiscreteAction(_UserEnv):
    observation_space = _vector()
    action_space = spaces.MultiDiscrete([3, 2])


class ContinuousAction(_UserEnv):
    observation_space = _vector()
    action_space = spaces.Box(-1.0, 1.0, shape=(2,), dtype=np.float32)


def env_overrides(name: str, policy: str = "MlpPolicy") -> list[str]:
    """Config overrides that train ``name`` (a class of this module) with tiny budgets."""
    return [
        "env=cartpole",
        f"env.name={name.lower()}",
        "env.id=null",
        f"env._target_=tests.user_envs.{name}",
        "env.n_envs=2",
        "hparams=ppo",
        f"hparams.policy={policy}",
        "hparams.n_steps=32",
        "hparams.batch_size=32",
        "hparams.n_epochs=1",
        "hparams.total_timesteps=64",
        "eval.every=0",
        "eval.episodes=2",
        "eval.final_episodes=2",
        "eval.n_envs=2",
        "checkpoint.every=0",
        "progress=none",
    ]


POLICIES = {
    "ChannelLastImage": "CnnPolicy",
    "ChannelFirstImage": "CnnPolicy",
    "DictObservation": "MultiInputPolicy",
    "MultiDiscreteAction": "MlpPolicy",
    "ContinuousAction": "MlpPolicy",
}
