"""``CurveTraceEnv``: trace a faint curve through a noisy image and STOP at its end."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

from rlft.envs.curve_trace import core
from rlft.envs.curve_trace.generator import OUTSIDE, PAD, PATCH, START_INDEX, VISITED, Episode
from rlft.envs.curve_trace.params import CurveParams, resolve_params, to_json
from rlft.envs.curve_trace.pool import EpisodePool, check_pool, episode_from_seed

_SEED_BOUND = 2**63


class CurveTraceSettings:
    """The settings :func:`apply_settings` stores on the single env and the batched env."""

    params: CurveParams
    stage: int | None
    stop_mode: str
    render_mode: str | None
    pool_size: int
    pool_refresh: float


def apply_settings(
    target: CurveTraceSettings,
    stage: int | None,
    stop_mode: str,
    render_mode: str | None,
    curve_config: str | Path | None,
    pool_size: int,
    pool_refresh: float,
    overrides: dict[str, Any],
) -> None:
    """Validate and store the settings the single env and the batched env share."""
    target.params = resolve_params(stage, curve_config, overrides)
    target.stage = stage
    target.stop_mode = core.check_stop_mode(stop_mode)
    target.render_mode = core.check_render_mode(render_mode)
    check_pool(pool_size, pool_refresh)
    target.pool_size, target.pool_refresh = pool_size, pool_refresh


class CurveTraceEnv(gym.Env, CurveTraceSettings):
    """One agent on one image. See ``CURVE_TRACE.md`` for the task.

    :param stage: 1..12, the row of the stage table (default 1).
    :param stop_mode: ``"standard"`` (``Discrete(9)``, action 8 = STOP) or ``"decoupled"``
        (``MultiDiscrete([8, 2])`` = move, stop flag; the move is ignored when the flag is 1).
    :param render_mode: ``"rgb_array"`` or None.
    :param curve_config: path of a ``curve_config.json`` (:meth:`export_config`) used instead of
        ``stage``; overrides still apply on top.
    :param pool_size: episodes kept for unseeded resets; ``pool_refresh``: fresh episodes per reset.
    :param overrides: any :class:`~rlft.envs.curve_trace.params.CurveParams` field, e.g.
        ``noise_sigma=0.1``.

    Observation: ``(2, 15, 15)`` uint8, image patch and visited mask (0/255) centred on the agent.
    ``info`` every step: ``stop_label`` (at the end: STOP here succeeds with a margin),
    ``coverage`` (fraction of the curve traced), ``endpoint_error`` (px from the end); at the end of
    an episode also ``is_success``, ``achievements`` (sorted milestone names) and ``early_stop`` /
    ``late_stop`` / ``lost`` / ``stuck`` (0 or 1: how a failure ended, see
    :func:`core.failure_kind`). ``reset(seed=s)`` plays the
    episode of seed ``s`` (the same for every env instance and model: paired evaluation); unseeded
    resets draw from a pool that is itself a function of the last seed.
    """

    metadata = {"render_modes": list(core.RENDER_MODES), "render_fps": 10}

    def __init__(
        self,
        stage: int | None = None,
        stop_mode: str = "standard",
        render_mode: str | None = None,
        curve_config: str | Path | None = None,
        pool_size: int = 256,
        pool_refresh: float = 0.005,
        **overrides: Any,
    ) -> None:
        apply_settings(self, stage, stop_mode, render_mode, curve_config, pool_size, pool_refresh, overrides)
        self.observation_space = core.observation_space()
        self.action_space = core.action_space(stop_mode)
        self.action_names = core.action_names(stop_mode)  # for action histograms (rlft.envs.actions)
        self._pool: EpisodePool | None = None
        self.episode: Episode | None = None

    def export_config(self, path: str | Path) -> Path:
        """Write this env's ``curve_config.json`` (all parameters); ``CurveTraceEnv(curve_config=path)`` reads it."""
        return to_json(self.params, path, stage=self.stage)

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        if seed is not None:
            self._pool = None  # the unseeded episodes that follow are a function of this seed
            self._load(episode_from_seed(self.params, int(seed)))
        else:
            if self._pool is None:
                pool_seed = int(self.np_random.integers(_SEED_BOUND))
                self._pool = EpisodePool(
                    self.params, pool_seed, self.pool_size, initial=min(64, self.pool_size), refresh=self.pool_refresh
                )
            self._load(self._pool.draw())
        return self._observe(), self._info()

    def _load(self, ep: Episode) -> None:
        self.episode = ep
        self._image, self._zone, self._idx = ep.image, ep.zone_map, ep.idx_map
        self._visited = ep.visited.copy()
        self._y, self._x = ep.start
        self._best = START_INDEX
        self._t = 0
        self._length = ep.length
        self._max_steps = self.params.max_steps(ep.length)
        self._end = ep.end

    def _observe(self) -> np.ndarray:
        obs = np.empty((2, PATCH, PATCH), dtype=np.uint8)
        y, x = self._y, self._x
        obs[0] = self._image[y : y + PATCH, x : x + PATCH]
        obs[1] = self._visited[y : y + PATCH, x : x + PATCH]
        return obs

    def _info(self) -> dict[str, Any]:
        self._end_error = math.hypot(self._y - self._end[0], self._x - self._end[1])
        label = core.stop_label(self._end_error, self._best, self._length, self.params)
        return {
            "stop_label": bool(label),
            "coverage": core.coverage(self._best, self._length),
            "endpoint_error": self._end_error,
        }

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        p = self.params
        if self.stop_mode == "standard":
            a = int(action)
            stop, move = a == core.STOP, a
        else:
            move, stop = int(action[0]), bool(action[1])
        if stop:
            ok, reward = core.stop_outcome(self._end_error, self._best, self._length, p)
            success, terminated = bool(ok), True
        else:
            dy, dx = core.MOVES[move]
            y, x = self._y + int(dy), self._x + int(dx)
            H = p.H
            oob = not (0 <= y < H and 0 <= x < H)
            if oob:
                y, x = self._y, self._x
            zone = int(self._zone[y, x])
            visited = self._visited[y + PAD, x + PAD] != 0
            self._visited[y + PAD, x + PAD] = VISITED
            reward, gain = core.move_outcome(zone, int(self._idx[y, x]), self._best, visited or oob, p)
            self._best += int(gain)
            self._y, self._x = y, x
            success, terminated = False, zone == OUTSIDE
        self._t += 1
        truncated = not terminated and self._t >= self._max_steps
        info = self._info()
        if terminated or truncated:
            info["is_success"] = success
            info["achievements"] = core.achievements(info["coverage"], success, self._end_error, p)
            info.update(core.failure_kind(stop, truncated, success, info["coverage"], p))
        return self._observe(), float(reward), terminated, truncated, info

    def render(self) -> np.ndarray | None:
        if self.render_mode is None or self.episode is None:
            return None
        from rlft.envs.curve_trace.render import render_frame

        return render_frame(self.episode, self._visited, (self._y, self._x))
