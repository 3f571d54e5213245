"""(b) Start-up cost of the CLI: wall time of ``python -m rlft.train --cfg job`` and whether that path
imports torch or stable-baselines3 (it must not: see STYLE.md, heavy imports live in functions).

    python bench/bench_startup.py [--quick]
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import median, print_table, row, run_python, write_result

NAME = "startup"
TARGET_S = 1.0
HEAVY = ("torch", "stable_baselines3", "gymnasium", "tensorboard", "matplotlib")
MUST_NOT_IMPORT = ("torch", "stable_baselines3")


def imported_heavy(importtime_stderr: str) -> dict[str, bool]:
    """Which top-level heavy packages appear in ``python -X importtime`` output."""
    names = {
        m.group(1).split(".")[0]
        for m in re.finditer(r"^import time:\s+\d+\s+\|\s+\d+\s+\|\s+(\S+)", importtime_stderr, re.M)
    }
    return {pkg: pkg in names for pkg in HEAVY}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 timed runs instead of 7")
    args = parser.parse_args(argv)
    repeats = 3 if args.quick else 7

    with tempfile.TemporaryDirectory(prefix="rlft-bench-startup-") as tmp:
        command = ["-m", "rlft.train", "--cfg", "job", f"paths.output_dir={tmp}"]
        run_python(command, timeout=60)  # warm-up: page cache, .pyc files
        times = [run_python(command, timeout=60)[1] for _ in range(repeats)]
        done, _ = run_python(["-X", "importtime", *command], timeout=60)
        left_behind = sorted(p.name for p in Path(tmp).iterdir())

    heavy = imported_heavy(done.stderr)
    light = not any(heavy[pkg] for pkg in MUST_NOT_IMPORT)
    rows = [
        row("cfg_job_wall_median", median(times), "s", f"< {TARGET_S}"),
        row("no_torch_or_sb3_import", light, "", "== True"),
    ]
    details = {
        "command": "python -m rlft.train --cfg job",
        "runs_s": [round(t, 3) for t in times],
        "min_s": round(min(times), 3),
        "max_s": round(max(times), 3),
        "heavy_imports": heavy,
        "files_written_to_output_dir": left_behind,
    }
    write_result(NAME, rows, details, quick=args.quick)
    print_table(rows)
    print(f"runs: {details['runs_s']}  heavy imports: {', '.join(k for k, v in heavy.items() if v) or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
