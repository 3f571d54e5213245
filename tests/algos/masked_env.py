"""A tiny env with invalid actions for maskable_ppo: CartPole whose ``action_masks()`` forbids
pushing right (action 1), so a policy that honours the mask never takes it."""

from __future__ import annotations

import gymnasium
import numpy as np


class LeftOnlyCartPole(gymnasium.Wrapper):
    def __init__(self) -> None:
        super().__init__(gymnasium.make("CartPole-v1"))

    def action_masks(self) -> np.ndarray:
        return np.array([True, False])
