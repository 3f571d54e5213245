"""The Crafter example (examples/crafter), run as its README says at a tiny budget: train a teacher,
record its episodes, filter them by achievements (statistics first, then for real), distill the
kept ones, and compare the student with the teacher, per-achievement rates included."""

from __future__ import annotations

import json
import re
from pathlib import Path

import crafter  # noqa: F401  (the crafter extra, which make install brings: a missing one fails, never skips)
import pyarrow.parquet as pq
import pytest

from tests.conftest import REPO, run_cli

PROJECT = REPO / "examples" / "crafter"
SMALL_ENV = ["env.n_envs=2", "env.max_episode_steps=100"]  # the example's 500-step episodes, shorter
TINY_TEACHER = [
    "env=crafter",
    *SMALL_ENV,
    "hparams.n_steps=64",
    "hparams.batch_size=64",
    "hparams.n_epochs=1",
    "hparams.total_timesteps=128",
    "eval.every=0",
    "eval.final_episodes=2",
    "eval.n_envs=2",
    "checkpoint.every=0",
    "progress=none",
]


def _ok(result) -> str:
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def _rlft(*args: str) -> str:
    return _ok(run_cli(list(args), cwd=PROJECT, module="rlft", timeout=600))


def _episodes_with_achievements(store: Path, at_least: int) -> int:
    """Counted from the store itself: episodes with at least ``at_least`` achievements done (count > 0)."""
    rows = [row for chunk in sorted((store / "episodes").glob("*.parquet")) for row in pq.read_table(chunk).to_pylist()]
    return sum(sum(count > 0 for _, count in row["achievements"]) >= at_least for row in rows)


@pytest.mark.slow
def test_crafter_record_filter_distill_compare(tmp_path: Path) -> None:
    out = f"paths.output_dir={tmp_path}"
    _ok(run_cli([*TINY_TEACHER, out], cwd=PROJECT, timeout=600))
    (teacher,) = (tmp_path / "train").iterdir()

    traces, good = tmp_path / "traces", tmp_path / "good"
    _rlft("traces", "record", str(teacher), "episodes=4", f"out={traces}", "chunk=2")
    stats = _rlft("traces", "filter", f"in={traces}", "min_achievements=1", "stats_only=true")
    kept = int(re.search(r"^kept\s+(\d+) episodes", stats, re.M).group(1))
    assert kept == _episodes_with_achievements(traces, 1) and not good.exists()
    _rlft("traces", "filter", f"in={traces}", "min_achievements=1", f"out={good}")
    assert _episodes_with_achievements(good, 1) == kept > 0

    distill = ["env=crafter", *SMALL_ENV, f"distill={good}", "distill.epochs=2", "distill.critic_epochs=1"]
    tiny_eval = ["eval.final_episodes=2", "eval.n_envs=2", "progress=none", out]
    _ok(run_cli([*distill, *tiny_eval], cwd=PROJECT, timeout=600))
    (student,) = (tmp_path / "distill").iterdir()

    report = tmp_path / "compare"
    _rlft("compare", str(teacher), str(student), "episodes=3", "deterministic=false", f"out={report}")
    stage = json.loads((report / "compare.json").read_text())["stages"]
    markdown = (report / "report.md").read_text()
    for (result,) in stage.values():
        achievements = {n: v for n, v in result["info_episodes"].items() if n.startswith("info/achievements/")}
        assert len(achievements) == 22  # every Crafter achievement, done or not
        for name, counts in achievements.items():
            assert result["info_rates"][name]["rate"] == sum(c > 0 for c in counts) / 3
            assert f"| {name} | " in markdown
        assert "info/reward" in result and result["mean_reward"] == pytest.approx(
            sum(result["rewards"]) / 3, abs=1e-3
        )  # Crafter's info reward stays under info/
