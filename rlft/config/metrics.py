"""The names a run can be judged by (best model, early stopping, promotion, the registration gate,
a sweep's objective).

Two namespaces that never mix: rlft's own evaluation summary fields (``success_rate``,
``mean_reward``, ...) and the env's numeric episode-end ``info`` values, averaged over episodes,
under ``info/<key>`` (a counter dict ``{name: count}`` under ``info/<key>/<name>``). An env whose
info has a ``reward`` key therefore lands in ``info/reward`` and cannot overwrite ``mean_reward``.

Which ``info/`` names exist is only known once the env has finished an episode, so config checks
accept any well-formed ``info/<key>`` and :func:`missing_metric` (or :func:`require_metrics`)
words the error for the first evaluation that lacks it. :class:`Gate` is the registration gate's
grammar (``mean_reward>=200``). Pure config code: no torch, SB3 or gymnasium.
"""

from __future__ import annotations

import math
import operator
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Mapping

from rlft.errors import ConfigError

OWN_METRICS = ("success_rate", "mean_reward", "mean_length", "std_reward", "reward_per_step")
INFO_PREFIX = "info/"
_INFO_NAME = re.compile(r"^info/[^/\s]+(/[^/\s]+)?$")


def info_metric(key: str, name: str | None = None) -> str:
    """``info/<key>`` (or ``info/<key>/<name>`` for one entry of a counter dict)."""
    return f"{INFO_PREFIX}{key}" if name is None else f"{INFO_PREFIX}{key}/{name}"


def is_info_metric(name: str) -> bool:
    return bool(_INFO_NAME.match(name))


def check_metric_name(name: Any, key: str, given: str | None = None) -> None:
    """One line unless ``name`` is one of rlft's own metrics or a well-formed ``info/<key>``
    (``given``: the whole value the name came from, when it was more than the name)."""
    if isinstance(name, str) and (name in OWN_METRICS or is_info_metric(name)):
        return
    where = f"{key}={name!r}" if given is None else f"{key}={given!r}: {name!r}"
    raise ConfigError(
        f"{where} is not a metric: use one of {', '.join(OWN_METRICS)}, or info/<key> for a "
        "number your env reports in its episode-end info (e.g. info/coverage)"
    )


def missing_metric(name: str, available: Iterable[str], where: str) -> ConfigError:
    """The error for a metric the evaluation did not produce, naming the ones it did."""
    names = sorted(n for n in available if n in OWN_METRICS or is_info_metric(n))
    return ConfigError(
        f"{where}: metric {name!r} is not reported by this env's evaluation; it reports {', '.join(names) or 'nothing'}"
    )


def named_metrics(cfg: Any) -> dict[str, str]:
    """The metrics a run's config names, each with the key naming it (for :func:`require_metrics`):
    ``env.metrics``, ``eval.metric`` (unless ``auto``), ``early_stop.metric`` and ``optimized_metric``."""
    named = {name: f"env.metrics[{i}]" for i, name in enumerate(cfg.env.metrics)}
    for key, name in (
        ("eval.metric", cfg.eval.metric),
        ("early_stop.metric", cfg.early_stop.metric),
        ("optimized_metric", cfg.optimized_metric),
    ):
        if name is not None and name != "auto":
            named.setdefault(name, key)
    return named


def require_metrics(summary: Mapping[str, Any], named: Mapping[str, str]) -> None:
    """One line for the first named metric an evaluation summary lacks (``success_rate`` included,
    when the env reports no success)."""
    for name, key in named.items():
        if summary.get(name) is None:
            raise missing_metric(name, (n for n, v in summary.items() if v is not None), key)


def metric_value(summary: Mapping[str, Any], name: str, where: str) -> float | None:
    """``summary[name]``; ``None`` for ``success_rate`` of an env that reports no success, and a
    :func:`missing_metric` error for any other name the summary lacks."""
    if name in summary:
        value = summary[name]
        return None if value is None else float(value)
    if name == "success_rate":
        return None
    raise missing_metric(name, summary, where)


_COMPARISONS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
}
_GATE = re.compile(r"^\s*([^<>=\s]+)\s*(>=|<=|>|<)\s*(\S+)\s*$")


@dataclass(frozen=True)
class Gate:
    """``<metric><op><level>`` (``mean_reward>=200``, ``info/ess>=0.8``): what a model must reach
    to be registered."""

    metric: str
    op: str
    level: float

    def passes(self, value: float) -> bool:
        return _COMPARISONS[self.op](value, self.level)

    def __str__(self) -> str:
        return f"{self.metric}{self.op}{self.level:g}"


def parse_gate(text: str, key: str = "gate") -> Gate:
    """A :class:`Gate` from its text, or one line saying how to write one."""
    how = f"write {key}='<metric><op><number>' with op one of >=, <=, >, <, e.g. {key}='mean_reward>=200'"
    match = _GATE.match(text)
    if match is None:
        raise ConfigError(f"{key}={text!r} is not a gate: {how}")
    name, op, number = match.groups()
    check_metric_name(name, key, text)
    try:
        level = float(number)
    except ValueError:
        raise ConfigError(f"{key}={text!r}: {number!r} is not a number; {how}") from None
    if not math.isfinite(level):
        raise ConfigError(f"{key}={text!r}: the level must be a finite number")
    return Gate(name, op, level)
