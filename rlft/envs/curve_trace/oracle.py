"""Scripted CurveTrace policies with SB3's ``predict`` API, evaluated exactly like a model.

:class:`RayBridgeOracle` (the ``ray+bridge`` column of the stage table) and
:class:`GreedyOracle` see only the observation. Both are stateless: the heading is read from the
visited mask (the trail behind the agent), so ``state`` is passed through unchanged.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rlft.envs.curve_trace.core import MOVES, STOP, check_stop_mode
from rlft.envs.curve_trace.generator import PATCH

_C = PATCH // 2
_UNIT = MOVES / np.linalg.norm(MOVES, axis=1, keepdims=True)


def _ray_weights(s_from: int, s_to: int, half_width: int = 1) -> np.ndarray:
    """(8, PATCH*PATCH) averaging weights of fat rays from the centre, ``s_from``..``s_to`` px long."""
    w = np.zeros((8, PATCH, PATCH))
    for j, (uy, ux) in enumerate(_UNIT):
        for s in np.arange(s_from, s_to + 0.01, 0.5):
            for o in range(-half_width, half_width + 1):
                y = int(round(_C + s * uy - o * ux))
                x = int(round(_C + s * ux + o * uy))
                if 0 <= y < PATCH and 0 <= x < PATCH:
                    w[j, y, x] = 1.0
    return (w / w.sum(axis=(1, 2), keepdims=True)).reshape(8, -1)


class _ScriptedPolicy:
    """Shared plumbing: observation batch -> (image, visited, background, noise), action format."""

    def __init__(self, stop_mode: str = "standard") -> None:
        self.stop_mode = check_stop_mode(stop_mode)

    @staticmethod
    def _parse(observation: np.ndarray):
        obs = np.asarray(observation)
        if obs.ndim == 3:
            obs = obs[None]
        img = obs[:, 0].reshape(len(obs), -1).astype(np.float32) / 255.0
        vis = obs[:, 1].reshape(len(obs), -1) > 0
        bg = np.median(img, axis=1)
        noise = 1.4826 * np.median(np.abs(img - bg[:, None]), axis=1)
        # The traced part, and the pixels beside it, must not attract the agent again.
        v = vis.reshape(len(obs), PATCH, PATCH).copy()
        v[:, _C, _C] = False
        near = v.copy()
        near[:, 1:] |= v[:, :-1]
        near[:, :-1] |= v[:, 1:]
        near[:, :, 1:] |= near[:, :, :-1].copy()
        near[:, :, :-1] |= near[:, :, 1:].copy()
        near[:, _C, _C] = False
        return np.where(near.reshape(len(obs), -1), bg[:, None], img), vis, bg, noise, img

    def _act(self, img: Any, vis: Any, bg: Any, noise: Any, raw: Any) -> tuple[np.ndarray, np.ndarray]:
        """(move, stop) per env from :meth:`_parse`'s arrays; each oracle has its own rule."""
        raise NotImplementedError

    def _format(self, move: np.ndarray, stop: np.ndarray) -> np.ndarray:
        if self.stop_mode == "standard":
            return np.where(stop, STOP, move).astype(np.int64)
        return np.stack([move, stop.astype(np.int64)], axis=1)

    def predict(
        self, observation: np.ndarray, state: Any = None, episode_start: Any = None, deterministic: bool = True
    ) -> tuple[np.ndarray, Any]:
        """Actions for a batch of observations ``(n, 2, 15, 15)``, as SB3's ``predict``."""
        move, stop = self._act(*self._parse(observation))
        return self._format(move, stop), state


class GreedyOracle(_ScriptedPolicy):
    """Step to the brightest unvisited neighbour; STOP when none stands out of the background."""

    def __init__(self, stop_mode: str = "standard", k_noise: float = 3.0, min_contrast: float = 0.05) -> None:
        super().__init__(stop_mode)
        self.k_noise, self.min_contrast = k_noise, min_contrast
        self._neighbours = (_C + MOVES[:, 0]) * PATCH + _C + MOVES[:, 1]

    def _act(self, img, vis, bg, noise, raw):
        values = np.where(vis[:, self._neighbours], -np.inf, img[:, self._neighbours])
        move = values.argmax(axis=1)
        contrast = values.max(axis=1) - bg
        return move, contrast < np.maximum(self.k_noise * noise, self.min_contrast)


class RayBridgeOracle(_ScriptedPolicy):
    """Follow the brightest fat ray within +-90 deg of the heading; before stopping, look 4-6 px
    further ahead (bridging gaps) and keep going if a ray there stands out.

    ``k_noise``: a ray stands out when its mean exceeds the background by ``k_noise`` x the patch
    noise (robust MAD estimate) divided by sqrt of its pixel count, and by ``min_contrast``.
    """

    def __init__(
        self,
        stop_mode: str = "standard",
        bridge: bool = True,
        k_noise: float = 2.0,
        min_contrast: float = 0.04,
        rel_contrast: float = 0.2,
        ray_length: int = 5,
    ) -> None:
        super().__init__(stop_mode)
        self.bridge, self.k_noise, self.min_contrast = bridge, k_noise, min_contrast
        self.rel_contrast = rel_contrast
        self._near = _ray_weights(1, ray_length)
        self._far = _ray_weights(4, 6)
        self._near_n = (self._near > 0).sum(1)
        self._far_n = (self._far > 0).sum(1)
        self._offsets = np.array([(y - _C, x - _C) for y in range(PATCH) for x in range(PATCH)], dtype=np.float32)
        trail = np.abs(self._offsets).max(axis=1) <= 3
        self._trail = trail & (np.abs(self._offsets).max(axis=1) > 0)
        self._neighbours = (_C + MOVES[:, 0]) * PATCH + _C + MOVES[:, 1]

    def _allowed(self, vis: np.ndarray) -> np.ndarray:
        """(n, 8): directions within +-90 deg of the heading (away from the trail), first pixel unvisited."""
        near_trail = vis & self._trail
        heading = -(near_trail @ self._offsets)  # (n, 2): away from the visited pixels nearby
        allowed = heading @ _UNIT.T >= -1e-6
        return allowed & ~vis[:, self._neighbours]

    def _act(self, img, vis, bg, noise, raw):
        allowed = self._allowed(vis)
        bgc = bg[:, None]
        near = np.where(allowed, img @ self._near.T - bgc, -np.inf)
        move = near.argmax(axis=1)
        best = near.max(axis=1)
        # The curve's contrast on the trail just behind: a ray ahead much fainter means the end.
        trail = vis & self._trail
        contrast = (raw * trail).sum(1) / np.maximum(trail.sum(1), 1) - bg
        floor = np.maximum(self.min_contrast, self.rel_contrast * contrast)[:, None]
        need = np.maximum(self.k_noise * noise[:, None] / np.sqrt(self._near_n), floor)
        stop = best < need[np.arange(len(move)), move]
        if self.bridge and stop.any():
            far = np.where(allowed, img @ self._far.T - bgc, -np.inf)
            far_need = np.maximum(self.k_noise * noise[:, None] / np.sqrt(self._far_n), floor)
            bridged = (far >= far_need).any(axis=1) & stop
            move = np.where(bridged, far.argmax(axis=1), move)
            stop = stop & ~bridged
        return move, stop


def success_rate(policy: Any, n_episodes: int = 100, seed: int = 0, **env_kwargs: Any) -> float:
    """Success of ``policy`` over the episodes of seeds ``seed .. seed + n_episodes - 1``.

    The episodes are those of ``CurveTraceEnv.reset(seed=s)``, played in one batch.
    """
    from rlft.envs.curve_trace.vec_env import CurveTraceVecEnv

    venv = CurveTraceVecEnv(n_episodes, pool_size=1, **env_kwargs)
    venv.set_options({"episode_seed": seed})
    obs = venv.reset()
    result = np.full(n_episodes, -1)
    while (result < 0).any():
        actions, _ = policy.predict(obs, deterministic=True)
        obs, _, dones, infos = venv.step(actions)
        for i in np.flatnonzero(dones & (result < 0)):
            result[i] = infos[i]["is_success"]
    return float(result.mean())
