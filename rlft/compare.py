"""``rlft compare A B [C ...] [stages=[1,2,3]] [episodes=100] [key=value ...]`` (or ``python -m rlft.compare``)

Models as in ``rlft evaluate`` (run folders, model folders, champions, oracle). All play the same
fixed-seed episodes on the same stages (default: A's own stage, on A's env), so every difference
is paired: per stage, each model's success with its interval, its change against A with a paired
bootstrap interval, and the probability that it beats A. Writes ``report.md`` (the tables and
plots), ``compare.json``, ``stages.png`` (bars per stage and model), ``actions.png`` (each model's
action histogram, a panel per compared stage, every action of the space named when the env names
them) and ``learning_curves.png`` (the runs' evaluation histories, a panel per stage they were
trained on) into ``<paths.output_dir>/compare/<A>_vs_<B>_<time>/`` (or ``out=DIR``); the report also
has reward per step and every ``info/`` metric the env reports, with intervals.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Sequence

from rlft.arguments import Command
from rlft.assess.cli import OVERRIDES_HELP, judge_options, model
from rlft.cli import user_errors

COMMAND = Command(
    "compare",
    "Compare models on the same fixed-seed episodes, with paired changes against the first.",
    positionals=(model(at_least=2, at_most=None, hint="one model: rlft evaluate MODEL"),),
    options=judge_options("compare"),
    overrides=OVERRIDES_HELP,
    description="Writes report.md, compare.json, stages.png, actions.png and learning_curves.png; nothing is "
    "written when an input is wrong.",
)


def comparison_rows(labels: list[str], results: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Per stage and model: the metric, its interval, and the paired change against the first model."""
    from rlft.assess.judge import metric_of, paired_change

    baseline = labels[0]
    rows = []
    for i, stage in enumerate(results[baseline]):
        metric = metric_of(stage)
        for label in labels:
            mine = results[label][i]
            interval = mine.get("success_ci95") if metric == "success_rate" else mine["mean_reward_ci95"]
            row = {
                "stage": stage["stage"],
                "model": label,
                "metric": metric,
                "value": mine[metric],
                "ci95": interval,
                "vs": None,
            }
            if label != baseline:
                row["vs"] = paired_change(stage, mine)
            rows.append(row)
    return rows


def table(rows: list[dict[str, Any]], baseline: str) -> list[str]:
    """Markdown table lines."""
    lines = [
        f"| stage | model | value [95% CI] | change vs {baseline} [95% CI] | P(better than {baseline}) |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        value = f"{r['value']:.3f} [{r['ci95'][0]:.2f}, {r['ci95'][1]:.2f}]"
        if r["vs"] is None:
            change, better = "(baseline)", ""
        else:
            lo, hi = r["vs"]["delta_ci95"]
            change, better = f"{r['vs']['delta']:+.3f} [{lo:+.2f}, {hi:+.2f}]", f"{r['vs']['p_improvement']:.2f}"
        lines.append(f"| {r['stage']} | {r['model']} | {value} | {change} | {better} |")
    return lines


def efficiency(labels: list[str], results: dict[str, list[dict[str, Any]]]) -> str:
    """Reward per step and mean length per stage and model (a markdown table)."""
    lines = ["| stage | model | reward per step | mean length | mean reward |", "|---|---|---|---|---|"]
    for i, stage in enumerate(results[labels[0]]):
        for label in labels:
            s = results[label][i]
            lines.append(
                f"| {stage['stage']} | {label} | {s['reward_per_step']:.4f} | {s['mean_length']:.1f} | "
                f"{s['mean_reward']:.3f} |"
            )
    return "\n".join(lines)


def info_table(labels: list[str], results: dict[str, list[dict[str, Any]]]) -> str | None:
    """Every ``info/`` metric the env reports, per stage and model, with its 95% bootstrap interval
    (a markdown table); None when the env reports none."""
    from rlft.assess.judge import info_metrics

    names = info_metrics([s for label in labels for s in results[label]])
    if not names:
        return None
    lines = ["| stage | model | metric | mean [95% CI] |", "|---|---|---|---|"]
    for i, stage in enumerate(results[labels[0]]):
        for label in labels:
            s = results[label][i]
            for name in (n for n in names if n in s):
                lo, hi = s.get("info_ci95", {}).get(name, (float("nan"), float("nan")))
                lines.append(f"| {stage['stage']} | {label} | {name} | {s[name]:.3f} [{lo:.2f}, {hi:.2f}] |")
    return "\n".join(lines)


def rate_table(labels: list[str], results: dict[str, list[dict[str, Any]]]) -> str | None:
    """For each entry of a counter-dict metric (a Crafter achievement), the share of episodes where
    it happened, per stage and model, with its Wilson interval and, against the first model, the
    paired change with its bootstrap interval (a markdown table); None when the env reports none."""
    from rlft.scoring import paired_difference

    baseline = labels[0]
    header = f"| stage | episodes with (count > 0) | {' | '.join(labels)} |"
    lines = [header, "|---|---|" + "---|" * len(labels)]
    for i, stage in enumerate(results[baseline]):
        names = [
            n for n in stage.get("info_rates", {}) if all(n in results[m][i].get("info_rates", {}) for m in labels)
        ]
        for name in names:
            cells = []
            for label in labels:
                mine = results[label][i]
                rate, (lo, hi) = mine["info_rates"][name]["rate"], mine["info_rates"][name]["ci95"]
                cell = f"{rate:.2f} [{lo:.2f}, {hi:.2f}]"
                if label != baseline:
                    hits = [
                        [float(v > 0) for v in r[i]["info_episodes"][name]] for r in (results[baseline], results[label])
                    ]
                    change = paired_difference(*hits)
                    low, high = change["delta_ci95"]
                    cell += f" ({change['delta']:+.2f} [{low:+.2f}, {high:+.2f}])"
                cells.append(cell)
            lines.append(f"| {stage['stage']} | {name} | {' | '.join(cells)} |")
    return "\n".join(lines) if len(lines) > 2 else None


def curve_panels(labels: list[str], sources: list[Any]) -> dict[str, dict[str, list[dict[str, Any]]]]:
    """Evaluation histories by the stage they were trained on, ``{stage: {label: entries}}``: a
    curriculum's entries carry their stage, a run's or champion's come from its config's stage."""
    panels: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for label, source in zip(labels, sources):
        own = ((source.config or {}).get("stage") or {}).get("name")
        for entry in source.curve:
            stage = str(entry.get("stage", own))
            panels.setdefault(stage, {}).setdefault(label, []).append(entry)
    return panels


def _action_labels(cfg: Any) -> dict[str, str]:
    from rlft.envs.actions import env_action_labels
    from rlft.envs.factory import env_factory

    env = env_factory(cfg)()
    try:
        return env_action_labels(env)
    finally:
        env.close()


def run(argv: Sequence[str]) -> tuple[dict[str, Any], Path]:
    from rlft.assess import cli, judge
    from rlft.assess.sources import check_runs_on, resolve_source
    from rlft.envs.factory import probe_spaces
    from rlft.io import atomic_write_json, atomic_write_text
    from rlft.plots import plot_action_shares, plot_learning_curves, plot_stage_bars

    args = COMMAND.parse(argv)
    sources = [
        resolve_source(spec, str(args.paths_registry), args.which, args.checkpoint, args.trust_pickle)
        for spec in args.model
    ]
    labels = [s.label for s in sources]
    if len(set(labels)) != len(labels):
        labels = [f"{i + 1}:{label}" for i, label in enumerate(labels)]
    deterministic = cli.deterministic(args, sources)
    targets = judge.stage_targets(sources[0], args.overrides, judge.parse_stages(args.stages))
    policies = [judge.prepare(sources[0], targets)]
    for source in sources[1:]:
        policy = source.load(targets[0].cfg)
        for target in targets:
            check_runs_on(source, policy, probe_spaces(target.cfg), f"stage {target.label}")
        policies.append(policy)
    folder = cli.output_folder(
        args, "compare", "_vs_".join(s.label for s in sources[:2])[:80], targets[0].cfg.paths.output_dir
    )
    results = {
        label: judge.evaluate_stages(source, policy, targets, args.episodes, deterministic)
        for label, source, policy in zip(labels, sources, policies)
    }
    rows = comparison_rows(labels, results)
    folder.mkdir(parents=True, exist_ok=True)
    plot_stage_bars(results, folder / "stages.png", title=f"{args.episodes} paired episodes per stage")
    actions = plot_action_shares(
        {
            target.label: {label: results[label][i].get("action_shares", {}) for label in labels}
            for i, target in enumerate(targets)
        },
        _action_labels(targets[0].cfg),
        folder / "actions.png",
        title="share of each action per compared stage",
    )
    curves = plot_learning_curves(
        curve_panels(labels, sources), folder / "learning_curves.png", title="evaluation during training"
    )
    report = {
        "models": [{"label": label, "spec": s.spec, "kind": s.kind} for label, s in zip(labels, sources)],
        "baseline": labels[0],
        **judge.record_settings(args.episodes, deterministic, args.overrides, targets),
        "rows": rows,
        "stages": results,
    }
    atomic_write_json(folder / "compare.json", report)
    markdown = [
        f"# {' vs '.join(labels)}",
        "",
        f"{args.episodes} episodes per stage on the same seeds (from {report['eval_seed']}), "
        f"{'deterministic' if deterministic else 'stochastic'} actions, env {report['env']}. "
        f"Changes are paired (per episode) against {labels[0]}, with 95% bootstrap intervals; "
        "P(better) is the bootstrap probability that the mean change is above 0.",
        "",
        *table(rows, labels[0]),
        "",
        efficiency(labels, results),
        "",
        *([rates, ""] if (rates := rate_table(labels, results)) else []),
        *([info, ""] if (info := info_table(labels, results)) else []),
        "![per-stage results](stages.png)",
        "",
    ]
    if actions is not None:
        markdown += ["![action shares per stage](actions.png)", ""]
    if curves is not None:
        markdown += ["![learning curves](learning_curves.png)", ""]
    atomic_write_text(folder / "report.md", "\n".join(markdown))
    return report, folder


def main(argv: Sequence[str] | None = None) -> None:
    with user_errors():
        report, folder = run(sys.argv[1:] if argv is None else argv)
    print("\n".join(table(report["rows"], report["baseline"])))
    print(f"wrote {folder / 'report.md'} (with stages.png, learning_curves.png, compare.json)")


if __name__ == "__main__":
    main()
