"""rlft.promote: a fine-tune becomes the next champion version only when it improved and kept."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from rlft.champions.registry import Registry
from tests.conftest import TINY_CURVE, run_cli
from tests.finetune.test_finetune import registry  # noqa: F401  (module fixture: a champion "base")


@pytest.fixture(scope="module")
def fine_tune(registry: Registry, tmp_path_factory) -> Path:  # noqa: F811
    root = tmp_path_factory.mktemp("promote")
    done = run_cli(
        [
            "champion=base",
            "stage=3",
            "hparams.total_timesteps=128",
            f"paths.registry={registry.root}",
            f"paths.output_dir={root / 'outputs'}",
            *TINY_CURVE,
        ],
        cwd=root,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (run,) = (root / "outputs" / "finetune").iterdir()
    return run


def _with_figures(run: Path, tmp_path: Path, target_ci: list[float], original_delta: float) -> Path:
    """A copy of the fine-tune whose recorded pre/post evaluation says what the test needs."""
    copy = tmp_path / run.name
    shutil.copytree(run, copy)
    metrics = json.loads((copy / "metrics.json").read_text())
    target, original = metrics["pre_post"]["target"], metrics["pre_post"]["original"]
    target["change"].update(delta=sum(target_ci) / 2, delta_ci95=target_ci)
    original["change"]["delta"] = original_delta
    (copy / "metrics.json").write_text(json.dumps(metrics))
    return copy


def _promote(run: Path, registry: Registry, *extra: str):  # noqa: F811
    return run_cli(
        [str(run), f"paths.registry={registry.root}", *extra],
        cwd=run.parent if run.parent.exists() else Path.cwd(),
        module="rlft.promote",
    )


def _copy_registry(registry: Registry, tmp_path: Path) -> Registry:  # noqa: F811
    shutil.copytree(registry.root, tmp_path / "champions")
    return Registry(tmp_path / "champions")


def test_an_improvement_that_keeps_the_original_becomes_the_next_version(
    fine_tune: Path,
    registry: Registry,  # noqa: F811
    tmp_path: Path,
) -> None:
    own = _copy_registry(registry, tmp_path)
    done = _promote(_with_figures(fine_tune, tmp_path, [0.05, 0.2], -0.02), own)
    assert done.returncode == 0, done.stderr
    assert "promoted" in done.stdout and "base@v2" in done.stdout
    champion = own.get("base")
    assert champion.ref == "base@v2" and champion.manifest["parent"] == "base@v1"
    promotion = champion.manifest["gate"]["promotion"]
    assert promotion["parent"] == "base@v1" and [c["check"] for c in promotion["checks"]] == ["improved", "kept"]
    own.verify("base@v2")


@pytest.mark.parametrize(
    "target_ci,original_delta,failed",
    [
        ([-0.05, 0.2], 0.0, "improved failed"),
        ([0.05, 0.2], -0.10, "kept failed"),
    ],
)
def test_a_fine_tune_that_did_not_help_or_forgot_is_refused(
    fine_tune: Path,
    registry: Registry,  # noqa: F811
    tmp_path: Path,
    target_ci,
    original_delta,
    failed,
) -> None:
    own = _copy_registry(registry, tmp_path)
    done = _promote(_with_figures(fine_tune, tmp_path, target_ci, original_delta), own)
    assert done.returncode == 1 and failed in done.stderr and "registry is unchanged" in done.stderr
    assert "[FAIL]" in done.stdout and own.versions("base") == [1]


def test_a_looser_tolerance_accepts_a_small_drop(fine_tune: Path, registry: Registry, tmp_path: Path) -> None:  # noqa: F811
    own = _copy_registry(registry, tmp_path)
    done = _promote(_with_figures(fine_tune, tmp_path, [0.05, 0.2], -0.10), own, "tolerance=0.15")
    assert done.returncode == 0 and own.versions("base") == [1, 2]


def test_only_fine_tunes_are_promoted(fine_tune: Path, registry: Registry, tmp_path: Path) -> None:  # noqa: F811
    train_run = registry.get("base").manifest["source_run"]
    for bad, message in ((Path(train_run), "is not a fine-tune"), (tmp_path / "nowhere", "no metrics.json")):
        done = _promote(bad, registry)
        assert done.returncode == 2 and message in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert registry.versions("base") == [1]


def test_promoting_the_same_fine_tune_twice_is_refused_naming_its_version(
    fine_tune: Path,
    registry: Registry,  # noqa: F811
    tmp_path: Path,
) -> None:
    own = _copy_registry(registry, tmp_path)
    run = _with_figures(fine_tune, tmp_path, [0.05, 0.2], 0.0)
    assert _promote(run, own, "against=parent").returncode == 0
    again = _promote(run, own, "against=parent")
    assert again.returncode == 2 and len(again.stderr.strip().splitlines()) == 1
    assert "already promoted" in again.stderr and "base@v2" in again.stderr
    assert own.versions("base") == [1, 2]
    tree = run_cli(["lineage", "base", f"paths.registry={own.root}"], cwd=tmp_path, module="rlft.champions")
    assert tree.returncode == 0, tree.stderr
    root, child = tree.stdout.strip().splitlines()
    assert root.startswith("base@v1") and "registered" in root
    assert child.startswith("└─ base@v2") and "promoted against base@v1 (improved, kept)" in child
    assert str(run.resolve()) in child


def test_against_latest_re_evaluates_a_newer_version_and_parent_uses_the_recorded_figures(
    fine_tune: Path,
    registry: Registry,  # noqa: F811
    tmp_path: Path,
) -> None:
    own = _copy_registry(registry, tmp_path)
    first = _with_figures(fine_tune, tmp_path / "a", [0.05, 0.2], 0.0)
    assert _promote(first, own).returncode == 0  # base@v2: the fine-tune's own final model
    second = _with_figures(fine_tune, tmp_path / "b", [0.05, 0.2], 0.0)  # the same model, another run
    latest = _promote(second, own)  # against base@v2, which plays the seeds again: no change at all
    assert latest.returncode == 1 and "improved failed" in latest.stderr and "base@v2 stays" in latest.stderr
    assert "change +0.000" in latest.stdout and own.versions("base") == [1, 2]
    assert "against base@v2 (re-evaluated on the fine-tune's seeds)" in latest.stdout
    parent = _promote(second, own, "against=parent")  # the recorded pre/post against base@v1
    assert parent.returncode == 0, parent.stderr
    promotion = own.get("base@v3").manifest["gate"]["promotion"]
    assert promotion["against"] == "base@v1" and promotion["re_evaluated"] is False
    assert own.get("base@v2").manifest["gate"]["promotion"]["against"] == "base@v1"
