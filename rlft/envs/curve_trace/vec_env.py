"""``CurveTraceVecEnv``: n CurveTrace envs stepped together in numpy arrays (an SB3 ``VecEnv``).

All state has a leading batch axis; a step is a handful of vectorised look-ups and two patch
gathers, which amortises numpy's per-call overhead over the batch. Finished envs auto-reset from
an :class:`~rlft.envs.curve_trace.pool.EpisodePool`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices, VecEnvObs, VecEnvStepReturn

from rlft.envs.curve_trace import core
from rlft.envs.curve_trace.env import CurveTraceSettings, apply_settings
from rlft.envs.curve_trace.generator import OUTSIDE, PAD, PATCH, START_INDEX, VISITED, Episode
from rlft.envs.curve_trace.params import to_json
from rlft.envs.curve_trace.pool import EpisodePool, episode_from_seed
from rlft.errors import ConfigError

_SEED_BOUND = 2**63


class CurveTraceVecEnv(VecEnv, CurveTraceSettings):
    """``n_envs`` CurveTrace envs with the rules, spaces and infos of ``CurveTraceEnv``.

    :param n_envs: number of envs (>= 1).
    :param seed: seeds the episode pool and its draws; None draws a random seed. ``seed(s)`` takes
        effect at the next ``reset()``, which then replays the same episodes for the same ``s``.
    :param pool_size, pool_refresh: size of the episode pool, fresh episodes per auto-reset.
    :param stage, stop_mode, render_mode, curve_config, overrides: as for ``CurveTraceEnv``.

    ``set_options({"episode_seed": k})`` (or a list, one dict per env) makes the next ``reset()``
    play the episode of seed ``k`` (+ the env index for a single dict), exactly the episode of
    ``CurveTraceEnv.reset(seed=k)``. Infos: ``stop_label``, ``coverage``, ``endpoint_error`` every
    step; at the end of an episode ``is_success``, ``achievements``, ``early_stop``, ``late_stop``,
    ``lost``, ``stuck``, ``TimeLimit.truncated`` and ``terminal_observation``.
    """

    def __init__(
        self,
        n_envs: int = 8,
        stage: int | None = None,
        stop_mode: str = "standard",
        seed: int | None = None,
        render_mode: str | None = None,
        curve_config: str | Path | None = None,
        pool_size: int = 256,
        pool_refresh: float = 0.005,
        **overrides: Any,
    ) -> None:
        if isinstance(n_envs, bool) or not isinstance(n_envs, (int, np.integer)) or n_envs < 1:
            raise ConfigError(f"n_envs={n_envs!r} is out of range: must be an integer >= 1")
        apply_settings(self, stage, stop_mode, render_mode, curve_config, pool_size, pool_refresh, overrides)
        super().__init__(n_envs, core.observation_space(), core.action_space(stop_mode))
        self._pool_seed = int(np.random.default_rng(seed).integers(_SEED_BOUND)) if seed is None else int(seed)
        self._pool: EpisodePool | None = None
        H, Hp, n = self.params.H, self.params.H + 2 * PAD, n_envs
        # The maps of every episode in play live once in an atlas; each env points at a slot, so a
        # reset copies only the (mutable) visited mask, not the image and the maps.
        capacity = self.pool_size + n + 1
        self._image = np.zeros((capacity, Hp, Hp), dtype=np.uint8)
        self._visited = np.zeros((n, Hp, Hp), dtype=np.uint8)
        self._zone = np.full((capacity, H, H), OUTSIDE, dtype=np.int8)
        self._idx = np.full((capacity, H, H), -1, dtype=np.int16)
        self._slot = np.zeros(n, dtype=np.int64)  # atlas slot of each env's episode
        self._slot_of: dict[int, int] = {}  # id(episode) -> slot; the episode is kept alive below
        self._in_slot: list[Episode | None] = [None] * capacity
        self._free_slots = list(range(capacity - 1, -1, -1))
        self._image_win = sliding_window_view(self._image, (PATCH, PATCH), axis=(1, 2))
        self._visited_win = sliding_window_view(self._visited, (PATCH, PATCH), axis=(1, 2))
        self._ar = np.arange(n)
        self._y = np.zeros(n, dtype=np.int64)
        self._x = np.zeros(n, dtype=np.int64)
        self._best = np.zeros(n, dtype=np.int64)
        self._t = np.zeros(n, dtype=np.int64)
        self._length = np.ones(n, dtype=np.int64)
        self._max_steps = np.ones(n, dtype=np.int64)
        self._end = np.zeros((n, 2))
        self.episodes: list[Episode | None] = [None] * n
        self._actions: np.ndarray | None = None

    # --- episodes -------------------------------------------------------------------------------
    def _atlas_slot(self, ep: Episode) -> int:
        """The atlas slot holding ``ep``'s maps, copying them in on first use."""
        slot = self._slot_of.get(id(ep))
        if slot is not None:
            return slot
        if not self._free_slots:  # reclaim slots of episodes neither in the pool nor in play
            assert self._pool is not None  # reset() makes it before loading any episode
            live = {id(e) for e in self._pool.episodes} | {id(e) for e in self.episodes}
            for k, held in enumerate(self._in_slot):
                if held is not None and id(held) not in live:
                    del self._slot_of[id(held)]
                    self._in_slot[k] = None
                    self._free_slots.append(k)
        slot = self._free_slots.pop()
        self._image[slot], self._zone[slot], self._idx[slot] = ep.image, ep.zone_map, ep.idx_map
        self._slot_of[id(ep)], self._in_slot[slot] = slot, ep
        return slot

    def _load(self, rows: list[int], eps: list[Episode]) -> None:
        """Start episode ``eps[k]`` in env ``rows[k]``: point at its atlas slot, copy its visited mask."""
        for i, ep in zip(rows, eps):
            self.episodes[i] = ep
            self._slot[i] = self._atlas_slot(ep)
            self._visited[i] = ep.visited
        starts = [ep.start for ep in eps]
        self._y[rows] = [s[0] for s in starts]
        self._x[rows] = [s[1] for s in starts]
        self._best[rows] = START_INDEX
        self._t[rows] = 0
        lengths = [ep.length for ep in eps]
        self._length[rows] = lengths
        self._max_steps[rows] = [self.params.max_steps(n) for n in lengths]
        self._end[rows] = [ep.end for ep in eps]

    def _observe(self, rows: np.ndarray | slice = slice(None)) -> np.ndarray:
        ar, y, x = self._ar[rows], self._y[rows], self._x[rows]
        obs = np.empty((len(ar), 2, PATCH, PATCH), dtype=np.uint8)
        obs[:, 0] = self._image_win[self._slot[rows], y, x]
        obs[:, 1] = self._visited_win[ar, y, x]
        return obs

    def _status(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(stop_label, coverage, endpoint_error) of every env in its current state."""
        end_error = np.hypot(self._y - self._end[:, 0], self._x - self._end[:, 1])
        label = core.stop_label(end_error, self._best, self._length, self.params)
        return label, core.coverage(self._best, self._length), end_error

    def reset(self) -> VecEnvObs:
        if self._seeds[0] is not None:
            self._pool_seed = int(self._seeds[0])
            self._pool = None
        if self._pool is None or self._pool.seed != self._pool_seed:
            self._pool = EpisodePool(
                self.params, self._pool_seed, self.pool_size, initial=self.pool_size, refresh=self.pool_refresh
            )
        seeds = [self._options[i].get("episode_seed") for i in range(self.num_envs)]
        self._load(
            list(range(self.num_envs)),
            [self._pool.draw() if k is None else episode_from_seed(self.params, int(k)) for k in seeds],
        )
        self._reset_seeds()
        self._reset_options()
        label, cov, err = self._status()
        self.reset_infos = [
            {"stop_label": bool(a), "coverage": float(b), "endpoint_error": float(c)}
            for a, b, c in zip(label, cov, err)
        ]
        return self._observe()

    def set_options(self, options: list[dict] | dict | None = None) -> None:
        """As SB3's, except that one dict with ``episode_seed`` k gives env i the seed k + i."""
        if isinstance(options, dict) and "episode_seed" in options:
            options = [{**options, "episode_seed": int(options["episode_seed"]) + i} for i in range(self.num_envs)]
        super().set_options(options)

    # --- stepping -------------------------------------------------------------------------------
    def step_async(self, actions: np.ndarray) -> None:
        self._actions = np.asarray(actions)

    def step_wait(self) -> VecEnvStepReturn:
        if self._pool is None:
            raise RuntimeError("call reset() before step()")
        p, ar, a = self.params, self._ar, self._actions
        assert a is not None  # stored by step_async
        if self.stop_mode == "standard":
            a = a.reshape(self.num_envs)
            stop = a == core.STOP
            move = np.minimum(a, 7)
        else:
            a = a.reshape(self.num_envs, 2)
            stop = a[:, 1] == 1
            move = a[:, 0]
        delta = core.MOVES[move]
        delta[stop] = 0
        ny = self._y + delta[:, 0]
        nx = self._x + delta[:, 1]
        top = p.H - 1
        y = np.minimum(np.maximum(ny, 0), top)
        x = np.minimum(np.maximum(nx, 0), top)
        oob = (y != ny) | (x != nx)
        slot = self._slot
        zone = self._zone[slot, y, x]
        py, px = y + PAD, x + PAD
        seen = self._visited[ar, py, px] != 0
        self._visited[ar, py, px] = VISITED
        r_move, gain = core.move_outcome(zone, self._idx[slot, y, x].astype(np.int64), self._best, seen | oob, p)
        self._best += gain * ~stop
        self._y, self._x = y, x
        self._t += 1
        label, cov, end_error = self._status()
        ok, r_stop = core.stop_outcome(end_error, self._best, self._length, p)
        rewards = np.where(stop, r_stop, r_move).astype(np.float32)
        success = stop & ok
        terminated = stop | (zone == OUTSIDE)
        truncated = ~terminated & (self._t >= self._max_steps)
        dones = terminated | truncated
        obs = self._observe()
        infos = [
            {"stop_label": s, "coverage": c, "endpoint_error": e}
            for s, c, e in zip(label.tolist(), cov.tolist(), end_error.tolist())
        ]
        if dones.any():
            done_idx = np.flatnonzero(dones)
            rows = done_idx.tolist()
            for i, was_truncated, succeeded, stopped in zip(
                rows, truncated[done_idx].tolist(), success[done_idx].tolist(), stop[done_idx].tolist()
            ):
                info = infos[i]
                info["terminal_observation"] = obs[i].copy()
                info["TimeLimit.truncated"] = was_truncated
                info["is_success"] = succeeded
                info["achievements"] = core.achievements(info["coverage"], succeeded, info["endpoint_error"], p)
                info.update(core.failure_kind(stopped, was_truncated, succeeded, info["coverage"], p))
                # a new episode starts 4 px into its curve, never at the end: no stop label
                self.reset_infos[i] = {"stop_label": False}
            self._load(rows, [self._pool.draw() for _ in rows])
            obs[done_idx] = self._observe(done_idx)
        return obs, rewards, dones, infos

    # --- VecEnv plumbing ------------------------------------------------------------------------
    def seed(self, seed: int | None = None) -> Sequence[int | None]:
        """Reseed the episode pool at the next ``reset()`` (None: a random seed)."""
        if seed is None:
            seed = int(np.random.default_rng().integers(2**31))
        self._seeds = [seed + i for i in range(self.num_envs)]
        return self._seeds

    def export_config(self, path: str | Path) -> Path:
        """Write the ``curve_config.json`` of these envs (see ``CurveTraceEnv.export_config``)."""
        return to_json(self.params, path, stage=self.stage)

    def close(self) -> None:
        pass

    def get_images(self) -> Sequence[np.ndarray | None]:
        from rlft.envs.curve_trace.render import render_frame

        return [
            None if ep is None else render_frame(ep, self._visited[i], (int(self._y[i]), int(self._x[i])))
            for i, ep in enumerate(self.episodes)
        ]

    def _indices(self, indices: VecEnvIndices) -> list[int]:
        return list(self._get_indices(indices))

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        value = getattr(self, attr_name)
        return [value for _ in self._indices(indices)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        """Attributes are shared by all envs: any ``indices`` set the value for all of them."""
        setattr(self, attr_name, value)

    def env_method(self, method_name: str, *method_args, indices: VecEnvIndices = None, **method_kwargs) -> list[Any]:
        method = getattr(self, method_name)
        return [method(*method_args, **method_kwargs) for _ in self._indices(indices)]

    def env_is_wrapped(self, wrapper_class: type, indices: VecEnvIndices = None) -> list[bool]:
        return [False for _ in self._indices(indices)]
