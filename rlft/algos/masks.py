"""Invalid-action masks for maskable_ppo: each env says which actions are legal now through an
``action_masks()`` method (sb3-contrib's convention; its ``ActionMasker`` wrapper adds one to any
env), read in training by sb3-contrib and in rlft's evaluations here."""

from __future__ import annotations

from typing import Any

import numpy as np
from omegaconf import DictConfig

from rlft.errors import ConfigError


def env_action_masks(env: Any) -> np.ndarray:
    """``env.action_masks()`` through any gymnasium wrappers around it."""
    getter = env.get_wrapper_attr("action_masks") if hasattr(env, "get_wrapper_attr") else env.action_masks
    return np.asarray(getter(), dtype=bool)


def check_action_masks(cfg: DictConfig) -> None:
    """One env of ``cfg`` must offer ``action_masks()`` (checked before any run folder exists)."""
    from rlft.envs.factory import env_factory

    env = env_factory(cfg)()
    try:
        env.reset(seed=0)
        env_action_masks(env)
    except AttributeError:
        raise ConfigError(
            f"hparams.algo=maskable_ppo needs an env with an action_masks() method but env "
            f"{cfg.env.name!r} has none: wrap it in sb3_contrib.common.wrappers.ActionMasker, or pick another algo"
        ) from None
    finally:
        env.close()
