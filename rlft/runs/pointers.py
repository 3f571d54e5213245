"""``best`` and ``final`` as pointers: a relative symlink to a versioned folder ``.best.v<N>``.

A new model is written whole as the next version, then the symlink is replaced in one atomic
step, so at every instant ``best/model.zip`` is a complete model (or, before the first save, absent).
Old versions are removed after the swap unless a kept checkpoint still names them (the ``best`` a
resume goes back to).
"""

from __future__ import annotations

import os
from pathlib import Path

from rlft.io import remove_dir, replace_symlink


def version_dir(link: Path, number: int) -> Path:
    return link.with_name(f".{link.name}.v{number}")


def versions(link: Path) -> list[tuple[int, Path]]:
    """Complete versions of ``link``, oldest first (a version exists only once written whole)."""
    prefix = f".{link.name}.v"
    if not link.parent.is_dir():
        return []
    found = [
        (int(c.name[len(prefix) :]), c)
        for c in link.parent.iterdir()
        if c.name.startswith(prefix) and c.name[len(prefix) :].isdigit() and c.is_dir()
    ]
    return sorted(found)


def next_version(link: Path) -> Path:
    found = versions(link)
    return version_dir(link, found[-1][0] + 1 if found else 1)


def current(link: Path) -> str | None:
    """The version folder's name ``link`` points to, or None (no pointer, or an old real folder)."""
    return os.readlink(link) if link.is_symlink() else None


def point(link: Path, version: Path) -> None:
    """Make ``link`` point to ``version`` atomically; an old run's real ``link`` folder is replaced
    (the new version is complete before it goes, and recovery re-points a missing link)."""
    if link.is_dir() and not link.is_symlink():
        remove_dir(link)
    replace_symlink(link, version.name)


def prune(link: Path, keep: set[str]) -> list[Path]:
    """Remove the versions of ``link`` it does not point to and that ``keep`` does not name."""
    wanted = keep | {current(link)}
    removed = [folder for _, folder in versions(link) if folder.name not in wanted]
    for folder in removed:
        remove_dir(folder)
    return removed
