"""``env.api: gym``: an env with the old gym API as a gymnasium env.

Old-API envs (Crafter, older research code) return ``obs`` from ``reset()`` and a 4-tuple
``(obs, reward, done, info)`` from ``step()``, and often bring their own space classes. shimmy's
``GymV21CompatibilityV0`` does this conversion but needs the ``gym`` package itself, which does
not work with numpy 2; this adapter needs nothing but gymnasium, and reads spaces by their
attributes (duck typing), so envs that never import gym work too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gymnasium
import numpy as np
from gymnasium import spaces

from rlft.errors import ConfigError


def to_space(space: Any, where: str = "env.api=gym") -> spaces.Space:
    """A gymnasium space from an old one, by its attributes: ``low/high/shape/dtype`` -> Box,
    ``nvec`` -> MultiDiscrete, ``n`` -> Discrete, a mapping (or ``.spaces`` holding one) -> Dict."""
    if isinstance(space, spaces.Space):
        return space
    if isinstance(space, Mapping):
        return spaces.Dict({key: to_space(value, f"{where}: {key}") for key, value in space.items()})
    if isinstance(getattr(space, "spaces", None), Mapping):
        return to_space(space.spaces, where)
    if hasattr(space, "nvec"):
        return spaces.MultiDiscrete(np.asarray(space.nvec, dtype=np.int64))
    if hasattr(space, "n"):
        return spaces.Discrete(int(space.n), start=int(getattr(space, "start", 0)))
    if all(hasattr(space, key) for key in ("low", "high", "shape", "dtype")):
        shape, dtype = tuple(int(n) for n in space.shape), np.dtype(space.dtype)
        low = np.broadcast_to(np.asarray(space.low, dtype=dtype), shape)
        high = np.broadcast_to(np.asarray(space.high, dtype=dtype), shape)
        return spaces.Box(low=low, high=high, shape=shape, dtype=dtype)
    raise ConfigError(
        f"{where}: cannot read the space {space!r} (expected low/high/shape/dtype, n, nvec or a dict "
        "of spaces): wrap the env so that it has gymnasium spaces"
    )


class GymApiEnv(gymnasium.Env):
    """``env`` (old gym API) as a gymnasium env. ``done`` becomes ``terminated``, or ``truncated``
    when ``info['TimeLimit.truncated']`` says a time limit ended the episode; ``reset(seed=)``
    calls ``env.seed(seed)`` when the env has it (an env without it keeps its own seeding: give it
    a seed through ``env.kwargs`` if its constructor takes one)."""

    def __init__(self, env: Any) -> None:
        self.env = env
        self.observation_space = to_space(env.observation_space)
        self.action_space = to_space(env.action_space)
        self.metadata = dict(getattr(env, "metadata", None) or {})

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        super().reset(seed=seed)
        if seed is not None and callable(getattr(self.env, "seed", None)):
            self.env.seed(seed)
        return self.env.reset(), {}

    def step(self, action: Any) -> tuple[Any, float, bool, bool, dict[str, Any]]:
        obs, reward, done, info = self.env.step(action)
        truncated = bool(done and info.get("TimeLimit.truncated", False))
        return obs, float(reward), bool(done) and not truncated, truncated, info

    def render(self) -> Any:
        return self.env.render()

    def close(self) -> None:
        if callable(getattr(self.env, "close", None)):
            self.env.close()
