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
