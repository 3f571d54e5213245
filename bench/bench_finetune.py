"""Fine-tuning helps, and what it forgets: a stage-2 champion fine-tuned on stage 3 (#5 point 8).

Three phases, all through the CLIs a user types, in one work folder (``--workdir``; a phase whose
result is already there is reused, so recipes can be added without retraining the champion):

1. champion: ``python -m rlft.train stage=2`` until success >= ``--champion-target`` (early stop),
   then ``python -m rlft.register which=best``.
2. scratch: ``python -m rlft.train stage=3`` for ``--scratch-budget`` steps, no early stop; its final
   success S is the bar the fine-tunes must reach.
3. recipes: ``python -m rlft.train champion=<it> stage=3`` for ``--budget`` steps each: naive,
   rehearsal, L2-SP, EWC and KL anchoring (each recipe is a few CLI overrides, listed below).

Figures: steps for a fine-tune to first evaluate at >= S, divided by the steps scratch took to first
reach S (target <= 25%); the same for success >= ``--high-bar`` (0.9), where a scratch run that never
got there counts its whole budget (the ratio is then an upper bound); retention = post/pre success of the champion's original stage (stage 2)
from the fine-tune's own fixed-seed pre/post evaluation (target >= 0.95 for the best recipe).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import REPO, RESULTS_DIR, print_table, python_env, row, write_result

CHAMPION = "ftbench_stage2"
RECIPES: dict[str, list[str]] = {
    "naive": [],
    "rehearsal": ["finetune.rehearsal=0.25"],
    "l2sp": ["finetune.anchor=l2sp", "finetune.anchor_coef=0.1"],
    "ewc": ["finetune.anchor=ewc", "finetune.anchor_coef=0.1"],
    "kl": ["finetune.anchor=kl", "finetune.anchor_coef=0.5"],
    # the same recipes with a fine-tuning LR (1e-4 decaying to 1e-5) instead of the champion's 3e-4
    "low_lr": ["hparams.lr=1e-4", "hparams.lr_schedule=linear", "hparams.lr_end=1e-5"],
    "low_lr_rehearsal_kl": [
        "hparams.lr=1e-4",
        "hparams.lr_schedule=linear",
        "hparams.lr_end=1e-5",
        "finetune.rehearsal=0.25",
        "finetune.anchor=kl",
        "finetune.anchor_coef=1.0",
    ],
}


def _train(args: list[str], name: str, out: Path, log: Path) -> Path:
    """Run ``python -m rlft.train``; return the run folder (its metrics.json is complete)."""
    command = [
        sys.executable,
        "-m",
        "rlft.train",
        *args,
        f"experiment_name={name}",
        f"paths.output_dir={out}",
        "progress=log",
        "progress_every_s=120",
    ]
    with log.open("w") as sink:
        done = subprocess.run(command, cwd=REPO, env=python_env(), stdout=sink, stderr=subprocess.STDOUT)
    if done.returncode != 0:
        raise RuntimeError(f"`{' '.join(command[1:])}` exited {done.returncode}; see {log}")
    found = sorted(out.glob(f"*/*{name}_*/metrics.json"))
    if not found:
        raise RuntimeError(f"no run folder for {name} under {out}")
    return found[-1].parent


def _metrics(folder: Path) -> dict[str, Any]:
    return json.loads((folder / "metrics.json").read_text())


def _first_reaching(curve: list[dict[str, Any]], bar: float) -> int | None:
    return next((e["timesteps"] for e in curve if (e.get("success_rate") or 0) >= bar), None)


def _cached(work: Path, name: str, produce) -> Path:
    """The run folder recorded in ``work/<name>.done``, else ``produce()`` and record it."""
    marker = work / f"{name}.done"
    if marker.is_file() and Path(marker.read_text().strip(), "metrics.json").is_file():
        return Path(marker.read_text().strip())
    folder = produce()
    marker.write_text(str(folder))
    return folder


def champion_phase(a: argparse.Namespace, work: Path) -> Path:
    def produce() -> Path:
        folder = _train(
            [
                "stage=2",
                f"seed={a.seed}",
                f"hparams.total_timesteps={a.champion_budget}",
                f"eval.every={a.eval_every}",
                f"eval.episodes={a.episodes}",
                f"eval.final_episodes={a.episodes}",
                "early_stop.metric=success_rate",
                f"early_stop.target={a.champion_target}",
            ],
            "ftbench_champion",
            work / "runs",
            work / "champion.log",
        )
        subprocess.run(
            [
                sys.executable,
                "-m",
                "rlft.register",
                str(folder),
                f"name={CHAMPION}",
                f"paths.registry={work / 'champions'}",
                "which=best",
                *(["force=true"] if a.quick else []),
            ],
            cwd=REPO,
            env=python_env(),
            check=True,
        )
        return folder

    return _cached(work, "champion", produce)


def scratch_phase(a: argparse.Namespace, work: Path) -> Path:
    return _cached(
        work,
        "scratch",
        lambda: _train(
            [
                "stage=3",
                f"seed={a.seed}",
                f"hparams.total_timesteps={a.scratch_budget}",
                f"eval.every={a.eval_every}",
                f"eval.episodes={a.episodes}",
                f"eval.final_episodes={a.episodes}",
            ],
            "ftbench_scratch",
            work / "runs",
            work / "scratch.log",
        ),
    )


def recipe_phase(a: argparse.Namespace, work: Path, recipe: str) -> Path:
    return _cached(
        work,
        f"recipe_{recipe}",
        lambda: _train(
            [
                f"champion={CHAMPION}",
                "stage=3",
                f"paths.registry={work / 'champions'}",
                f"seed={a.seed}",
                f"hparams.total_timesteps={a.budget}",
                f"eval.every={a.ft_eval_every}",
                f"eval.episodes={a.episodes}",
                f"eval.final_episodes={a.episodes}",
                *RECIPES[recipe],
            ],
            f"ftbench_{recipe}",
            work / "runs",
            work / f"recipe_{recipe}.log",
        ),
    )


def summarise(
    recipe: str,
    folder: Path,
    bar: float,
    scratch_steps: int | None,
    high_bar: float,
    scratch_high: int | None,
    scratch_budget: int,
) -> dict[str, Any]:
    metrics = _metrics(folder)
    pre_post = metrics["pre_post"]
    original, target = pre_post["original"], pre_post["target"]
    curve = [{"timesteps": 0, "success_rate": target["before"]["success_rate"]}, *metrics["eval"]]
    steps = _first_reaching(curve, bar)
    high = _first_reaching(curve, high_bar)
    # scratch never reaching the high bar: it needs more than its budget, so the ratio is at most this
    high_ratio = None if high is None else high / (scratch_high or scratch_budget)
    pre, post = original["before"]["success_rate"], original["after"]["success_rate"]
    return {
        "recipe": recipe,
        "args": RECIPES[recipe],
        "run_folder": str(folder),
        "steps_to_scratch_final": steps,
        "steps_ratio": round(steps / scratch_steps, 4)
        if steps is not None and scratch_steps
        else (0.0 if steps == 0 else None),
        "steps_to_high_bar": high,
        "high_bar_ratio": None if high_ratio is None else round(high_ratio, 4),
        "high_bar_ratio_is_upper_bound": scratch_high is None,
        "target_before": target["before"]["success_rate"],
        "target_after": target["after"]["success_rate"],
        "original_before": pre,
        "original_after": post,
        "retention": round(post / pre, 4) if pre else None,
        "verdict": pre_post.get("verdict"),
        "train_wall_s": metrics.get("train_time_s"),
        "curve": [(e["timesteps"], e["success_rate"]) for e in curve],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, default=RESULTS_DIR / "finetune_work")
    parser.add_argument("--recipes", nargs="+", default=list(RECIPES), choices=list(RECIPES))
    parser.add_argument("--champion-budget", type=int, default=300_000)
    parser.add_argument("--champion-target", type=float, default=0.95)
    parser.add_argument("--scratch-budget", type=int, default=300_000)
    parser.add_argument("--budget", type=int, default=100_000, help="steps per fine-tune recipe")
    parser.add_argument("--eval-every", type=int, default=10_000)
    parser.add_argument("--ft-eval-every", type=int, default=5_000)
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument(
        "--high-bar", type=float, default=0.9, help="also compare steps to this success (scratch's final may be near 0)"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--parallel", type=int, default=2)
    parser.add_argument("--quick", action="store_true", help="tiny budgets: checks the plumbing, not the figures")
    a = parser.parse_args()
    if a.quick:
        a.champion_budget = a.scratch_budget = a.budget = 2048
        a.eval_every = a.ft_eval_every = 1024
        a.episodes, a.champion_target = 5, 0.0
        a.workdir = a.workdir.with_name(a.workdir.name + "_quick")
    a.workdir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=a.parallel) as pool:
        champion_job = pool.submit(champion_phase, a, a.workdir)
        scratch_job = pool.submit(scratch_phase, a, a.workdir)
        champion_job.result()
        recipe_jobs = {r: pool.submit(recipe_phase, a, a.workdir, r) for r in a.recipes}
        scratch = _metrics(scratch_job.result())
        folders = {r: job.result() for r, job in recipe_jobs.items()}
    champion = json.loads((a.workdir / "champions" / CHAMPION / "manifest.json").read_text())
    bar = scratch["final"]["success_rate"]
    scratch_steps = _first_reaching(scratch["eval"], bar)
    scratch_high = _first_reaching(scratch["eval"], a.high_bar)
    results = [
        summarise(r, folders[r], bar, scratch_steps, a.high_bar, scratch_high, a.scratch_budget) for r in a.recipes
    ]

    rows = [
        row("champion (stage 2) success, as registered", champion["metrics"]["success_rate"], ""),
        row("scratch stage 3: final success S", bar, ""),
        row("scratch stage 3: steps to first reach S", scratch_steps, "steps"),
        row(f"scratch stage 3: steps to success >= {a.high_bar}", scratch_high, "steps"),
    ]
    for r in results:
        rows.append(row(f"{r['recipe']}: steps to S / scratch's", r["steps_ratio"], "", "<= 0.25"))
        bound = " (upper bound: scratch never got there)" if r["high_bar_ratio_is_upper_bound"] else ""
        rows.append(row(f"{r['recipe']}: steps to {a.high_bar} / scratch's{bound}", r["high_bar_ratio"], "", "<= 0.25"))
        rows.append(row(f"{r['recipe']}: stage-3 success after", r["target_after"], ""))
        rows.append(row(f"{r['recipe']}: retention on stage 2 (post/pre)", r["retention"], ""))
    best = max((r for r in results if r["retention"] is not None), key=lambda r: r["retention"], default=None)
    rows.append(
        row(f"best retention ({best['recipe'] if best else '-'})", best["retention"] if best else None, "", ">= 0.95")
    )
    details = {
        "settings": {k: str(v) if isinstance(v, Path) else v for k, v in vars(a).items()},
        "champion_run": str(champion_phase(a, a.workdir)),
        "scratch_curve": [(e["timesteps"], e["success_rate"]) for e in scratch["eval"]],
        "recipes": results,
        "wall_s": round(time.perf_counter() - t0, 1),
    }
    write_result("finetune", rows, details, quick=a.quick)
    print_table(rows)


if __name__ == "__main__":
    main()
