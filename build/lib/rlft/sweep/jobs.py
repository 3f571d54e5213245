"""One sweep job's record: ``job.json`` in its folder says how it ended, whatever happened.

A job that crashes or gets invalid parameters must not stop the sweep: the task function records
the failure here and returns NaN (a failed trial for Optuna) instead of raising, so the launcher
goes on with the other jobs and the summary lists the failure with its error.
"""

from __future__ import annotations

import traceback
from pathlib import Path
from typing import Any

from rlft.io import atomic_write_json, read_json

JOB_FILE = "job.json"
OK, FAILED = "ok", "failed"


def record(folder: Path, status: str, **fields: Any) -> None:
    atomic_write_json(folder / JOB_FILE, {"status": status, **fields})


def record_failure(folder: Path, exc: BaseException, **fields: Any) -> str:
    """Write the failure (one-line error and the traceback's tail); returns the error line."""
    from rlft.errors import AbortRun, RlftError

    error = exc.error if isinstance(exc, AbortRun) else exc
    line = f"{type(error).__name__}: {str(error).strip().splitlines()[0] if str(error).strip() else ''}"
    detail = "" if isinstance(error, RlftError) else "".join(traceback.format_exception(error))[-4000:]
    record(folder, FAILED, error=line, traceback=detail, **fields)
    return line


def read(folder: Path) -> dict[str, Any] | None:
    path = folder / JOB_FILE
    return read_json(path) if path.is_file() else None


def derived_seed(base: int, job_num: int) -> int:
    """Distinct seeds per job unless the user fixed ``seed=``: the base seed plus the job number."""
    return base + job_num
