"""Run every benchmark in sequence, each in its own interpreter, then print one summary table.

    python bench/run_all.py [--quick] [--only NAME[,NAME...]]

Results land in ``bench/results/<name>.json``. The exit code is 0 when every benchmark ran, even if a
target was missed (this is a report); it is 1 when a benchmark crashed or wrote no result.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import REPO, RESULTS_DIR, print_table, python_env, read_result, row, verdict

BENCH_DIR = REPO / "bench"
# name -> script; a script that is absent (someone else's, not written yet) is skipped
BENCHMARKS = {
    "startup": "bench_startup.py",
    "train_speed": "bench_train_speed.py",
    "image_env": "bench_image_env.py",
    "cartpole_zoo": "bench_cartpole_zoo.py",
    "env_speed": "bench_env_speed.py",
    "sweep": "bench_sweep.py",
    "traces": "bench_traces.py",
}


def run_one(name: str, quick: bool) -> tuple[bool, float]:
    """Run one benchmark script; True when it exited 0 and (re)wrote a result file."""
    script = BENCH_DIR / BENCHMARKS[name]
    result = RESULTS_DIR / f"{name}.json"
    before = result.stat().st_mtime if result.is_file() else None
    print(f"\n=== {name} ({script.name}{' --quick' if quick else ''})", flush=True)
    t0 = time.perf_counter()
    done = subprocess.run([sys.executable, str(script), *(["--quick"] if quick else [])], cwd=REPO, env=python_env())
    elapsed = time.perf_counter() - t0
    wrote = result.is_file() and result.stat().st_mtime != before
    if done.returncode != 0:
        print(f"!!! {name} crashed (exit {done.returncode})", flush=True)
    elif not wrote:
        print(f"!!! {name} wrote no {result.relative_to(REPO)}", flush=True)
    return done.returncode == 0 and wrote, elapsed


def summary_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The headline rows of a result file: ``rows`` (bench.common's format), else the targeted
    ``steps_per_s`` entries of a script with its own format (bench_env_speed.py)."""
    if "rows" in result:
        return result["rows"]
    targets = result.get("targets") or {}
    rates = result.get("steps_per_s") or {}
    rows = [row(name, rates.get(name), "steps/s", f">= {target}") for name, target in targets.items()]
    return rows or [row("result written (see its json)", None)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shrink every benchmark to a smoke run")
    parser.add_argument(
        "--only",
        metavar="NAME",
        action="append",
        default=[],
        help=f"run only these (repeat or comma-separate): {', '.join(BENCHMARKS)}",
    )
    args = parser.parse_args(argv)
    selected = [n for part in args.only for n in part.split(",") if n] or list(BENCHMARKS)
    unknown = [n for n in selected if n not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")

    outcome: dict[str, str] = {}
    durations: dict[str, float] = {}
    for name in selected:
        if not (BENCH_DIR / BENCHMARKS[name]).is_file():
            outcome[name] = "absent"
            continue
        ok, durations[name] = run_one(name, args.quick)
        outcome[name] = "ok" if ok else "crashed"

    summary = []
    for name in selected:
        result = read_result(name) if outcome[name] == "ok" else None
        rows = summary_rows(result) if result is not None else [row(outcome[name], None)]
        summary += [{**r, "bench": name} for r in rows]
    print(
        f"\n=== summary{' (quick)' if args.quick else ''}: " + ", ".join(f"{n} {durations[n]:.0f}s" for n in durations)
    )
    print_table(summary, bench="")
    missed = [f"{r['bench']}.{r['metric']}" for r in summary if verdict(r["passed"]) == "MISS"]
    if missed:
        print(f"missed targets: {', '.join(missed)}")
    crashed = [n for n, o in outcome.items() if o == "crashed"]
    if crashed:
        print(f"crashed: {', '.join(crashed)}")
    return 1 if crashed else 0


if __name__ == "__main__":
    sys.exit(main())
