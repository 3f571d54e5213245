"""Staging folders left by killed registrations are neither champions nor errors, and get cleaned."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rlft.champions import manifest as mf
from rlft.champions.storage import Storage
from rlft.errors import ConfigError


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _staging(root: Path, owner: str, with_manifest: bool) -> Path:
    folder = root / f".staging-{owner}-k3x9_q"
    folder.mkdir(parents=True)
    if with_manifest:  # killed just before the final rename
        (folder / mf.MANIFEST).write_text('{"name": "x", "version": 1}')
    return folder


def test_killed_registrations_are_ignored_and_cleaned(tmp_path: Path) -> None:
    host = socket.gethostname()
    complete = _staging(tmp_path, f"{host}.{_dead_pid()}", with_manifest=True)
    empty = _staging(tmp_path, f"{host}.{_dead_pid()}", with_manifest=False)
    legacy = tmp_path / ".staging-oldstyle"
    legacy.mkdir()
    os.utime(legacy, (time.time() - 7200, time.time() - 7200))
    recent_legacy = tmp_path / ".staging-justnow"
    recent_legacy.mkdir()
    alive = _staging(tmp_path, f"{host}.{os.getpid()}", with_manifest=True)
    storage = Storage(tmp_path)
    assert storage.names() == [] and storage.versions(".staging") == []
    assert storage.champions() == []
    assert not complete.exists() and not empty.exists() and not legacy.exists()
    assert alive.exists() and recent_legacy.exists(), "a registration in progress is left alone"


def test_an_unknown_champion_message_survives_leftovers(tmp_path: Path) -> None:
    _staging(tmp_path, f"{socket.gethostname()}.{_dead_pid()}", with_manifest=True)
    with pytest.raises(ConfigError, match=r"champion 'nope' is not in the registry .*registered: none yet"):
        Storage(tmp_path).get("nope")
