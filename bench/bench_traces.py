"""Traces at scale: filter 10M recorded steps, reporting rows/s and peak memory (#8 point 5).

The store is built once from a real recording (``python -m rlft.traces record oracle stage=5``,
``--seed-episodes`` episodes) replicated with fresh episode ids up to ``--steps`` steps, in
chunks like the recorder writes (same schema, real observations, zstd). Then each filter runs as
its own process (``python -m rlft.traces filter``), timed, with its peak RSS from the OS:
stats_only=true (the episode table only), and min_success=true with the kept steps written.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import REPO, print_table, python_env, row, run_python, write_result


def build_store(seed: Path, big: Path, target_steps: int) -> dict:
    """``big`` = ``seed`` replicated (episode ids shifted) until it holds ``target_steps`` steps."""
    import duckdb

    manifest = json.loads((seed / "manifest.json").read_text())
    copies = max(1, -(-target_steps // manifest["steps"]))
    (big / "steps").mkdir(parents=True)
    (big / "episodes").mkdir()
    shift = manifest["episodes"]
    with duckdb.connect() as con:
        con.execute("SET preserve_insertion_order = false")
        per_chunk = max(1, copies // 20)
        for index, lo in enumerate(range(0, copies, per_chunk)):
            hi = min(copies, lo + per_chunk)
            for kind in ("steps", "episodes"):
                con.execute(
                    f"COPY (SELECT * REPLACE (episode_id + r.range * {shift} AS episode_id) FROM "
                    f"read_parquet('{seed}/{kind}/*.parquet'), range({lo}, {hi}) r) TO "
                    f"'{big}/{kind}/chunk-{index:05d}.parquet' (FORMAT PARQUET, COMPRESSION ZSTD)"
                )
    steps = manifest["steps"] * copies
    (big / "manifest.json").write_text(
        json.dumps({**manifest, "episodes": shift * copies, "steps": steps, "replicated_from": str(seed)})
    )
    return {"steps": steps, "episodes": shift * copies, "bytes": sum(p.stat().st_size for p in big.rglob("*.parquet"))}


def timed_filter(args: list[str]) -> tuple[float, float, str]:
    """(wall seconds, peak RSS in MB sampled every 10 ms, stdout) of one filter process."""
    import psutil

    t0 = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, "-m", "rlft.traces", "filter", *args],
        cwd=REPO,
        env=python_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    process, peak = psutil.Process(child.pid), 0
    while child.poll() is None:
        try:
            peak = max(peak, process.memory_info().rss)
        except psutil.Error:
            break
        time.sleep(0.01)
    out, err = child.communicate()
    wall = time.perf_counter() - t0
    if child.returncode != 0:
        raise RuntimeError(out + err)
    return wall, peak / 1e6, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=10_000_000)
    parser.add_argument("--seed-episodes", type=int, default=500)
    parser.add_argument("--quick", action="store_true", help="200k steps")
    a = parser.parse_args()
    steps_target = 200_000 if a.quick else a.steps
    root = Path(tempfile.mkdtemp(prefix="rlft-traces-bench-"))
    run_python(
        ["-m", "rlft.traces", "record", "oracle", "stage=5", f"episodes={a.seed_episodes}", f"out={root / 'seed'}"],
        timeout=1800,
    )
    t0 = time.perf_counter()
    built = build_store(root / "seed", root / "big", steps_target)
    build_s = time.perf_counter() - t0
    stats_wall, stats_rss, _ = timed_filter([f"in={root / 'big'}", "min_success=true", "stats_only=true"])
    write_wall, write_rss, out = timed_filter(
        [f"in={root / 'big'}", f"out={root / 'kept'}", "min_success=true", "max_length=120", "memory_limit=1GB"]
    )
    kept = json.loads((root / "kept" / "manifest.json").read_text())
    rows = [
        row("steps in the store", built["steps"], "steps"),
        row("store size on disk", round(built["bytes"] / 1e6, 1), "MB"),
        row("filter stats_only=true: wall", round(stats_wall, 2), "s"),
        row("filter stats_only=true: peak RSS", round(stats_rss, 1), "MB"),
        row("filter + write kept steps: wall", round(write_wall, 2), "s", "<= 60"),
        row("filter + write: steps scanned per second", round(built["steps"] / write_wall), "rows/s"),
        row("filter + write: peak RSS", round(write_rss, 1), "MB", "<= 2000"),
        row("kept steps", kept["steps"], "steps"),
    ]
    write_result(
        "traces",
        rows,
        {"folder": str(root), "build_s": round(build_s, 1), "filter_output": out, "store": built},
        quick=a.quick,
    )
    print_table(rows)


if __name__ == "__main__":
    main()
