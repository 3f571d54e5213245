"""One sweep job's record: ``job.json`` in its folder says how it ended, whatever happened.

A job that crashes or gets invalid parameters must not stop the sweep: the job records the failure
here and the task function returns NaN (a failed trial for Optuna) instead of raising, so the
launcher goes on with the other jobs and the summary lists the failure with its error. A job whose
process dies hard (a signal: the OOM killer, a segfault, an abort) cannot record anything itself;
its supervisor records the death (:mod:`rlft.sweep.isolation`).
"""

from __future__ import annotations

import signal
import traceback
from pathlib import Path
from typing import Any

from rlft.io import atomic_write_json, read_json

JOB_FILE = "job.json"
OK, FAILED = "ok", "failed"
# what usually sends each signal, for the one-line error of a job that died of it
DEATHS = {
    "SIGKILL": "the job's process was killed (out of memory? the OOM killer sends SIGKILL; see dmesg)",
    "SIGSEGV": "the job's process crashed (a segmentation fault in native code)",
    "SIGABRT": "the job's process aborted (a failed check in native code, or os.abort())",
    "SIGBUS": "the job's process crashed (a bus error: native code, or a full /dev/shm)",
}


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


def record_death(folder: Path, exit_code: int, **fields: Any) -> str:
    """Write the failure of a job process that ended without a record: killed by a signal
    (``exit_code`` minus the signal number, as :mod:`multiprocessing` reports it) or exited;
    returns the error line."""
    name = signal.Signals(-exit_code).name if exit_code < 0 else None
    if name:
        line = f"{name}: " + DEATHS.get(name, "the job's process was killed by a signal")
    else:
        line = f"the job's process exited with code {exit_code} without recording a result (see the sweep's output)"
    record(folder, FAILED, error=line, traceback="", signal=name, exit_code=exit_code, **fields)
    return line


def read(folder: Path) -> dict[str, Any] | None:
    path = folder / JOB_FILE
    return read_json(path) if path.is_file() else None


def identity(seed: int) -> tuple[Path, dict[str, Any]]:
    """The running job's folder and the fields every ``job.json`` starts with (job number,
    overrides, seed), from Hydra's job config."""
    from hydra.core.hydra_config import HydraConfig

    hydra_cfg = HydraConfig.get()
    return Path(hydra_cfg.runtime.output_dir), {
        "job": hydra_cfg.job.num,
        "overrides": list(hydra_cfg.overrides.task),
        "seed": seed,
    }


def derived_seed(base: int, job_num: int) -> int:
    """Distinct seeds per job unless the user fixed ``seed=``: the base seed plus the job number."""
    return base + job_num
