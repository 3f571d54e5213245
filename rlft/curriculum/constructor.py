"""Whether the env's constructor takes a given keyword argument.

The classic curriculum layout names a stage with ``environment.stage``; that key is the env's own
argument only for an env whose constructor takes ``stage`` (CurveTrace), and for any other env it
is the stage's name alone, which must never reach the constructor. Reading the signature imports
the env's module (not torch or SB3), so it happens only for a classic entry that has the key.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any, Callable

from omegaconf import DictConfig

from rlft.errors import ConfigError


def _constructor(env_cfg: DictConfig) -> Callable[..., Any]:
    """What ``env.id`` (its registered entry point) or ``env._target_`` calls to build one env."""
    from rlft.envs.factory import import_object

    if env_cfg.id is None:
        return import_object(env_cfg._target_)
    import gymnasium
    from gymnasium.envs.registration import load_env_creator

    import rlft.envs  # noqa: F401  (registers the built-in envs)

    module, _, bare_id = str(env_cfg.id).rpartition(":")
    if module:
        importlib.import_module(module)
    entry = gymnasium.spec(bare_id).entry_point
    creator = load_env_creator(entry) if isinstance(entry, str) else entry
    if creator is None:
        raise ConfigError(f"env.id={env_cfg.id!r} is registered without an entry point")
    return creator


def takes_argument(env_cfg: DictConfig, name: str) -> bool:
    """True when the constructor names ``name`` or takes ``**kwargs`` (then it decides itself),
    or when it has no signature to read."""
    try:
        parameters = inspect.signature(_constructor(env_cfg)).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(p.name == name or p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)
