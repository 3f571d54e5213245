"""Behaviour cloning helps a weaker model (#8): filtered traces of a stronger model on CurveTrace
stage 3, distilled into a weaker one, judged before and after on the same paired episodes.

Steps, each the CLI a user types, in ``--workdir``:
1. strong = ``--strong`` (default: the stage-2 champion of ``bench_finetune``, ~0.9 on stage 3);
   weak = ``--weak`` (default: bench_finetune's stage-3 run from scratch, 0.00), registered with
   force=true as champion ``bc_weak`` so the distill run starts from its weights;
2. ``python -m rlft.traces record <strong> stage=3 episodes=N`` (sampled actions, seeds 0..N-1);
3. ``python -m rlft.traces filter in=<recorded> out=<kept> min_success=true
   achievement_types=coverage_90,stopped_at_end``;
4. ``python -m rlft.train distill=<kept> champion=bc_weak stage=3``;
5. ``python -m rlft.compare bc_weak <distilled> <strong> stages=[3]`` (evaluation seeds from
   1,000,000: none of the recorded episodes).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import RESULTS_DIR, print_table, row, run_python, write_result

FT_WORK = RESULTS_DIR / "finetune_work"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", type=Path, default=RESULTS_DIR / "distill_work")
    parser.add_argument("--strong", default="ftbench_stage2", help="a champion name (in --registry) or run folder")
    parser.add_argument("--weak", type=Path, default=None, help="a run folder (default: bench_finetune's scratch run)")
    parser.add_argument("--registry", type=Path, default=FT_WORK / "champions")
    parser.add_argument("--episodes", type=int, default=2000, help="episodes to record")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--eval-episodes", type=int, default=200)
    a = parser.parse_args()
    weak = a.weak or next((FT_WORK / "runs" / "train").glob("ftbench_scratch_*"))
    work = a.workdir
    work.mkdir(parents=True, exist_ok=True)
    registry = work / "champions"
    if not (registry / "bc_weak").is_dir():
        run_python(
            [
                "-m",
                "rlft.register",
                str(weak),
                "name=bc_weak",
                f"paths.registry={registry}",
                "force=true",
                "which=final",
            ],
            timeout=600,
        )
    strong = a.strong
    if not Path(strong).exists():  # a champion of the other registry: copy its folder over (read-only)
        import shutil

        if not (registry / strong).is_dir():
            shutil.copytree(a.registry / strong, registry / strong)
    recorded, kept = work / "recorded", work / "kept"
    if not (recorded / "manifest.json").is_file():
        _, wall = run_python(
            [
                "-m",
                "rlft.traces",
                "record",
                strong,
                f"paths.registry={registry}",
                "stage=3",
                f"episodes={a.episodes}",
                f"out={recorded}",
            ],
            timeout=3600,
        )
    if not (kept / "manifest.json").is_file():
        done, _ = run_python(
            [
                "-m",
                "rlft.traces",
                "filter",
                f"in={recorded}",
                f"out={kept}",
                "min_success=true",
                "achievement_types=coverage_90,stopped_at_end",
            ],
            timeout=600,
        )
        print(done.stdout)
    outputs = work / "outputs"
    runs = sorted((outputs / "distill").glob("BC_*")) if (outputs / "distill").is_dir() else []
    if not runs:
        run_python(
            [
                "-m",
                "rlft.train",
                f"distill={kept}",
                "champion=bc_weak",
                "stage=3",
                f"distill.epochs={a.epochs}",
                f"paths.registry={registry}",
                f"paths.output_dir={outputs}",
                "progress=log",
            ],
            timeout=3600,
        )
        runs = sorted((outputs / "distill").glob("BC_*"))
    distilled = runs[-1]
    report = work / "compare"
    if not (report / "compare.json").is_file():
        run_python(
            [
                "-m",
                "rlft.compare",
                "bc_weak",
                str(distilled),
                strong,
                "stages=[3]",
                f"episodes={a.eval_episodes}",
                f"paths.registry={registry}",
                f"out={report}",
            ],
            timeout=3600,
        )
    compared = json.loads((report / "compare.json").read_text())
    rows_by_model = {r["model"]: r for r in compared["rows"]}
    labels = [m["label"] for m in compared["models"]]
    before, after, teacher = (rows_by_model[label] for label in labels)
    filtered = json.loads((kept / "manifest.json").read_text())["filter"]
    imitation = json.loads((distilled / "metrics.json").read_text())["distill"]
    rows = [
        row("recorded episodes (strong, sampled)", filtered["all"]["episodes"], ""),
        row("recorded success rate", round(filtered["all"]["success_rate"], 3), ""),
        row("kept episodes (success + coverage_90 + stopped_at_end)", filtered["kept"]["episodes"], ""),
        row("held-out imitation accuracy", round(imitation["history"][-1].get("held_out_accuracy", 0), 3), ""),
        row("weak model success on stage 3", before["value"], ""),
        row("distilled model success on stage 3", after["value"], ""),
        row("strong model (teacher) success on stage 3", teacher["value"], ""),
        row("change weak -> distilled (lower 95% bound)", round(after["vs"]["delta_ci95"][0], 3), "", "> 0"),
    ]
    write_result(
        "distill",
        rows,
        {
            "compare": str(report / "report.md"),
            "distilled_run": str(distilled),
            "filter": filtered,
            "imitation": imitation,
        },
        quick=False,
    )
    print_table(rows)


if __name__ == "__main__":
    main()
