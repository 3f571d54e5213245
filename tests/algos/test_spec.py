"""The algorithm table (rlft.algos.spec) says what SB3 itself enforces, and is the champion allowlist."""

from __future__ import annotations

from typing import Any

import gymnasium
import numpy as np
import pytest
from gymnasium import spaces

from rlft.algos.factory import algorithm_class
from rlft.algos.spec import ALGORITHMS, check_installed
from rlft.champions.manifest import FORMAT, check_loadable
from rlft.errors import ConfigError

ACTION_SPACES = {
    "Box": spaces.Box(-1.0, 1.0, (2,), np.float32),
    "Discrete": spaces.Discrete(3),
    "MultiDiscrete": spaces.MultiDiscrete([3, 2]),
    "MultiBinary": spaces.MultiBinary(2),
}


class _Env(gymnasium.Env):
    observation_space = spaces.Box(-1.0, 1.0, (3,), np.float32)

    def __init__(self, action_space: spaces.Space) -> None:
        self.action_space = action_space

    def reset(self, *, seed: int | None = None, options: Any = None) -> tuple[np.ndarray, dict]:
        return np.zeros(3, np.float32), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict]:
        return np.zeros(3, np.float32), 0.0, True, False, {}

    def action_masks(self) -> np.ndarray:  # maskable_ppo asks for one
        return np.ones(int(np.sum(getattr(self.action_space, "nvec", getattr(self.action_space, "n", 2)))), bool)


@pytest.mark.parametrize("algo", sorted(ALGORITHMS))
def test_the_action_spaces_listed_are_those_sb3_accepts(algo: str) -> None:
    cls, spec = algorithm_class(algo), ALGORITHMS[algo]
    kwargs = {"buffer_size": 10} if "buffer_size" in spec.fields else {}
    for name, space in ACTION_SPACES.items():
        try:
            cls(spec.policies[0], _Env(space), device="cpu", **kwargs)
            accepted = True
        except (AssertionError, ValueError, ConfigError, NotImplementedError):
            accepted = False
        assert accepted == (name in spec.actions), (algo, name)


def test_a_contrib_algorithm_without_sb3_contrib_names_the_extra(monkeypatch) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "sb3_contrib" else real(name, *a))
    with pytest.raises(ConfigError, match=r"^hparams.algo=tqc needs sb3-contrib: pip install rlft\[contrib\]$"):
        check_installed("tqc")
    check_installed("sac")  # stable-baselines3's own


def _manifest(algo: str, policy: str) -> dict[str, Any]:
    return {"format": FORMAT, "hparams": {"algo": algo, "policy": policy}, "env": {"id": "CartPole-v1"}}


def test_a_champion_may_name_exactly_the_algorithms_and_their_policies() -> None:
    for algo, spec in ALGORITHMS.items():
        for policy in spec.policies:
            check_loadable(_manifest(algo, policy), "champion x")
    with pytest.raises(ConfigError, match="algorithm 'her'"):
        check_loadable(_manifest("her", "MlpPolicy"), "champion x")
    with pytest.raises(ConfigError, match="policy 'MlpLstmPolicy' is not one of MlpPolicy, CnnPolicy"):
        check_loadable(_manifest("ppo", "MlpLstmPolicy"), "champion x")
