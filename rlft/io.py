"""Atomic file writes: a reader (or a crash) never sees a half-written file.

Everything that matters (metrics, checkpoints, models, the champion registry) goes through these:
write to a temporary sibling, flush to disk, then ``os.replace`` it into place.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
from contextlib import contextmanager
from fnmatch import fnmatch
from pathlib import Path
from typing import Any, Iterator

FAULT_ENV = "RLFT_FAULT"  # tests only: ``count:<file>`` or ``<pattern>:<n>`` (see tests/faults.py)
_fault_hits: dict[str, int] = {}


def fault_point(kind: str, path: str | os.PathLike[str]) -> None:
    """A step after which a crash leaves a different state on disk (write, rename, replace, delete).

    A no-op unless ``RLFT_FAULT`` is set by the crash tests: ``count:<file>`` appends one line per
    point to ``<file>``; ``<pattern>:<n>`` kills this process (SIGKILL, as a power cut would) at the
    n-th point whose ``<kind> <path>`` matches the fnmatch ``<pattern>``.
    """
    spec = os.environ.get(FAULT_ENV)
    if not spec:
        return
    point = f"{kind} {path}"
    mode, _, arg = spec.rpartition(":")
    if mode == "count":
        with open(arg, "a", encoding="utf-8") as handle:
            handle.write(point + "\n")
    elif fnmatch(point, mode):
        _fault_hits[mode] = _fault_hits.get(mode, 0) + 1
        if _fault_hits[mode] == int(arg):
            os.kill(os.getpid(), signal.SIGKILL)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


@contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path in the same folder; on success it replaces ``path`` atomically."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        fault_point("write", tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        tmp.chmod(0o666 & ~_umask())  # mkstemp makes it private; give it a normal file's mode
        fault_point("replace", target)
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def atomic_write_json(path: str | os.PathLike[str], data: Any) -> None:
    """Strict JSON: a NaN or infinity is refused (``ValueError``) before anything is written, since
    other readers (``jq``, JavaScript) reject the bare ``NaN`` Python would write; a value that may
    legitimately be undefined is written as ``null`` by its producer."""
    text = json.dumps(data, indent=2, sort_keys=False, default=_json_default, allow_nan=False)
    atomic_write_text(path, text + "\n")


def _json_default(value: Any) -> Any:
    """numpy scalars and arrays appear in metrics; write them as plain JSON numbers and lists."""
    if hasattr(value, "item") and getattr(value, "ndim", 1) == 0:
        return value.item()
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


@contextmanager
def atomic_dir(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary folder; on success it is renamed to ``path`` (which must not exist yet).

    A crash leaves only a ``.tmp`` folder that readers ignore, never a partial ``path``.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        yield tmp
        tmp.chmod(0o777 & ~_umask())  # mkdtemp makes it private; give it a normal folder's mode
        fault_point("rename", target)
        os.rename(tmp, target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def replace_symlink(link: str | os.PathLike[str], points_to: str) -> None:
    """Make ``link`` a symlink to ``points_to`` (relative to its folder) in one atomic step: a
    reader sees the old target or the new one, never no ``link``."""
    link = Path(link)
    tmp = link.with_name(f".{link.name}.{os.getpid()}.link.tmp")
    tmp.unlink(missing_ok=True)
    os.symlink(points_to, tmp)
    fault_point("replace", link)
    os.replace(tmp, link)


def remove_dir(path: str | os.PathLike[str]) -> None:
    """Delete a folder (or a symlink) so that a crash midway never leaves a half-deleted folder
    under its real name: it is renamed to a hidden ``.tmp`` name first, which clean-ups remove."""
    path = Path(path)
    if path.is_symlink():
        fault_point("unlink", path)
        path.unlink()
        return
    if not path.exists():
        return
    trash = path.with_name(f".{path.name}.{os.getpid()}.del.tmp")
    fault_point("delete", path)
    os.rename(path, trash)
    shutil.rmtree(trash, ignore_errors=True)


def read_json(path: str | os.PathLike[str]) -> Any:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)
