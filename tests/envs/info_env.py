"""A user-shaped env whose episode-end ``info`` would clash with rlft's own metrics: a ``reward``
that is not the reward, a float ``ess``, a counter dict ``achievements`` (mostly zeros, as
Crafter's) and a string; it reports no success."""

from __future__ import annotations

from pathlib import Path

import gymnasium as gym
import numpy as np

from rlft.runs.layout import RunFolder

LENGTH = 4
INFO_REWARD = -7.0  # info["reward"]: never the real return (LENGTH * 1.0)


class InfoEnv(gym.Env):
    observation_space = gym.spaces.Box(0.0, 1.0, (2,), dtype=np.float32)
    action_space = gym.spaces.Discrete(2)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.t, self.ones = 0, 0
        return self._obs(), {}

    def _obs(self) -> np.ndarray:
        return np.array([self.t / LENGTH, 0.5], dtype=np.float32)

    def step(self, action):
        self.t += 1
        self.ones += int(action)
        done = self.t >= LENGTH
        info = {}
        if done:
            info = {
                "reward": INFO_REWARD,
                "ess": 0.25 + 0.5 * self.ones / LENGTH,  # in [0.25, 0.75]
                "achievements": {"collect_wood": 1, "eat_cow": 0, "place_table": 2 * (self.ones > 1)},
                "biome": "forest",
            }
        return self._obs(), 1.0, done, False, info


# composes a run on InfoEnv (after tests.conftest.TINY's env=cartpole)
INFO_ENV = ["env.id=null", "env._target_=tests.envs.info_env.InfoEnv", "env.name=info_env"]


def info_run(folder: Path) -> RunFolder:
    """A finished tiny run on :class:`InfoEnv` (final evaluation only), its config saved as the CLI
    does (``tests`` trusted, so it can be registered and evaluated)."""
    from omegaconf import OmegaConf

    from rlft.training.run import run_training
    from tests.conftest import TINY, compose_config

    run = RunFolder(folder)
    cfg = compose_config(
        [*TINY, *INFO_ENV, "hparams.total_timesteps=128", "eval.every=0", "paths.trusted_modules=[tests]"]
    )
    run.hydra_dir.mkdir(parents=True)
    run.config_file.write_text(OmegaConf.to_yaml(cfg))
    run_training(cfg, run)
    return run
