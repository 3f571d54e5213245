"""The small checks every block's validator is made of; each failure is one-line
:class:`~rlft.errors.ConfigError` naming the key, the value and what to change."""

from __future__ import annotations

import math
import re
from typing import Any, Iterator

from omegaconf import DictConfig, ListConfig, OmegaConf

from rlft.config.schema import OPEN_DICTS, schema_node
from rlft.errors import ConfigError

# a name that becomes one folder: no separator, no "..", no hidden or option-like first character
_FOLDER_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.=+-]*$")


def require(ok: bool, message: str) -> None:
    if not ok:
        raise ConfigError(message)


def _number(key: str, value: Any) -> Any:
    """``value`` unless it is NaN or infinite (every comparison with NaN is False, so a bound alone
    would let it through)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{key}={value} is not a finite number")
    return value


def positive(cfg: DictConfig, key: str) -> None:
    value = _number(key, OmegaConf.select(cfg, key))
    if value is not None:
        require(value > 0, f"{key}={value} must be > 0")


def at_least(cfg: DictConfig, key: str, low: float, why: str = "") -> None:
    """``key`` is null or ``>= low``."""
    value = _number(key, OmegaConf.select(cfg, key))
    if value is not None:
        require(value >= low, f"{key}={value} must be >= {low}{f' ({why})' if why else ''}")


def seed(cfg: DictConfig, key: str) -> None:
    at_least(cfg, key, 0, "gymnasium seeds are non-negative")


def one_of(cfg: DictConfig, key: str, allowed: tuple[str, ...]) -> None:
    value = OmegaConf.select(cfg, key)
    require(value in allowed, f"{key}={value!r} is not valid: use one of {', '.join(allowed)}")


def in_unit_interval(cfg: DictConfig, key: str, *, low_open: bool = False) -> None:
    value = _number(key, OmegaConf.select(cfg, key))
    if value is None:
        return
    ok = (0 < value <= 1) if low_open else (0 <= value <= 1)
    require(ok, f"{key}={value} must be in {'(0, 1]' if low_open else '[0, 1]'}")


def folder_name(cfg: DictConfig, key: str) -> None:
    """``key`` names one folder inside its root: letters, digits and ``_ . - = +``, no ``/``, no
    ``..``, not hidden (a name like ``../../x`` would write outside ``paths.output_dir``)."""
    plain_folder_name(OmegaConf.select(cfg, key), key)


def plain_folder_name(value: Any, key: str) -> None:
    """:func:`folder_name` of a value that is not in a config (a curriculum stage's name)."""
    require(
        isinstance(value, str) and bool(_FOLDER_NAME.match(value)) and ".." not in value,
        f"{key}={value!r} is not a plain folder name: use letters, digits, '_', '.', '-' (no '/', '..' or leading '.')",
    )


def _leaves(node: Any, prefix: str) -> Iterator[tuple[str, Any]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _leaves(value, f"{prefix}.{key}" if prefix else str(key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _leaves(value, f"{prefix}[{i}]")
    else:
        yield prefix, node


def finite_numbers(cfg: DictConfig | ListConfig, skip: tuple[str, ...] = ("hydra",)) -> None:
    """Every number of the config (free-form dicts and lists included) is finite: NaN and
    infinity pass any bound check unnoticed or break training much later."""
    body = OmegaConf.masked_copy(cfg, [str(k) for k in cfg if k not in skip]) if isinstance(cfg, DictConfig) else cfg
    for key, value in _leaves(OmegaConf.to_container(body, resolve=True), ""):
        _number(key, value)


def known_keys(cfg: DictConfig, schema: DictConfig, open_keys: tuple[str, ...], prefix: str = "") -> None:
    """No key the schema lacks (Hydra's ``+key=value`` adds one even to a struct config); the
    free-form dicts ``open_keys`` (and any dict the schema leaves empty) take any key."""
    for key in cfg:
        path = f"{prefix}{key!s}"
        if prefix == "" and key == "hydra":
            continue
        if key not in schema.keys():
            from rlft.config.keys import suggest

            hint = suggest(path) or "remove it (rlft train --cfg job shows every key)"
            raise ConfigError(f"unknown key {path!r}: {hint}")
        mine, theirs = cfg._get_node(key), schema._get_node(key)
        if (
            isinstance(mine, DictConfig)
            and isinstance(theirs, DictConfig)
            and path not in open_keys
            and not mine._is_none()
            and not mine._is_missing()
            and len(theirs) > 0
        ):
            known_keys(mine, theirs, open_keys, f"{path}.")


def sound_settings(cfg: DictConfig) -> None:
    """Every key is one the schema knows and every number is finite: what any composed config
    (a run's, or the env settings of an evaluation) must meet before a feature reads it."""
    known_keys(cfg, schema_node(), OPEN_DICTS)
    finite_numbers(cfg)
