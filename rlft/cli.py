"""Turn user-fixable errors into one line on stderr and exit code 2; bugs keep their traceback."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Iterator

from rlft.errors import ENVIRONMENT_ERRNOS, AbortRun, RlftError

EXIT_USER_ERROR = 2


def _first_line(text: str) -> str:
    return next((line.strip() for line in str(text).splitlines() if line.strip()), "")


def _natural(option: str) -> tuple[bool, int, str]:
    return (not option.isdigit(), int(option) if option.isdigit() else 0, option)


def describe_config_error(exc: BaseException) -> str | None:
    """One line for Hydra/OmegaConf composition errors, or None if ``exc`` is not one."""
    from hydra.errors import HydraException, MissingConfigException, OverrideParseException
    from omegaconf.errors import ConfigAttributeError, ConfigKeyError, OmegaConfBaseException

    if isinstance(exc, MissingConfigException):
        missing = exc.missing_cfg_file or ""
        group, _, option = missing.rpartition("/")
        if exc.options and group:
            import difflib

            close = difflib.get_close_matches(option, exc.options, n=1, cutoff=0.6)
            hint = f"did you mean {group}={close[0]}? " if close else ""
            return (
                f"unknown option {option!r} for config group {group!r}: "
                f"{hint}choose one of {', '.join(sorted(exc.options, key=_natural))}"
            )
        return _first_line(str(exc))
    if isinstance(exc, OverrideParseException):
        return (
            f"{exc.override!r} is not a valid key=value override: quote a value with spaces or "
            "non-ASCII characters (key='...'), or see https://hydra.cc/docs/advanced/override_grammar/basic"
        )
    cause = exc.__cause__ if isinstance(exc, HydraException) else exc
    if isinstance(cause, OmegaConfBaseException):
        key = getattr(cause, "full_key", None)
        message = _first_line(getattr(cause, "msg", None) or str(cause))
        if key and key not in message:
            message = f"{key}: {message}"
        context = _first_line(str(exc)).rstrip(".") if cause is not exc else ""
        if isinstance(cause, (ConfigKeyError, ConfigAttributeError)):
            from rlft.config.keys import suggest

            hint = (
                suggest(str(key or getattr(cause, "key", "") or ""))
                or "check the key name: rlft train --cfg job shows every key"
            )
        else:
            hint = "fix the value in the override or config file"
        return f"{context}: {message} ({hint})" if context else f"{message} ({hint})"
    if isinstance(exc, HydraException):
        return _first_line(str(exc))
    return None


def describe_environment_error(exc: BaseException) -> str | None:
    """One line for an ``OSError`` the user fixes outside rlft (disk full, permissions), else None."""
    if not isinstance(exc, OSError) or exc.errno not in ENVIRONMENT_ERRNOS:
        return None
    where = f": {exc.filename}" if exc.filename else ""
    return f"{exc.strerror or exc}{where} (free some space, or choose a folder you can write to)"


def _report(exc: BaseException) -> None:
    message = str(exc) if isinstance(exc, RlftError) else describe_environment_error(exc) or describe_config_error(exc)
    if message is None:
        raise exc
    print(f"error: {message}", file=sys.stderr)
    sys.exit(EXIT_USER_ERROR)


@contextmanager
def user_errors() -> Iterator[None]:
    try:
        yield
    except AbortRun as abort:
        _report(abort.error)
    except Exception as exc:
        _report(exc)
