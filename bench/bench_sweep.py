"""Sweeps use the cores: the same 4 training jobs with the joblib launcher (2 workers) and with
Hydra's basic (sequential) launcher, in one run. Target: joblib wall time / basic <= 0.6.

Each sweep is ``python -m rlft.train -m seed=1,2,3,4 ...`` (CurveTrace stage 1, ``--steps`` steps
per job, one torch thread per job); wall time is the whole command, start-up included.
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import print_table, row, run_python, write_result


def sweep(launcher: list[str], steps: int, out: Path) -> tuple[float, list[dict[str, str]]]:
    args = [
        "-m",
        "rlft.train",
        "-m",
        *launcher,
        "seed=1,2,3,4",
        "stage=1",
        f"hparams.total_timesteps={steps}",
        "eval.every=0",
        "eval.final_episodes=20",
        "progress=none",
        f"paths.output_dir={out / 'outputs'}",
        f"hydra.sweep.dir={out / 'sweep'}",
    ]
    _, wall = run_python(args, timeout=3600)
    with open(out / "sweep" / "summary.csv", encoding="utf-8") as handle:
        return wall, list(csv.DictReader(handle))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=16_384, help="training steps per job")
    parser.add_argument("--quick", action="store_true", help="tiny jobs: checks the plumbing")
    a = parser.parse_args()
    steps = 1024 if a.quick else a.steps
    root = Path(tempfile.mkdtemp(prefix="rlft-sweep-bench-"))
    basic_wall, basic_rows = sweep([], steps, root / "basic")
    joblib_wall, joblib_rows = sweep(["hydra/launcher=joblib", "hydra.launcher.n_jobs=2"], steps, root / "joblib")
    ratio = joblib_wall / basic_wall
    ok = all(r["status"] == "completed" for r in basic_rows + joblib_rows)
    rows = [
        row("basic launcher: 4 jobs wall time", round(basic_wall, 1), "s"),
        row("joblib (2 workers): 4 jobs wall time", round(joblib_wall, 1), "s"),
        row("joblib / basic wall time", round(ratio, 3), "", "<= 0.6"),
        row("every job completed", ok, "", "== True"),
    ]
    write_result(
        "sweep",
        rows,
        {"steps_per_job": steps, "folder": str(root), "jobs": {"basic": basic_rows, "joblib": joblib_rows}},
        quick=a.quick,
    )
    print_table(rows)


if __name__ == "__main__":
    main()
