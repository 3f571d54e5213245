"""It learns: PPO from scratch on CurveTrace stages, both architectures (standard / decoupled stop).

Each job is ``python -m rlft.train env=<arch> stage=<k>`` with the shipped hparams, a budget of
``--budget`` steps and early stopping once evaluation success reaches ``--target`` (100 fixed-seed
deterministic episodes per evaluation). Reports, per job (architecture x stage x seed), the first
evaluated step count at which success >= target, the wall time to get there, and the final success;
with several ``--seeds``, also on how many seeds each (architecture, stage) reached the target.
``--parallel`` jobs run side by side (one torch thread each).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import REPO, RESULTS_DIR, print_table, python_env, read_result, row, write_result

# agent -> its overrides: the standard agent with its default StopPPO (stop-label BCE), the same
# Discrete(9) agent with plain PPO (the baseline), and the decoupled stop head.
ARCHS = {
    "standard": ["env=curve_trace"],
    "standard_plain": ["env=curve_trace", "hparams=ppo_curve_trace_plain"],
    "decoupled": ["env=curve_trace_decoupled"],
}


def run_job(
    arch: str,
    stage: int,
    budget: int,
    target: float,
    eval_every: int,
    episodes: int,
    seed: int,
    out: Path,
    overrides: list[str],
) -> dict:
    args = [
        sys.executable,
        "-m",
        "rlft.train",
        *ARCHS[arch],
        f"stage={stage}",
        f"hparams.total_timesteps={budget}",
        f"eval.every={eval_every}",
        f"eval.episodes={episodes}",
        f"eval.final_episodes={episodes}",
        "early_stop.metric=success_rate",
        f"early_stop.target={target}",
        f"seed={seed}",
        "progress=log",
        "progress_every_s=60",
        f"paths.output_dir={out}",
        f"experiment_name=learn_{arch}_s{stage}_seed{seed}",
        *overrides,
    ]
    t0 = time.perf_counter()
    done = subprocess.run(args, cwd=REPO, env=python_env(), capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        return {
            "arch": arch,
            "stage": stage,
            "seed": seed,
            "error": (done.stdout + done.stderr)[-1500:],
            "wall_s": wall,
        }
    metrics_file = next(out.glob(f"train/learn_{arch}_s{stage}_seed{seed}_*/metrics.json"))
    metrics = json.loads(metrics_file.read_text())
    reached = next((e for e in metrics["eval"] if (e.get("success_rate") or 0) >= target), None)
    train_wall = metrics.get("wall_time_s")
    steps_total = metrics["total_timesteps"]
    return {
        "arch": arch,
        "stage": stage,
        "seed": seed,
        "steps_to_target": reached["timesteps"] if reached else None,
        "wall_to_target_s": round(train_wall * reached["timesteps"] / steps_total, 1) if reached else None,
        "final_success": metrics["final"]["success_rate"],
        "steps": steps_total,
        "train_wall_s": train_wall,
        "steps_per_s": round(steps_total / train_wall, 1),
        "status": metrics["status"],
        "curve": [(e["timesteps"], e["success_rate"]) for e in metrics["eval"]],
        "run_folder": str(metrics_file.parent),
    }


def plot_results(jobs: list[dict], name: str = "learning") -> list[Path]:
    """One figure per stage (``<name>_stage<k>.png`` beside the JSON): success against steps, a colour
    per agent and a line style per seed."""
    from rlft.plots import plot_learning_curves

    archs = [a for a in ARCHS if any(j["arch"] == a for j in jobs)]
    written = []
    for stage in sorted({j["stage"] for j in jobs}):
        runs = [j for j in jobs if j["stage"] == stage and "curve" in j]
        label = {id(j): f"{j['arch']} seed {j['seed']}" for j in runs}
        curves = {label[id(j)]: [{"timesteps": t, "success_rate": s} for t, s in j["curve"]] for j in runs}
        styles = {
            label[id(j)]: {
                "color": f"C{archs.index(j['arch'])}",
                "markersize": 2.5,
                "linestyle": ("-", "--", ":", "-.")[j["seed"] % 4],
            }
            for j in runs
        }
        path = plot_learning_curves(
            curves,
            RESULTS_DIR / f"{name}_stage{stage}.png",
            f"CurveTrace stage {stage} from scratch (100 deterministic episodes per point)",
            styles=styles,
            target=0.9,
        )
        if path is not None:
            written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stages", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--archs", nargs="+", default=list(ARCHS), choices=list(ARCHS))
    parser.add_argument("--budget", type=int, default=300_000)
    parser.add_argument("--target", type=float, default=0.9)
    parser.add_argument("--eval-every", type=int, default=20_000)
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--parallel", type=int, default=2)
    parser.add_argument("--keep-runs", type=Path, default=None, help="keep run folders here")
    parser.add_argument("--quick", action="store_true", help="tiny budget smoke run")
    parser.add_argument("--name", default="learning", help="results file bench/results/<name>.json")
    parser.add_argument("--plot-only", action="store_true", help="redraw the figures from the last results")
    parser.add_argument("overrides", nargs="*", help="extra rlft.train overrides for every job (hparams.gamma=0.95)")
    a = parser.parse_args()
    if a.plot_only:
        last = read_result(a.name)
        if last is None:
            sys.exit(f"no bench/results/{a.name}.json yet: run the benchmark first")
        print("\n".join(str(p) for p in plot_results(last["details"]["jobs"], a.name)))
        return
    if a.quick:  # a smoke run: keep it away from the real results
        a.budget, a.eval_every, a.episodes, a.stages = 4096, 2048, 5, [1]
        a.name = a.name if a.name != "learning" else "learning_quick"
    out = a.keep_runs or Path(tempfile.mkdtemp(prefix="rlft-learn-"))
    jobs = [(arch, stage, seed) for arch in a.archs for stage in a.stages for seed in a.seeds]
    with ThreadPoolExecutor(max_workers=a.parallel) as pool:
        results = list(
            pool.map(
                lambda j: run_job(j[0], j[1], a.budget, a.target, a.eval_every, a.episodes, j[2], out, a.overrides),
                jobs,
            )
        )
    rows = []
    for r in results:
        label = f"{r['arch']} stage {r['stage']} seed {r['seed']}"
        if "error" in r:
            rows.append(row(f"{label}: crashed", None, "", "== True"))
            continue
        rows.append(row(f"{label}: steps to success>={a.target}", r["steps_to_target"], "steps", f"<= {a.budget}"))
        rows.append(row(f"{label}: wall time to target", r["wall_to_target_s"], "s"))
        rows.append(row(f"{label}: final success", r["final_success"], ""))
    if len(a.seeds) > 1:
        for arch in a.archs:
            for stage in a.stages:
                runs = [r for r in results if (r["arch"], r["stage"]) == (arch, stage)]
                reached = sum(r.get("steps_to_target") is not None for r in runs)
                rows.append(
                    row(f"{arch} stage {stage}: seeds reaching {a.target}", f"{reached} of {len(runs)}", "", None)
                )
    write_result(a.name, rows, {"settings": vars(a) | {"keep_runs": str(a.keep_runs)}, "jobs": results}, quick=a.quick)
    print_table(rows)
    if not a.quick:
        plot_results(results, a.name)
    if any("error" in r for r in results):
        sys.exit(1)


if __name__ == "__main__":
    main()
