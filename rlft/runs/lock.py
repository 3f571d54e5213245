"""``<run>/.lock``: which process works in a run folder, so two never do at once.

The lock file is created with ``O_CREAT | O_EXCL`` (only one process can create it) and holds the
pid, host and start time. A lock whose process is dead (killed, power cut) is stale: the next
process takes it over and marks the dead process's "running" metrics as interrupted.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import time
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Iterator

from rlft.errors import RunFolderError
from rlft.runs.layout import RunFolder
from rlft.runs.metrics import FAILED, RUNNING, MetricsFile

log = logging.getLogger("rlft")

LOCK_FILE = ".lock"
_EMPTY_GRACE_S = 10.0  # an empty lock younger than this may be a process still writing its pid


class RunInUse(RunFolderError):
    """Another living process holds the run folder's lock."""


def _path(run: RunFolder):
    return run.root / LOCK_FILE


def holder(run: RunFolder) -> dict[str, Any] | None:
    """The lock's content ({} when unreadable), or None when there is no lock."""
    try:
        text = _path(run).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def process_alive(host: str | None, pid: int) -> bool:
    """Whether a process may still run: one on another host cannot be checked, so it counts."""
    if host != socket.gethostname():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _alive(info: dict[str, Any], lock_age_s: float) -> bool:
    pid = info.get("pid")
    if not isinstance(pid, int):  # empty: killed right after creating it, or still writing it
        return lock_age_s < _EMPTY_GRACE_S
    return process_alive(info.get("host"), pid)


def describe(info: dict[str, Any]) -> str:
    return f"process {info.get('pid', '?')} on {info.get('host', '?')} (since {info.get('started', '?')})"


def live_holder(run: RunFolder) -> dict[str, Any] | None:
    """The lock's content when a living process (other than this one) holds it, else None."""
    info = holder(run)
    if info is None or info.get("pid") == os.getpid():
        return None
    try:
        age = time.time() - _path(run).stat().st_mtime
    except FileNotFoundError:
        return None
    return info if _alive(info, age) else None


def _mark_interrupted(run: RunFolder, info: dict[str, Any]) -> None:
    """The dead holder left ``metrics.json`` "running": say it was interrupted."""
    if not run.metrics_file.is_file():
        return
    metrics = MetricsFile.load(run.metrics_file)
    if metrics.data.get("status") == RUNNING:
        metrics.update(status=FAILED, message=f"interrupted (process {info.get('pid', '?')} died)")
        log.warning("%s: marked failed: interrupted (process %s died)", run.root, info.get("pid", "?"))


def _create(run: RunFolder) -> bool:
    _path(run).parent.mkdir(parents=True, exist_ok=True)  # a fresh run's folder may not exist yet
    try:
        fd = os.open(_path(run), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(
            {"pid": os.getpid(), "host": socket.gethostname(), "started": datetime.now().isoformat(timespec="seconds")},
            handle,
        )
    return True


def acquire(run: RunFolder) -> dict[str, Any] | None:
    """Take the lock (taking over a stale one); None on success, else the living holder's content."""
    for _ in range(3):
        if _create(run):
            return None
        living = live_holder(run)
        if living is not None:
            return living
        info = holder(run)
        if info is None:
            continue  # released meanwhile
        if info.get("pid") == os.getpid():
            return None
        _mark_interrupted(run, info)
        log.warning("%s: took over the lock of %s, which is gone", run.root, describe(info))
        _path(run).unlink(missing_ok=True)
    return holder(run) or {}


def release(run: RunFolder) -> None:
    info = holder(run)
    if info is not None and info.get("pid") == os.getpid():
        _path(run).unlink(missing_ok=True)


@contextmanager
def hold(run: RunFolder) -> Iterator[dict[str, Any] | None]:
    """Hold the run folder while inside; yields None, or the living holder's content when another
    process has it (then nothing is held). Re-entrant: an inner hold leaves release to the outer."""
    if (holder(run) or {}).get("pid") == os.getpid():
        yield None
        return
    living = acquire(run)
    try:
        yield living
    finally:
        if living is None:
            release(run)


@contextmanager
def run_lock(run: RunFolder) -> Iterator[None]:
    """Hold the run folder for this process, or refuse with one line naming the holder."""
    with hold(run) as living:
        if living is not None:
            raise RunInUse(
                f"{run.root} is in use by {describe(living)}: wait for it to finish "
                f"(or, if that process is gone, delete {_path(run)})"
            )
        yield
