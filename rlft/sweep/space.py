"""Check a sweep's search space before any job starts (``hydra.sweeper.params`` of the Optuna
sweeper, and ``interval``/``range``/``choice`` sweeps on the command line)."""

from __future__ import annotations

from typing import Any, Iterable

from rlft.errors import ConfigError


def check_sweep(key: str, text: str) -> None:
    """One ``key=value`` of a search space; a one-line error names the key and the fix."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.core.override_parser.types import ChoiceSweep, IntervalSweep, RangeSweep

    try:
        override = OverridesParser.create().parse_override(f"{key}={text}")
    except Exception as exc:  # noqa: BLE001  (Hydra's grammar errors are long; keep the first line)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"search space {key}={text}: {first}") from None
    value = override.value()
    tags: set[str] = getattr(value, "tags", set()) or set()
    if isinstance(value, IntervalSweep):
        assert value.start is not None and value.end is not None  # the grammar's interval(a, b) sets both
        if not value.start < value.end:
            raise ConfigError(
                f"search space {key}={text}: interval start {value.start} must be below its end {value.end}"
            )
        if "log" in tags and value.start <= 0:
            raise ConfigError(f"search space {key}={text}: a log interval needs a start > 0")
    elif isinstance(value, RangeSweep):
        assert value.start is not None and value.stop is not None  # so does range(a, b)
        step = value.step or 1
        if (value.stop - value.start) * step <= 0:
            raise ConfigError(f"search space {key}={text}: range({value.start}, {value.stop}, step={step}) is empty")
    elif isinstance(value, ChoiceSweep) and not value.list:
        raise ConfigError(f"search space {key}={text}: choice() lists no values")


def check_space(params: dict[str, Any] | None, overrides: Iterable[str] = ()) -> None:
    """Every entry of the sweeper's ``params`` and every sweep among the command-line overrides."""
    for key, text in (params or {}).items():
        check_sweep(str(key), str(text))
    for item in overrides:
        key, sep, text = item.partition("=")
        if sep and any(word in text for word in ("interval(", "range(", "choice(")):
            check_sweep(key, text)
