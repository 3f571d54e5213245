"""The run folder's lock: one process at a time, stale locks of dead processes taken over."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from rlft.runs.layout import RunFolder
from rlft.runs.lock import RunInUse, run_lock
from rlft.runs.metrics import MetricsFile
from rlft.runs.recovery import recover


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _lock(run: RunFolder, pid: int) -> None:
    (run.root / ".lock").write_text(json.dumps({"pid": pid, "host": socket.gethostname(), "started": "then"}))


def test_the_lock_holds_the_pid_and_is_released_on_an_exception(tmp_path: Path) -> None:
    run = RunFolder(tmp_path)
    with pytest.raises(KeyError):
        with run_lock(run):
            held = json.loads((tmp_path / ".lock").read_text())
            assert held["pid"] == os.getpid() and held["host"] == socket.gethostname()
            with run_lock(run):  # re-entrant: the inner one leaves it held
                pass
            assert (tmp_path / ".lock").is_file()
            raise KeyError("boom")
    assert not (tmp_path / ".lock").exists()


def test_a_living_holder_is_refused_naming_its_pid(tmp_path: Path) -> None:
    run = RunFolder(tmp_path)
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        _lock(run, other.pid)
        with pytest.raises(RunInUse, match=f"in use by process {other.pid} on"):
            with run_lock(run):
                pass
        assert recover(run) == [], "a folder in use is not touched"
    finally:
        other.kill()
        other.wait()


def test_a_stale_lock_is_taken_over_and_the_dead_run_marked_interrupted(tmp_path: Path) -> None:
    run = RunFolder(tmp_path)
    MetricsFile.create(run.metrics_file)
    pid = _dead_pid()
    _lock(run, pid)
    recover(run)
    data = json.loads(run.metrics_file.read_text())
    assert data["status"] == "failed" and data["message"] == f"interrupted (process {pid} died)"
    assert not (tmp_path / ".lock").exists()
    with run_lock(run):
        assert json.loads((tmp_path / ".lock").read_text())["pid"] == os.getpid()
