"""Sweeps survive hard deaths: a job whose process is killed by a signal (SIGKILL as from the OOM
killer, an abort, a segfault) is recorded as failed with its signal and the other jobs run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rlft.sweep import jobs
from rlft.sweep.isolation import DIE_ENV
from tests.sweep.test_sweeps import _rows, _sweep


def _job(tmp_path: Path, num: int) -> dict:
    return json.loads((tmp_path / "sweep" / str(num) / "job.json").read_text())


def test_joblib_workers_survive_a_killed_and_an_aborted_job(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DIE_ENV, "1:kill,0:abort")
    done = _sweep(tmp_path, "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "hparams.lr=1e-3,3e-4,1e-4")
    assert done.returncode == 0, done.stderr[-3000:]
    rows = _rows(tmp_path)
    assert [r["status"] for r in rows] == ["failed", "failed", "completed"], "the job after the deaths still ran"
    assert [r["seed"] for r in rows] == ["0", "1", "2"], "a dead job keeps its seed"
    killed, aborted = _job(tmp_path, 1), _job(tmp_path, 0)
    assert (killed["status"], killed["signal"], killed["exit_code"]) == ("failed", "SIGKILL", -9)
    assert killed["error"].startswith("SIGKILL: ") and "out of memory?" in killed["error"]
    assert (aborted["signal"], aborted["exit_code"]) == ("SIGABRT", -6)
    assert killed["job"] == 1 and "hparams.lr=0.0003" in killed["overrides"] and killed["seed"] == 1
    assert _job(tmp_path, 2)["status"] == "ok"
    summary = (tmp_path / "sweep" / "summary.md").read_text()
    assert "3 jobs: 1 finished, 2 failed" in summary and "- job 1: SIGKILL: " in summary
    assert "- job 0: SIGABRT: " in summary


def test_a_sweep_where_every_job_dies_exits_non_zero_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DIE_ENV, "0:segv,1:kill")
    done = _sweep(tmp_path, "hparams.lr=1e-3,3e-4")  # the basic launcher: jobs used to run in the sweep's process
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"error: every job of the sweep failed (2): see {tmp_path / 'sweep' / 'summary.md'}"
    ]
    assert [_job(tmp_path, n)["signal"] for n in (0, 1)] == ["SIGSEGV", "SIGKILL"]
    assert [r["status"] for r in _rows(tmp_path)] == ["failed", "failed"]


@pytest.mark.parametrize(
    "exit_code,start",
    [
        (-9, "SIGKILL: the job's process was killed (out of memory?"),
        (-11, "SIGSEGV: the job's process crashed (a segmentation fault"),
        (-15, "SIGTERM: the job's process was killed by a signal"),
        (1, "the job's process exited with code 1 without recording a result"),
    ],
)
def test_a_death_is_recorded_with_its_signal(tmp_path: Path, exit_code: int, start: str) -> None:
    line = jobs.record_death(tmp_path, exit_code, job=3, overrides=["seed=1"], seed=1, wall_time_s=0.5)
    record = jobs.read(tmp_path)
    assert line.startswith(start) and record["error"] == line and record["status"] == jobs.FAILED
    assert record["exit_code"] == exit_code and record["job"] == 3 and record["seed"] == 1
    assert record["signal"] == (None if exit_code > 0 else start.split(":")[0])


@pytest.mark.slow
def test_submitit_jobs_survive_a_killed_job(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DIE_ENV, "0:kill")
    done = _sweep(tmp_path, "hydra/launcher=slurm_local", "hparams.lr=1e-3,3e-4")
    assert done.returncode == 0, done.stderr[-3000:]
    assert [r["status"] for r in _rows(tmp_path)] == ["failed", "completed"]
    assert _job(tmp_path, 0)["signal"] == "SIGKILL"


@pytest.mark.slow
def test_ray_workers_survive_a_segfaulting_job(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    monkeypatch.setenv(DIE_ENV, "0:segv")
    done = _sweep(tmp_path, "hydra/launcher=ray_local", "hparams.lr=1e-3,3e-4")
    assert done.returncode == 0, done.stderr[-3000:]
    assert [r["status"] for r in _rows(tmp_path)] == ["failed", "completed"]
    assert _job(tmp_path, 0)["signal"] == "SIGSEGV"
