"""A pool of pre-generated episodes: a reset is a draw (generation costs ms, a step ~10 us)."""

from __future__ import annotations

import numpy as np

from rlft.envs.curve_trace.generator import Episode, episode_from_seed, generate_episode
from rlft.envs.curve_trace.params import CurveParams
from rlft.errors import ConfigError

_SEED_BOUND = 2**63


def check_pool(pool_size: int, pool_refresh: float) -> None:
    if isinstance(pool_size, bool) or not isinstance(pool_size, (int, np.integer)) or pool_size < 1:
        raise ConfigError(f"pool_size={pool_size!r} is out of range: must be an integer >= 1")
    if not isinstance(pool_refresh, (int, float)) or not 0.0 <= pool_refresh <= 1.0:
        raise ConfigError(f"pool_refresh={pool_refresh!r} is out of range: must be in [0, 1]")


class EpisodePool:
    """Episodes drawn uniformly from up to ``size`` pre-generated ones, deterministic given ``seed``.

    Each draw adds ``refresh`` to a credit; once it reaches 1 a fresh episode is generated (at
    most one per draw, so a step never stalls on a batch of generations) and appended, or, when
    the pool is full, replaces the oldest one. ``refresh=1`` is a fresh episode every draw.
    Every episode keeps the seed it was generated from (``Episode.seed``).
    """

    def __init__(
        self, params: CurveParams, seed: int, size: int = 256, initial: int = 16, refresh: float = 0.005
    ) -> None:
        check_pool(size, refresh)
        self.params = params
        self.seed = seed
        self.size = size
        self.refresh = refresh
        self._rng = np.random.default_rng(seed)
        self._credit = 0.0
        self._oldest = 0
        self._uniform = np.empty(0)  # pre-drawn uniforms: one Generator call per 1024 draws, not per draw
        self._next_uniform = 0
        self.episodes: list[Episode] = [self._fresh() for _ in range(min(size, max(initial, 1)))]

    def _fresh(self) -> Episode:
        seed = int(self._rng.integers(_SEED_BOUND))
        return generate_episode(self.params, np.random.default_rng(seed), seed=seed)

    def draw(self) -> Episode:
        self._credit += self.refresh
        if self._credit >= 1.0:
            self._credit -= 1.0
            if len(self.episodes) < self.size:
                self.episodes.append(self._fresh())
            else:
                self.episodes[self._oldest] = self._fresh()
                self._oldest = (self._oldest + 1) % self.size
        if self._next_uniform >= len(self._uniform):
            self._uniform, self._next_uniform = self._rng.random(1024), 0
        u = self._uniform[self._next_uniform]
        self._next_uniform += 1
        return self.episodes[int(u * len(self.episodes))]


__all__ = ["EpisodePool", "check_pool", "episode_from_seed"]
