"""``rlft promote RUN [tolerance=0.05] [against=latest|parent]`` (or ``python -m rlft.promote``):
adopt a fine-tune only if it is a real improvement.

The fine-tuned model (its ``final/``) becomes the next version of its champion's name when both
checks pass: the target stage improved (the lower bound of the paired 95% interval of the change is
above 0) and the champion's original stage dropped by no more than ``tolerance``. The baseline is
the lineage's latest version (``against=latest``, the default) or the run's own parent
(``against=parent``); the fine-tune's recorded pre/post evaluation is used when the baseline is the
model it started from, else the baseline plays the same seeds again and is paired with the
recorded 'after'. Otherwise it prints which check failed, with the numbers, exits 1 and leaves the
registry untouched. A fine-tune that already became a version is refused, naming it. The manifest
records the checks and the baseline (``gate.promotion``) and the parent (lineage).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from rlft.arguments import Command, Option, Positional, registry_option
from rlft.cli import user_errors
from rlft.errors import ConfigError, RunFolderError

if TYPE_CHECKING:
    from rlft.champions.registry import Registry

EXIT_NOT_PROMOTED = 1
DEFAULT_TOLERANCE = 0.05
AGAINST = ("latest", "parent")

COMMAND = Command(
    "promote",
    "Adopt a fine-tune as its champion's next version only if it is a real improvement.",
    positionals=(Positional("RUN", "a fine-tune run folder (outputs/finetune/FT_...)"),),
    options=(
        Option(
            "tolerance",
            "float",
            default=DEFAULT_TOLERANCE,
            minimum=0.0,
            maximum=1.0,
            help="largest allowed drop on the champion's original stage",
        ),
        Option(
            "against",
            default="latest",
            choices=AGAINST,
            help="the baseline: the lineage's latest version, or the version the fine-tune started from",
        ),
        registry_option(),
    ),
    description="Promotes when the target stage improved (the lower bound of the paired 95% interval of the change "
    "is above 0) and the original stage dropped by no more than tolerance; otherwise prints the failed "
    "check and exits 1, the registry untouched.",
)


def _pre_post(run_dir: Path) -> dict[str, Any]:
    from rlft.io import read_json
    from rlft.runs.layout import RunFolder

    run = RunFolder(run_dir)
    if not run.metrics_file.is_file():
        raise RunFolderError(
            f"{run_dir} has no metrics.json: promote takes a fine-tune run folder (outputs/finetune/FT_...)"
        )
    metrics = read_json(run.metrics_file)
    if metrics.get("kind") != "finetune":
        raise RunFolderError(
            f"{run_dir} is not a fine-tune (metrics.json kind={metrics.get('kind')!r}): promote "
            "takes outputs/finetune/FT_...; register other runs with rlft register"
        )
    if "pre_post" not in metrics:
        raise RunFolderError(
            f"{run_dir} has no pre/post evaluation (status {metrics.get('status')!r}): "
            "finish the fine-tune first (resume=<run dir>)"
        )
    return metrics


def checks(pre_post: dict[str, Any], tolerance: float) -> list[dict[str, Any]]:
    """The promotion checks with their figures; each has ``passed`` and a one-line ``text``."""
    target = pre_post["target"]
    change = target["change"]
    low, high = change["delta_ci95"] or (None, None)
    metric = change["metric"]
    before, after = target["before"][metric], target["after"][metric]
    result = [
        {
            "check": "improved",
            "stage": target["stage"],
            "before": before,
            "after": after,
            "delta": change["delta"],
            "delta_ci95": change["delta_ci95"],
            "passed": low is not None and low > 0,
            "text": f"target stage {target['stage']}: {metric} {before:.3f} -> {after:.3f}, change {change['delta']:+.3f} "
            f"[{low:+.3f}, {high:+.3f}] (needs the lower bound > 0)"
            if low is not None
            else f"target stage {target['stage']}: no interval for the change",
        }
    ]
    if "original" in pre_post:
        original = pre_post["original"]
        change = original["change"]
        metric = change["metric"]
        before, after = original["before"][metric], original["after"][metric]
        result.append(
            {
                "check": "kept",
                "stage": original["stage"],
                "before": before,
                "after": after,
                "delta": change["delta"],
                "tolerance": tolerance,
                "passed": change["delta"] >= -tolerance - 1e-9,
                "text": f"original stage {original['stage']}: {metric} {before:.3f} -> {after:.3f}, change "
                f"{change['delta']:+.3f} (may drop at most {tolerance})",
            }
        )
    return result


def promoted_as(registry: "Registry", name: str, run_dir: Path) -> str | None:
    """The version a fine-tune run already became, if any (promotion records its folder)."""
    run = str(run_dir.resolve())
    for version in registry.versions(name):
        champion = registry.storage.get(f"{name}@v{version}")
        if (champion.manifest["gate"].get("promotion") or {}).get("fine_tune_run") == run:
            return champion.ref
    return None


def against_latest(run_dir: Path, metrics: dict[str, Any], latest: str, registry: "Registry") -> dict[str, Any]:
    """The pre/post evaluation with the version ``latest`` as 'before': it plays the seeds the
    fine-tune's 'after' played (same stages, same episodes), so the change stays paired."""
    from rlft.finetune import pre_post
    from rlft.runs.layout import RunFolder
    from rlft.runs.reading import run_config

    cfg = run_config(RunFolder(run_dir))
    parent = registry.get(metrics["champion"]).manifest
    recorded = metrics["pre_post"]
    model, champion = registry.load_model(latest, device="cpu")
    before = pre_post.evaluate_stages(cfg, parent, model, champion.folder, recorded["episodes"])
    after = {key: recorded[key]["after"] for key in (pre_post.TARGET, pre_post.ORIGINAL) if key in recorded}
    return pre_post.assemble(cfg, parent, before, after)


def promote(
    run_dir: Path, registry_root: str, tolerance: float, against: str = "latest"
) -> tuple[bool, list[dict[str, Any]], str, str]:
    """(promoted, checks, the new champion's ref or the baseline's, what the baseline was)."""
    from rlft.champions.names import parse_ref
    from rlft.champions.registry import Registry

    if against not in AGAINST:
        raise ConfigError(f"against={against} is not valid: use one of {', '.join(AGAINST)}")
    metrics = _pre_post(run_dir)
    parent = metrics["champion"]
    name, _ = parse_ref(parent)
    registry = Registry(registry_root)
    already = promoted_as(registry, name, run_dir)
    if already is not None:
        raise ConfigError(f"{run_dir} was already promoted: it is champion {already}; nothing to do")
    baseline = registry.get(name).ref if against == "latest" else registry.get(parent).ref
    recorded = baseline == registry.get(parent).ref
    pre_post = metrics["pre_post"] if recorded else against_latest(run_dir, metrics, baseline, registry)
    results = checks(pre_post, tolerance)
    how = "its recorded pre/post evaluation" if recorded else "re-evaluated on the fine-tune's seeds"
    against_text = f"against {baseline} ({how})"
    if not all(c["passed"] for c in results):
        return False, results, baseline, against_text
    champion = registry.register(
        run_dir,
        name,
        source="final",
        promotion={
            "parent": parent,
            "against": baseline,
            "re_evaluated": not recorded,
            "tolerance": tolerance,
            "checks": results,
            "fine_tune_run": str(run_dir.resolve()),
        },
    )
    return True, results, champion.ref, against_text


def main(argv: Sequence[str] | None = None) -> None:
    with user_errors():
        args = COMMAND.parse(sys.argv[1:] if argv is None else argv)
        promoted, results, ref, against_text = promote(
            Path(args.run), str(args.paths_registry), args.tolerance, args.against
        )
    print(against_text)
    for c in results:
        print(f"  [{'pass' if c['passed'] else 'FAIL'}] {c['text']}")
    if promoted:
        print(f"promoted: {args.run} is now champion {ref}")
        return
    failed = ", ".join(c["check"] for c in results if not c["passed"])
    print(f"not promoted ({failed} failed): {ref} stays the champion; the registry is unchanged", file=sys.stderr)
    sys.exit(EXIT_NOT_PROMOTED)


if __name__ == "__main__":
    main()
