"""The small checks every block's validator is made of; each failure is one-line
:class:`~rlft.errors.ConfigError` naming the key, the value and what to change."""

from __future__ import annotations

from omegaconf import DictConfig, OmegaConf

from rlft.errors import ConfigError


def require(ok: bool, message: str) -> None:
    if not ok:
        raise ConfigError(message)


def positive(cfg: DictConfig, key: str) -> None:
    value = OmegaConf.select(cfg, key)
    if value is not None:
        require(value > 0, f"{key}={value} must be > 0")


def one_of(cfg: DictConfig, key: str, allowed: tuple[str, ...]) -> None:
    value = OmegaConf.select(cfg, key)
    require(value in allowed, f"{key}={value!r} is not valid: use one of {', '.join(allowed)}")


def in_unit_interval(cfg: DictConfig, key: str, *, low_open: bool = False) -> None:
    value = OmegaConf.select(cfg, key)
    if value is None:
        return
    ok = (0 < value <= 1) if low_open else (0 <= value <= 1)
    require(ok, f"{key}={value} must be in {'(0, 1]' if low_open else '[0, 1]'}")
