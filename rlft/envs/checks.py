"""Checks of the ``env`` block: one of ``env.id`` / ``env._target_``, an id gymnasium knows (with
close matches), importable dotted paths. The block's schema is in :mod:`rlft.config.schema`
(``import rlft.envs`` registers CurveTrace with gymnasium, so nothing light can live here)."""

from __future__ import annotations

import difflib
import importlib
from typing import Any, Callable

from omegaconf import DictConfig

from rlft.config.checks import positive, require
from rlft.errors import ConfigError


def locate(path: str, key: str) -> Callable[..., Any]:
    module_name, _, attr = path.replace(":", ".").rpartition(".")
    try:
        return getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ConfigError(f"{key}={path!r} cannot be imported ({exc}): give a dotted path module.name") from None


def check_env_id(env_id: str) -> None:
    """Fail with close matches when ``env_id`` is not a registered gymnasium id."""
    import gymnasium

    import rlft.envs  # noqa: F401  (registers rlft/CurveTrace-v0)

    module, _, bare_id = env_id.rpartition(":")
    if module:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise ConfigError(f"env.id={env_id!r}: cannot import module {module!r} ({exc})") from None
    if bare_id not in gymnasium.registry:
        close = difflib.get_close_matches(bare_id, list(gymnasium.registry), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ConfigError(f"env.id={env_id!r} is not a registered gymnasium environment{hint}")


def validate_env(cfg: DictConfig) -> None:
    env = cfg.env
    require(
        (env.id is None) != (env._target_ is None),
        "set exactly one of env.id (a gymnasium id) and env._target_ (a dotted path to an env factory)",
    )
    if env.id is not None:
        check_env_id(env.id)
    else:
        locate(env._target_, "env._target_")
    if env.vec_env not in ("dummy", "subproc"):
        locate(env.vec_env, "env.vec_env")
    positive(cfg, "env.max_episode_steps")
    for key in ("env.normalize.clip_obs", "env.normalize.clip_reward"):
        positive(cfg, key)
