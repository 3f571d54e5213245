"""A user env's episode-end info metrics (``info/<key>``) through a run: metrics.json, TensorBoard,
early stopping, best/, and the one line for a metric the env never reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rlft.errors import ConfigError
from rlft.runs.layout import RunFolder
from rlft.training.run import RunOptions, run_training
from tests.conftest import TINY, compose_config
from tests.envs.info_env import INFO_ENV, INFO_REWARD, LENGTH
from tests.training.test_tensorboard import _scalars


def _train(tmp_path: Path, *extra: str) -> tuple[RunFolder, dict]:
    run = RunFolder(tmp_path / "run")
    run.root.mkdir()
    return run, run_training(compose_config([*TINY, *INFO_ENV, *extra]), run, RunOptions())


def test_info_metrics_reach_metrics_json_tensorboard_early_stop_and_best(tmp_path: Path) -> None:
    run, metrics = _train(
        tmp_path,
        "eval.metric=info/ess",
        "early_stop.metric=info/ess",
        "early_stop.target=0.25",
        "env.metrics=[info/ess]",
    )
    first = metrics["eval"][0]
    assert first["mean_reward"] == LENGTH and first["info/reward"] == INFO_REWARD, "info's reward stays apart"
    assert first["info/achievements/eat_cow"] == 0 and first["success_rate"] is None
    assert metrics["status"] == "early_stopped" and "info/ess" in metrics["message"]
    assert metrics["best"]["metric"] == "info/ess" and metrics["best"]["value"] == first["info/ess"]
    tags = _scalars(run.tb_dir)
    assert tags["eval/info/ess"] and tags["eval/info/achievements/collect_wood"]
    assert tags["rollout/info/ess"], "training episodes' info, at the algorithm's own dumps"
    assert not any("success_rate" in tag for tag in tags)


def test_a_metric_the_env_never_reports_is_one_line_at_the_first_evaluation(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"early_stop.metric: metric 'info/esss' is not reported.*info/ess"):
        _train(tmp_path, "early_stop.metric=info/esss", "early_stop.patience=2")
    run = RunFolder(tmp_path / "run")
    recorded = json.loads(run.metrics_file.read_text())
    assert recorded["status"] == "failed" and "info/esss" in recorded["message"]
    assert recorded["eval"] == [], "the evaluation that lacked it is not recorded as a success"
    fixed = compose_config([*TINY, *INFO_ENV, "early_stop.metric=info/ess", "early_stop.patience=2"])
    resumed = run_training(fixed, run, RunOptions(resume=True))
    assert resumed["status"] == "completed" and resumed["total_timesteps"] == 512, "resumes once the name is fixed"


def test_the_command_line_says_it_in_one_line_and_exit_2(tmp_path: Path) -> None:
    from tests.conftest import run_cli

    done = run_cli(
        [*TINY, *INFO_ENV, "eval.metric=info/esss", f"paths.output_dir={tmp_path / 'outputs'}"], cwd=tmp_path
    )
    assert done.returncode == 2, done.stderr[-2000:]
    lines = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1 and "eval.metric: metric 'info/esss' is not reported" in lines[0]
    assert done.stderr.strip() == lines[0], "nothing else on stderr (no Hydra line, no traceback)"
    (metrics_file,) = (tmp_path / "outputs").rglob("metrics.json")
    assert json.loads(metrics_file.read_text())["status"] == "failed"


@pytest.mark.parametrize("mode", ["max", "min"])
def test_eval_mode_picks_the_best_model_by_the_highest_or_lowest_value(tmp_path: Path, mode: str) -> None:
    """``eval.mode=min`` keeps the lowest value of eval.metric in best/ (an error, a length); the
    candidates are the periodic evaluations."""
    run = RunFolder(tmp_path / "run")
    run.root.mkdir()
    cfg = compose_config([*TINY, "eval.metric=mean_length", f"eval.mode={mode}", "eval.every=128", "seed=3"])
    metrics = run_training(cfg, run, RunOptions())
    values = [entry["mean_length"] for entry in metrics["eval"][:-1]]  # the last entry is the final evaluation
    assert len(set(values)) > 1, f"the evaluations differ, so the choice shows: {values}"
    expected = max(values) if mode == "max" else min(values)
    assert metrics["best"]["value"] == expected and metrics["best"]["metric"] == "mean_length"


def test_eval_mode_min_needs_a_named_metric() -> None:
    from rlft.training.schema import validate_run_settings

    with pytest.raises(ConfigError, match="eval.mode=min needs a named eval.metric"):
        validate_run_settings(compose_config([*TINY, "eval.mode=min"]))
    with pytest.raises(ConfigError, match="eval.mode"):
        validate_run_settings(compose_config([*TINY, "eval.metric=mean_length", "eval.mode=lowest"]))
