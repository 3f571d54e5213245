"""Test-only crash injection: run an rlft CLI and kill it (SIGKILL) at its n-th write, rename or
delete, through the ``RLFT_FAULT`` hook of :func:`rlft.io.fault_point`.

``count_points`` runs the command once in counting mode to learn how many such points it passes;
``run_killed`` then kills it at one of them. A test kills at every point in turn. With
``forked=True`` the command's ``main()`` runs in a forked child of the test process instead of a new
interpreter: the same code path, without paying the imports (torch, SB3) for every point.
"""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
import traceback
from pathlib import Path
from typing import Sequence

from rlft.io import FAULT_ENV
from tests.conftest import REPO


def _run(
    args: Sequence[str], cwd: Path, module: str, fault: str | None, timeout: int = 300
) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("HYDRA_FULL_ERROR", None)
    env.pop(FAULT_ENV, None)
    if fault is not None:
        env[FAULT_ENV] = fault
    return subprocess.run(
        [sys.executable, "-m", module, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


def _forked(args: Sequence[str], cwd: Path, module: str, fault: str | None) -> subprocess.CompletedProcess:
    """``python -m module args`` as a forked child running ``module.main(args)``; its exit status
    and output as a subprocess would report them."""
    importlib.import_module(module)  # imported once, in the parent
    out, err = cwd / ".fork.stdout", cwd / ".fork.stderr"
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 1
        try:
            os.chdir(cwd)
            os.environ.pop(FAULT_ENV, None)
            os.environ.pop("HYDRA_FULL_ERROR", None)
            if fault is not None:
                os.environ[FAULT_ENV] = fault
            sys.stdout, sys.stderr = open(out, "w", buffering=1), open(err, "w", buffering=1)
            os.dup2(sys.stdout.fileno(), 1)
            os.dup2(sys.stderr.fileno(), 2)
            sys.argv = [module, *args]
            importlib.import_module(module).main(list(args))
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:  # noqa: BLE001  (reported like an interpreter would)
            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    done = subprocess.CompletedProcess(
        [module, *args],
        os.waitstatus_to_exitcode(status),
        out.read_text(encoding="utf-8"),
        err.read_text(encoding="utf-8"),
    )
    out.unlink()
    err.unlink()
    return done


def count_points(
    args: Sequence[str], cwd: Path, module: str, record: Path
) -> tuple[subprocess.CompletedProcess, list[str]]:
    """Run the command whole, recording every fault point it passes (``kind path`` lines)."""
    done = _run(args, cwd, module, f"count:{record}")
    return done, record.read_text(encoding="utf-8").splitlines() if record.is_file() else []


def run_killed(
    args: Sequence[str], cwd: Path, module: str, point: int, forked: bool = False
) -> subprocess.CompletedProcess:
    """Run the command, killed at its ``point``-th fault point (1-based)."""
    done = (_forked if forked else _run)(args, cwd, module, f"*:{point}")
    assert done.returncode == -signal.SIGKILL, (
        f"not killed at point {point}: rc {done.returncode}\n{done.stderr[-2000:]}"
    )
    return done


def run_clean(args: Sequence[str], cwd: Path, module: str, forked: bool = False) -> subprocess.CompletedProcess:
    return (_forked if forked else _run)(args, cwd, module, None)
