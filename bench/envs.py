"""Image envs for the rlft-vs-SB3 benchmark, shaped like a user's own: channel-last uint8 (H, W, C).

``ImageChase`` is drawn with numpy slicing only (no rendering library), so the benchmark times the
training loop around the CNN, not a renderer. ``minigrid_rgb`` is MiniGrid with its RGB image as
the observation (needs ``minigrid``).
"""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np

# action -> (row, col) move; 0 stays
_MOVES = np.array([(0, 0), (-1, 0), (1, 0), (0, -1), (0, 1)])


class ImageChase(gymnasium.Env):
    """Walk a red block onto a green one on a ``grid`` x ``grid`` board seen as an RGB image.

    Observation ``Box(0, 255, (grid * cell, grid * cell, 3), uint8)``; actions ``Discrete(5)``
    (stay, up, down, left, right). Reward -0.01 a step, +1 on reaching the target (which ends the
    episode, ``info["is_success"]``); truncated after ``max_steps``.
    """

    metadata = {"render_modes": []}

    def __init__(self, grid: int = 8, cell: int = 8, max_steps: int = 100) -> None:
        self.grid, self.cell, self.max_steps = grid, cell, max_steps
        size = grid * cell
        self.observation_space = gymnasium.spaces.Box(0, 255, (size, size, 3), np.uint8)
        self.action_space = gymnasium.spaces.Discrete(len(_MOVES))
        # a faint checkerboard so the background is not constant
        rows, cols = np.indices((grid, grid))
        board = ((rows + cols) % 2 * 24 + 16).astype(np.uint8).repeat(cell, 0).repeat(cell, 1)
        self._background = np.repeat(board[:, :, None], 3, axis=2)
        self._agent = np.zeros(2, dtype=np.int64)
        self._target = np.zeros(2, dtype=np.int64)
        self._steps = 0

    def _draw(self) -> np.ndarray:
        obs = self._background.copy()
        c = self.cell
        (ar, ac), (tr, tc) = self._agent, self._target
        obs[tr * c : (tr + 1) * c, tc * c : (tc + 1) * c] = (0, 200, 0)
        obs[ar * c : (ar + 1) * c, ac * c : (ac + 1) * c] = (220, 0, 0)
        return obs

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        cells = self.np_random.choice(self.grid * self.grid, size=2, replace=False)
        self._agent = np.array(divmod(int(cells[0]), self.grid))
        self._target = np.array(divmod(int(cells[1]), self.grid))
        self._steps = 0
        return self._draw(), {}

    def step(self, action):
        self._agent = np.clip(self._agent + _MOVES[int(action)], 0, self.grid - 1)
        self._steps += 1
        reached = bool((self._agent == self._target).all())
        reward = (1.0 if reached else 0.0) - 0.01
        truncated = not reached and self._steps >= self.max_steps
        return self._draw(), reward, reached, truncated, {"is_success": reached}


def minigrid_rgb(env_id: str = "MiniGrid-Empty-8x8-v0", tile_size: int = 8) -> gymnasium.Env:
    """A MiniGrid env whose observation is its full RGB image alone, (H, W, 3) uint8."""
    import minigrid  # noqa: F401  (registers the MiniGrid ids)
    from minigrid.wrappers import ImgObsWrapper, RGBImgObsWrapper

    return ImgObsWrapper(RGBImgObsWrapper(gymnasium.make(env_id), tile_size=tile_size))
