"""The names a run can be judged by (best model, early stopping, promotion, the registration gate,
a sweep's objective).

Two namespaces that never mix: rlft's own evaluation summary fields (``success_rate``,
``mean_reward``, ...) and the env's numeric episode-end ``info`` values, averaged over episodes,
under ``info/<key>`` (a counter dict ``{name: count}`` under ``info/<key>/<name>``). An env whose
info has a ``reward`` key therefore lands in ``info/reward`` and cannot overwrite ``mean_reward``.

Which ``info/`` names exist is only known once the env has finished an episode, so config checks
accept any well-formed ``info/<key>`` and :func:`missing_metric` words the error for the first
evaluation that lacks it. Pure config code: no torch, SB3 or gymnasium.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Mapping

from rlft.errors import ConfigError

OWN_METRICS = ("success_rate", "mean_reward", "mean_length", "std_reward", "reward_per_step")
INFO_PREFIX = "info/"
_INFO_NAME = re.compile(r"^info/[^/\s]+(/[^/\s]+)?$")


def info_metric(key: str, name: str | None = None) -> str:
    """``info/<key>`` (or ``info/<key>/<name>`` for one entry of a counter dict)."""
    return f"{INFO_PREFIX}{key}" if name is None else f"{INFO_PREFIX}{key}/{name}"


def is_info_metric(name: str) -> bool:
    return bool(_INFO_NAME.match(name))


def check_metric_name(name: Any, key: str) -> None:
    """One line unless ``name`` is one of rlft's own metrics or a well-formed ``info/<key>``."""
    if isinstance(name, str) and (name in OWN_METRICS or is_info_metric(name)):
        return
    raise ConfigError(
        f"{key}={name!r} is not a metric: use one of {', '.join(OWN_METRICS)}, or info/<key> for a "
        "number your env reports in its episode-end info (e.g. info/coverage)"
    )


def missing_metric(name: str, available: Iterable[str], where: str) -> ConfigError:
    """The error for a metric the evaluation did not produce, naming the ones it did."""
    names = sorted(n for n in available if n in OWN_METRICS or is_info_metric(n))
    return ConfigError(
        f"{where}: metric {name!r} is not reported by this env's evaluation; it reports {', '.join(names) or 'nothing'}"
    )


def metric_value(summary: Mapping[str, Any], name: str, where: str) -> float | None:
    """``summary[name]``; ``None`` for ``success_rate`` of an env that reports no success, and a
    :func:`missing_metric` error for any other name the summary lacks."""
    if name in summary:
        value = summary[name]
        return None if value is None else float(value)
    if name == "success_rate":
        return None
    raise missing_metric(name, summary, where)
