"""Test-only crash injection: run an rlft CLI and kill it (SIGKILL) at its n-th write, rename or
delete, through the ``RLFT_FAULT`` hook of :func:`rlft.io.fault_point`.

``count_points`` runs the command once in counting mode to learn how many such points it passes;
``run_killed`` then kills it at one of them. A test kills at every point in turn.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Sequence

from rlft.io import FAULT_ENV
from tests.conftest import REPO


def _run(args: Sequence[str], cwd: Path, module: str, fault: str | None, timeout: int = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("HYDRA_FULL_ERROR", None)
    env.pop(FAULT_ENV, None)
    if fault is not None:
        env[FAULT_ENV] = fault
    return subprocess.run([sys.executable, "-m", module, *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)


def count_points(args: Sequence[str], cwd: Path, module: str, record: Path) -> tuple[subprocess.CompletedProcess, list[str]]:
    """Run the command whole, recording every fault point it passes (``kind path`` lines)."""
    done = _run(args, cwd, module, f"count:{record}")
    return done, record.read_text(encoding="utf-8").splitlines() if record.is_file() else []


def run_killed(args: Sequence[str], cwd: Path, module: str, point: int) -> subprocess.CompletedProcess:
    """Run the command, killed at its ``point``-th fault point (1-based)."""
    done = _run(args, cwd, module, f"*:{point}")
    assert done.returncode == -signal.SIGKILL, f"not killed at point {point}: rc {done.returncode}\n{done.stderr[-2000:]}"
    return done


def run_clean(args: Sequence[str], cwd: Path, module: str) -> subprocess.CompletedProcess:
    return _run(args, cwd, module, None)
