"""Champion names and versions: ``best_stop`` is version 1, ``best_stop@v2`` the next registration."""

from __future__ import annotations

import re

from rlft.errors import ConfigError

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")  # ASCII only: a folder name on any file system
_REF = re.compile(r"(?P<name>[^@]+)(@v(?P<version>[1-9][0-9]*))?")


def check_name(name: str) -> str:
    """A plain folder name: letters, digits, ``_ . -``; no path separator, no ``..``, no ``@``."""
    if not isinstance(name, str) or not _NAME.fullmatch(name) or ".." in name:
        raise ConfigError(
            f"champion name {name!r} is not valid: use 1-64 letters, digits, '_', '.' or '-', "
            "starting with a letter or digit (no '/', '..' or '@')"
        )
    return name


def parse_ref(ref: str) -> tuple[str, int | None]:
    """``name`` -> (name, None = the latest version); ``name@v3`` -> (name, 3)."""
    match = _REF.fullmatch(str(ref))
    if not match:
        raise ConfigError(f"champion {ref!r} is not valid: write NAME or NAME@vN")
    version = match.group("version")
    return check_name(match.group("name")), int(version) if version else None


def folder_name(name: str, version: int) -> str:
    return name if version == 1 else f"{name}@v{version}"
