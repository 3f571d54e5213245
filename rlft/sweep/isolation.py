"""Each sweep job runs in a process of its own, so a job that dies hard is one failed job, not a
dead sweep.

A job killed by a signal (SIGKILL from the OOM killer, a segfault, an abort) takes its process
with it. When that process is the launcher's worker (a joblib/loky worker, a Ray worker,
submitit's job process, or the basic launcher's own process), the launcher gives up on the whole
sweep. So the task function only supervises: it starts the job in a child process, waits, and when
the child ended without writing ``job.json`` it records the death (signal, exit code) itself and
returns NaN, like any failed job. This happens inside the task function, so it is the same under
every launcher. The supervisor stays small (no torch), so the OOM killer picks the job.

Children are forked from a ``multiprocessing`` forkserver that imports torch and SB3 once per
worker process: a job pays a fork instead of those imports (seconds each time); the first job of a
worker waits for the server's imports, as it used to wait for its own. The server is a fresh
single-threaded process; forking the worker itself would not be safe (Ray's and loky's threads).
As with any ``multiprocessing`` child, the worker's ``__main__`` module is imported again in the job
(``rlft.train``, loky's, Ray's or submitit's worker module: all guarded).
"""

from __future__ import annotations

import ctypes
import importlib
import logging
import multiprocessing
import os
import signal
import time
from typing import Any, Callable

from omegaconf import DictConfig

from rlft.sweep import jobs

log = logging.getLogger("rlft")

# the slow imports every job makes (the first optimizer step pulls in torch._dynamo, the run's plots
# matplotlib), done once in the forkserver; none of them starts a thread, so forking stays safe
PRELOAD = ("hydra.core.utils", "torch", "torch._dynamo", "stable_baselines3", "matplotlib.pyplot")
DIE_ENV = "RLFT_SWEEP_TEST_DIE"
_DEATHS: dict[str, Callable[[], Any]] = {
    "kill": lambda: os.kill(os.getpid(), signal.SIGKILL),
    "abort": os.abort,
    "segv": lambda: ctypes.string_at(0),
}


def run_isolated(work: str, cfg: DictConfig) -> float | None:
    """Run ``work`` (``"module:function"``, called with ``cfg``, which writes the job's
    ``job.json``) in a child process; returns the job's objective, NaN when it failed."""
    import cloudpickle
    from hydra.core.hydra_config import HydraConfig

    job_dir, fields = jobs.identity(cfg.seed)
    (job_dir / jobs.JOB_FILE).unlink(missing_ok=True)  # only this run's record says how it ended
    context = multiprocessing.get_context("forkserver")
    # the child takes on the worker's start method (loky's, in a joblib worker): import its context
    worker_context = type(multiprocessing.get_context()).__module__
    context.set_forkserver_preload([worker_context, *PRELOAD])
    # cloudpickle: a launcher's worker may hold classes plain pickle cannot find again (Ray's copies of
    # Hydra's config classes)
    job = cloudpickle.dumps((work, HydraConfig.instance().cfg, cfg, dict(os.environ)))
    child = context.Process(target=_child, args=(job,), name=f"rlft-sweep-job-{fields['job']}")
    t0 = time.monotonic()
    child.start()
    child.join()
    record = jobs.read(job_dir)
    if record is None:
        assert child.exitcode is not None  # joined
        error = jobs.record_death(job_dir, child.exitcode, **fields, wall_time_s=round(time.monotonic() - t0, 2))
        log.error("job %d failed: %s (the sweep goes on; see %s)", fields["job"], error, job_dir / jobs.JOB_FILE)
        return float("nan")
    if child.exitcode:
        log.warning(
            "job %d recorded its result, then its process ended with exit code %d", fields["job"], child.exitcode
        )
    return record.get("objective") if record["status"] == jobs.OK else float("nan")


def _child(job: bytes) -> None:
    """The job's process: the worker's environment (the forkserver's is the one it started with)
    and Hydra state, logging as Hydra set it up for the job, then the work."""
    import pickle

    from hydra.core.hydra_config import HydraConfig
    from hydra.core.utils import configure_log, setup_globals

    work, hydra_state, cfg, environ = pickle.loads(job)
    os.environ.clear()
    os.environ.update(environ)
    setup_globals()
    HydraConfig.instance().cfg = hydra_state
    hydra_cfg = HydraConfig.get()
    configure_log(hydra_cfg.job_logging, hydra_cfg.verbose)  # type: ignore[arg-type]  # a DictConfig at run time
    _die_if_asked(hydra_cfg.job.num)
    module, _, name = work.partition(":")
    getattr(importlib.import_module(module), name)(cfg)


def _die_if_asked(job_num: int) -> None:
    """The tests' fault hook: ``RLFT_SWEEP_TEST_DIE=1:kill,2:abort`` (kill, abort or segv) makes
    those jobs die hard as they start. Unset, nothing happens."""
    for item in filter(None, os.environ.get(DIE_ENV, "").split(",")):
        num, _, how = item.partition(":")
        if int(num) == job_num:
            _DEATHS[how]()
