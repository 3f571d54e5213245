"""The benchmark runner works end to end (its cheapest benchmark, in quick mode)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_run_all_quick_startup_writes_result(tmp_path: Path) -> None:
    env = {**os.environ, "RLFT_BENCH_RESULTS": str(tmp_path)}  # leave bench/results/ to real runs
    done = subprocess.run(
        [sys.executable, "bench/run_all.py", "--quick", "--only", "startup"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "summary" in done.stdout

    data = json.loads((tmp_path / "startup.json").read_text(encoding="utf-8"))
    assert {"name", "machine", "quick", "rows", "details"} <= data.keys()
    assert data["name"] == "startup" and data["quick"] is True
    assert {"python", "torch", "stable_baselines3", "cpu_count", "git", "timestamp"} <= data["machine"].keys()
    metrics = {r["metric"]: r for r in data["rows"]}
    assert {"cfg_job_wall_median", "no_torch_or_sb3_import"} <= metrics.keys()
    assert all({"value", "unit", "target", "passed"} <= r.keys() for r in data["rows"])


@pytest.mark.slow
def test_finetune_benchmark_plumbing_quick(tmp_path: Path) -> None:
    """Champion -> scratch -> two recipes at tiny budgets: the result rows are all there."""
    env = {**os.environ, "RLFT_BENCH_RESULTS": str(tmp_path), "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.bench_finetune",
            "--quick",
            "--recipes",
            "naive",
            "ewc",
            "--workdir",
            str(tmp_path / "work"),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    data = json.loads((tmp_path / "finetune.json").read_text())
    assert [r["recipe"] for r in data["details"]["recipes"]] == ["naive", "ewc"]
    assert any(r["metric"].startswith("ewc: retention") for r in data["rows"])
