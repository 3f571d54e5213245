"""Every action of an env's action space as a histogram key, with its name when the env gives one.

Evaluation counts actions under keys (``"3"`` for a ``Discrete`` action, ``"0:3"`` for value 3 of
head 0 of a ``MultiDiscrete`` one: :mod:`rlft.evaluation`). A histogram built from those counts
alone skips actions never taken and cannot tell which is STOP, so plots take the keys from the
space and the names from the env's ``action_names`` (a sequence: one name per ``Discrete`` action,
or per head value, head after head), when it has one.
"""

from __future__ import annotations

from typing import Any


def action_keys(space: Any) -> list[str]:
    """The histogram key of every action of a ``Discrete`` or ``MultiDiscrete`` space, in order."""
    from gymnasium import spaces

    if isinstance(space, spaces.Discrete):
        return [str(int(space.start) + i) for i in range(int(space.n))]
    if isinstance(space, spaces.MultiDiscrete) and space.nvec.ndim == 1:
        return [f"{head}:{value}" for head, n in enumerate(space.nvec) for value in range(int(n))]
    return []


def action_labels(space: Any, names: Any = None) -> dict[str, str]:
    """Key -> tick label (``8 STOP``, or the key alone without names or when they do not fit)."""
    keys = action_keys(space)
    named = names is not None and len(names) == len(keys)
    return {key: f"{key} {names[i]}" if named else key for i, key in enumerate(keys)}


def env_action_labels(env: Any) -> dict[str, str]:
    """:func:`action_labels` of a built env, with its (unwrapped) ``action_names`` if it has them."""
    return action_labels(env.action_space, getattr(env.unwrapped, "action_names", None))
