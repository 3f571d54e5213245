"""``rlft evaluate MODEL [stages=[1,5,11]] [episodes=100] [key=value ...]`` (or ``python -m rlft.evaluate``)

MODEL: a run folder (its final/ model; which=best for best/), a curriculum folder (its last stage),
a model folder, a champion name (NAME or NAME@vN) or ``oracle`` (the scripted ray+bridge CurveTrace
oracle; ``oracle:greedy`` the greedy one). Options go anywhere on the line; every other key=value
is a config override composed as in training (env=..., stage_overrides.noise_sigma=0.1,
paths.output_dir=DIR); the env defaults to the model's own.

Per stage: success rate with a 95% Wilson interval, mean reward with a bootstrap interval, mean
length and every number the env reports in its episode-end info (``info/<key>``, e.g. CurveTrace's
endpoint error, coverage and early / late stop rates, with bootstrap intervals), over fixed seeds
shared by every model (paired). Writes ``evaluation.json`` and ``evaluation.png`` into
``<paths.output_dir>/evaluate/<model>_<time>/`` (or ``out=DIR``) and prints a table. Nothing is
written when an input is wrong.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Sequence

from rlft.arguments import Command
from rlft.assess.cli import OVERRIDES_HELP, judge_options, model
from rlft.cli import user_errors

COMMAND = Command(
    "evaluate",
    "Evaluate one model per stage, with intervals, on fixed seeds.",
    positionals=(model(hint="to judge several models on the same episodes: rlft compare A B ..."),),
    options=judge_options("evaluate"),
    overrides=OVERRIDES_HELP,
    description="Writes evaluation.json and evaluation.png and prints a table; nothing is written when an input is "
    "wrong.",
)


def stage_table(label: str, stages: list[dict[str, Any]]) -> str:
    """One row per stage, with a column per ``info/`` metric the env reports ('-' where a stage lacks it)."""
    from rlft.assess.judge import info_metrics

    columns = info_metrics(stages)
    header = ["stage", "success [95% CI]", "reward [95% CI]", "length", *(n.removeprefix("info/") for n in columns)]
    rows = [header]
    for s in stages:
        success = (
            "-"
            if s.get("success_rate") is None
            else f"{s['success_rate']:.3f} [{s['success_ci95'][0]:.2f},{s['success_ci95'][1]:.2f}]"
        )
        lo, hi = s["mean_reward_ci95"]
        rows.append(
            [
                str(s["stage"]),
                success,
                f"{s['mean_reward']:.2f} [{lo:.2f},{hi:.2f}]",
                f"{s['mean_length']:.1f}",
                *(f"{s[k]:.2f}" if k in s else "-" for k in columns),
            ]
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in rows]
    return "\n".join([label, *lines])


def main(argv: Sequence[str] | None = None) -> None:
    with user_errors():
        result, folder = run(sys.argv[1:] if argv is None else argv)
    print(
        stage_table(
            f"{result['model']} ({result['episodes']} episodes per stage, "
            f"{'deterministic' if result['deterministic'] else 'stochastic'})",
            result["stages"],
        )
    )
    print(f"wrote {folder / 'evaluation.json'} and {folder / 'evaluation.png'}")


def run(argv: Sequence[str]) -> tuple[dict[str, Any], Path]:
    from rlft.assess import cli, judge
    from rlft.assess.sources import resolve_source
    from rlft.io import atomic_write_json
    from rlft.plots import plot_stage_bars

    args = COMMAND.parse(argv)
    source = resolve_source(args.model, str(args.paths_registry), args.which, args.checkpoint, args.trust_pickle)
    deterministic = cli.deterministic(args, [source])
    targets = judge.stage_targets(source, args.overrides, judge.parse_stages(args.stages))
    policy = judge.prepare(source, targets)
    folder = cli.output_folder(args, "evaluate", source.label, targets[0].cfg.paths.output_dir)
    stages = judge.evaluate_stages(source, policy, targets, args.episodes, deterministic)
    result = {
        "model": source.label,
        "spec": source.spec,
        "kind": source.kind,
        **judge.record_settings(args.episodes, deterministic, args.overrides, targets),
        "stages": stages,
    }
    folder.mkdir(parents=True, exist_ok=True)
    atomic_write_json(folder / "evaluation.json", result)
    plot_stage_bars({source.label: stages}, folder / "evaluation.png", title=f"{source.label}: per-stage evaluation")
    return result, folder


if __name__ == "__main__":
    main()
