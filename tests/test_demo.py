"""rlft demo quick=true: the whole loop runs end to end (tiny budgets; the figures mean nothing)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import run_cli


@pytest.mark.slow
def test_the_quick_demo_runs_every_step(tmp_path: Path) -> None:
    done = run_cli(
        ["quick=true", f"paths.output_dir={tmp_path / 'outputs'}", f"paths.registry={tmp_path / 'champions'}"],
        cwd=tmp_path,
        module="rlft.demo",
        timeout=600,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    for step in (
        "rlft train curriculum=curve_trace_short",
        "rlft register",
        "rlft train champion=demo_quick@v1",
        "rlft promote",
        "rlft compare",
        "rlft export demo_quick format=hf",
        "format=onnx",
    ):
        assert f"$ python -m {step}" in done.stdout or step in done.stdout, step
    assert "demo finished" in done.stdout and "the champion now: demo_quick@v" in done.stdout
    (report,) = (tmp_path / "outputs" / "demo").glob("demo_quick_*/compare/report.md")
    assert (report.parent.parent / "export_hf" / "README.md").is_file()
    assert (report.parent.parent / "export_onnx" / "policy.onnx").is_file()
    (fine_tune,) = (tmp_path / "outputs" / "finetune").iterdir()
    assert (fine_tune / "plots" / "pre_post.png").is_file()
