"""Checks of the ``env`` block: one of ``env.id`` / ``env._target_``, an id gymnasium knows (with
close matches and the ``module:Id`` form), importable dotted paths (wrappers included), settings the
env's builder can apply. The block's schema is in :mod:`rlft.config.schema` (``import rlft.envs``
registers CurveTrace with gymnasium, so nothing light can live here)."""

from __future__ import annotations

import difflib
import importlib
from typing import Any, Callable

from omegaconf import DictConfig

from rlft.config.checks import one_of, positive, require
from rlft.errors import ConfigError

# id prefixes of well-known packages that register their envs on import (gymnasium 1.x loads none)
REGISTERED_BY = {"ALE/": "ale_py", "MiniGrid-": "minigrid", "BabyAI-": "minigrid"}
APIS = ("gymnasium", "gym")


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
        raise ConfigError(
            f"env.id={env_id!r} is not a registered gymnasium environment{hint}{_module_hint(module, bare_id)}"
        )


def _module_hint(module: str, bare_id: str) -> str:
    """How to name the package that registers ``bare_id``: the ``module:Id`` form."""
    if module:
        return f"; importing {module!r} did not register it"
    known = next((package for prefix, package in REGISTERED_BY.items() if bare_id.startswith(prefix)), None)
    if known is not None:
        return f"; {known} registers it: write env.id={known}:{bare_id}"
    return f"; if a package registers it, write env.id=<package>:{bare_id}"


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
    validate_wrapping(cfg)
    for key in ("env.normalize.clip_obs", "env.normalize.clip_reward"):
        positive(cfg, key)


def validate_wrapping(cfg: DictConfig) -> None:
    """``env.api``, ``env.atari``, ``env.wrappers`` and ``env.frame_stack`` as far as they can be
    checked without building the env (``probe_spaces`` builds one next: a wrapper's constructor
    errors are caught there, naming it)."""
    env = cfg.env
    one_of(cfg, "env.api", APIS)
    require(
        env.api == "gymnasium" or env._target_ is not None,
        "env.api=gym adapts an env built by env._target_ (gymnasium.make checks the new API): "
        "set env.id=null env._target_=<module.Class>",
    )
    positive(cfg, "env.frame_stack")
    for index, entry in enumerate(env.wrappers):
        target = entry.get("_target_")
        require(
            isinstance(target, str) and bool(target),
            f"env.wrappers[{index}] has no _target_: write each entry as {{_target_: pkg.Wrapper, <kwargs>}}",
        )
        locate(target, f"env.wrappers[{index}]._target_")
    wrapped = env.api != "gymnasium" or env.atari or len(env.wrappers) > 0 or env.frame_stack is not None
    require(
        not wrapped or env.vec_env in ("dummy", "subproc"),
        f"env.vec_env={env.vec_env} builds its envs itself, so env.api, env.atari, env.wrappers and "
        "env.frame_stack cannot reach them: use env.vec_env=dummy or subproc",
    )
