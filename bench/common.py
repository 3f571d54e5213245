"""Helpers shared by the benchmark scripts: run the CLI, record the machine, write and print results.

A result is ``bench/results/<name>.json``: ``{"name", "machine", "quick", "rows", "details"}``. Each
row is one headline figure with an optional target; ``passed`` is ``None`` for figures reported for
information only. ``run_all.py`` reads the rows back to print the combined summary.
"""

from __future__ import annotations

import operator
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

from rlft.io import atomic_write_json, read_json
from rlft.runs.provenance import git_state, package_versions

REPO = Path(__file__).resolve().parents[1]
# RLFT_BENCH_RESULTS moves the results (the smoke test writes to a temporary folder)
RESULTS_DIR = Path(os.environ.get("RLFT_BENCH_RESULTS") or REPO / "bench" / "results")

_OPS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt, "==": operator.eq}


def machine_info() -> dict[str, Any]:
    """Versions and hardware, read without importing torch or SB3 (metadata only)."""
    versions = package_versions(("rlft", "torch", "stable-baselines3", "gymnasium", "numpy", "hydra-core"))
    return {
        "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "torch": versions["torch"],
        "stable_baselines3": versions["stable-baselines3"],
        "packages": versions,
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "git": git_state(REPO),
        "loadavg_1m": round(os.getloadavg()[0], 2),  # other work on the machine skews timings
    }


def row(metric: str, value: Any, unit: str = "", target: str | None = None) -> dict[str, Any]:
    """One headline figure. ``target`` is ``"<op> <number>"`` (``">= 0.97"``), ``"== True"``, or None."""
    passed = None
    if target is not None and value is not None:
        op, _, wanted = target.partition(" ")
        wanted_value: Any = wanted == "True" if wanted in ("True", "False") else float(wanted)
        passed = bool(_OPS[op](value, wanted_value))
    elif target is not None:
        passed = False  # no value (e.g. never reached) misses the target
    return {"metric": metric, "value": value, "unit": unit, "target": target, "passed": passed}


def write_result(name: str, rows: list[dict[str, Any]], details: dict[str, Any], *, quick: bool) -> Path:
    path = RESULTS_DIR / f"{name}.json"
    atomic_write_json(path, {"name": name, "machine": machine_info(), "quick": quick, "rows": rows, "details": details})
    return path


def read_result(name: str) -> dict[str, Any] | None:
    path = RESULTS_DIR / f"{name}.json"
    return read_json(path) if path.is_file() else None


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e4 else f"{value:.0f}"
    return str(value)


def verdict(passed: bool | None) -> str:
    return "info" if passed is None else ("PASS" if passed else "MISS")


def print_table(rows: Sequence[dict[str, Any]], *, bench: str | None = None) -> None:
    """Aligned table; with ``bench`` a first column names the benchmark of every row."""
    header = (["benchmark"] if bench is not None else []) + ["metric", "value", "target", "result"]
    lines = [header]
    for r in rows:
        value = "-" if r["value"] is None else f"{_show(r['value'])} {r['unit']}".strip()
        cells = [r.get("bench", bench)] if bench is not None else []
        lines.append(cells + [r["metric"], value, r["target"] or "-", verdict(r["passed"])])
    widths = [max(len(str(line[i])) for line in lines) for i in range(len(header))]
    for i, line in enumerate(lines):
        print("  ".join(str(cell).ljust(w) for cell, w in zip(line, widths)).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def python_env() -> dict[str, str]:
    """Environment for child interpreters: the repo importable, Hydra errors in full."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
    env["HYDRA_FULL_ERROR"] = "1"
    return env


def run_python(args: Sequence[str], *, timeout: float, cwd: Path = REPO) -> tuple[subprocess.CompletedProcess, float]:
    """Run ``python <args>``; returns the finished process and its wall time in seconds. A non-zero
    exit raises with the tail of the child's output (a benchmark that crashed must say why)."""
    t0 = time.perf_counter()
    done = subprocess.run(
        [sys.executable, *args], cwd=cwd, env=python_env(), capture_output=True, text=True, timeout=timeout
    )
    elapsed = time.perf_counter() - t0
    if done.returncode != 0:
        tail = (done.stdout + done.stderr)[-3000:]
        raise RuntimeError(f"`python {' '.join(args)}` exited {done.returncode}:\n{tail}")
    return done, elapsed


def run_folder(output_dir: Path) -> Path:
    """The single run folder ``python -m rlft.train paths.output_dir=<output_dir>`` created."""
    found = sorted(output_dir.glob("train/*/metrics.json"))
    if len(found) != 1:
        raise RuntimeError(f"expected one run folder under {output_dir}, found {len(found)}")
    return found[0].parent
