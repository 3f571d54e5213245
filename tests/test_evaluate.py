"""rlft.evaluate and rlft.compare: per-stage results with intervals, paired seeds, clean refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rlft.champions.registry import Registry
from rlft.compare import run as compare
from rlft.errors import RlftError
from rlft.evaluate import run as evaluate
from tests.conftest import run_cli
from tests.finetune.test_finetune import registry  # noqa: F401  (module fixture: a champion "base")


def test_the_oracle_is_evaluated_like_a_model(tmp_path: Path) -> None:
    result, folder = evaluate(["oracle", "stages=[1,12]", "episodes=12", f"out={tmp_path / 'ev'}"])
    easy, hard = result["stages"]
    assert (easy["stage"], hard["stage"]) == ("1", "12")
    assert easy["success_rate"] > hard["success_rate"], "the calibration: stage 12 is much harder"
    for stage in result["stages"]:
        low, high = stage["success_ci95"]
        assert low <= stage["success_rate"] <= high and len(stage["successes"]) == 12
        assert stage["mean_reward_ci95"][0] <= stage["mean_reward"] <= stage["mean_reward_ci95"][1]
        assert {"info/endpoint_error", "info/coverage", "info/early_stop", "info/late_stop"} <= set(stage)
        low, high = stage["info_ci95"]["info/coverage"]
        assert low <= stage["info/coverage"] <= high and len(stage["info_episodes"]["info/coverage"]) == 12
    assert json.loads((folder / "evaluation.json").read_text())["stages"][0]["successes"] == easy["successes"]
    assert (folder / "evaluation.png").is_file()


def test_a_user_env_report_shows_its_info_metrics_apart_from_the_reward(tmp_path: Path) -> None:
    """An info ``reward`` no longer overwrites mean_reward (whose interval then missed it and broke
    the plot); every info/ metric gets a column and an interval."""
    from rlft.evaluate import stage_table
    from tests.envs.info_env import INFO_REWARD, LENGTH, info_run

    run = info_run(tmp_path / "run")
    result, folder = evaluate([str(run.root), "episodes=4", f"out={tmp_path / 'ev'}"])
    stage = result["stages"][0]
    assert stage["mean_reward"] == LENGTH and stage["info/reward"] == INFO_REWARD
    assert stage["info_ci95"]["info/reward"] == [INFO_REWARD, INFO_REWARD]
    header = stage_table("x", result["stages"]).splitlines()[1].split()
    assert {"reward", "ess", "achievements/eat_cow"} <= set(header)
    assert (folder / "evaluation.png").is_file()


def test_a_champion_on_its_own_stage_and_again_gives_the_same_numbers(registry: Registry, tmp_path: Path) -> None:  # noqa: F811
    args = ["base", f"paths.registry={registry.root}", "episodes=6"]
    first, _ = evaluate([*args, f"out={tmp_path / 'a'}"])
    second, _ = evaluate([*args, f"out={tmp_path / 'b'}"])
    assert [s["stage"] for s in first["stages"]] == ["2"], "the champion's own stage by default"
    assert first["stages"] == second["stages"], "fixed seeds, deterministic actions"


def test_a_run_folder_and_its_best_model(registry: Registry, tmp_path: Path) -> None:  # noqa: F811
    run = registry.get("base").manifest["source_run"]
    result, _ = evaluate(
        [run, "which=best", "stages=3", "episodes=4", "stage_overrides.noise_sigma=0.2", f"out={tmp_path / 'r'}"]
    )
    assert result["kind"] == "run" and result["stages"][0]["stage"] == "3+overrides"


@pytest.mark.parametrize(
    "args,message",
    [
        (["base", "env=curve_trace_decoupled"], r"action space .* use env=curve_trace\)"),
        (["base", "stages=[]"], "is empty"),
        (["base", "stages=[1,99]"], "'99' is not a stage option"),
        (["base", "episodes=0"], "episodes=0 is out of range"),
        (["base", "base"], "takes one MODEL, got 2"),
        (["no/such/run"], "does not exist"),
        (["oracle", "env=cartpole"], "CurveTrace only"),
    ],
)
def test_bad_evaluations_write_nothing(registry: Registry, tmp_path: Path, args: list[str], message: str) -> None:  # noqa: F811
    with pytest.raises(RlftError, match=message):
        evaluate([*args, f"paths.registry={registry.root}", f"out={tmp_path / 'ev'}"])
    assert not (tmp_path / "ev").exists()


def test_the_cli_exits_2_with_one_line(registry: Registry, tmp_path: Path) -> None:  # noqa: F811
    done = run_cli(
        ["base", f"paths.registry={registry.root}", "env=curve_trace_decoupled", f"out={tmp_path / 'ev'}"],
        cwd=tmp_path,
        module="rlft.evaluate",
    )
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1 and not (tmp_path / "ev").exists()


def test_compare_pairs_models_on_the_same_episodes(registry: Registry, tmp_path: Path) -> None:  # noqa: F811
    report, folder = compare(
        [f"paths.registry={registry.root}", "stages=[1,2]", "base", "episodes=8", "oracle", f"out={tmp_path / 'cmp'}"]
    )
    assert report["baseline"] == "base@v1" and [m["kind"] for m in report["models"]] == ["champion", "oracle"]
    rows = report["rows"]
    assert [(r["stage"], r["model"]) for r in rows] == [
        ("1", "base@v1"),
        ("1", "oracle"),
        ("2", "base@v1"),
        ("2", "oracle"),
    ]
    for r in rows[1::2]:
        change = r["vs"]
        assert change["delta"] == pytest.approx(r["value"] - rows[rows.index(r) - 1]["value"])
        assert change["delta_ci95"][0] <= change["delta"] <= change["delta_ci95"][1]
        assert 0.0 <= change["p_improvement"] <= 1.0
    text = (folder / "report.md").read_text()
    assert "| 1 | oracle |" in text and "stages.png" in text and (folder / "stages.png").is_file()
    assert "reward per step" in text and (folder / "actions.png").is_file(), "efficiency and action histograms"
    shares = report["stages"]["oracle"][0]["action_shares"]
    assert shares and sum(shares.values()) == pytest.approx(1.0) and "8" in shares, "the oracle presses STOP"
    assert (folder / "learning_curves.png").is_file(), "the champion's source run has a learning curve"


def test_compare_needs_two_models(tmp_path: Path) -> None:
    with pytest.raises(RlftError, match="needs at least 2 MODELs, got 1"):
        compare(["oracle", f"out={tmp_path / 'cmp'}"])


def test_a_run_model_that_does_not_fit_the_env_is_refused(registry: Registry, tmp_path: Path) -> None:  # noqa: F811
    run = registry.get("base").manifest["source_run"]
    with pytest.raises(RlftError, match="cannot run on stage 2: its action space"):
        evaluate([run, "env=curve_trace_decoupled", "stages=[2]", f"out={tmp_path / 'ev'}"])
    assert not (tmp_path / "ev").exists()


def test_bars_plot_when_an_interval_misses_its_value(tmp_path: Path) -> None:
    from rlft.plots import plot_stage_bars

    odd = {"stage": "1", "success_rate": None, "mean_reward": 5.0, "mean_reward_ci95": [5.5, 6.0]}
    assert plot_stage_bars({"a": [odd]}, tmp_path / "bars.png") is not None


def test_evaluate_and_compare_default_to_how_the_run_evaluated(tmp_path: Path) -> None:
    """A run trained with ``eval.deterministic=false`` is judged with sampled actions unless told
    otherwise (before: greedily, silently); models evaluated differently must be told which."""
    from tests.conftest import tiny_run

    sampled = tiny_run(tmp_path / "sampled", "eval.deterministic=false", "eval.every=0")
    greedy = tiny_run(tmp_path / "greedy", "eval.every=0")
    common = ["episodes=2", f"paths.output_dir={tmp_path / 'out'}"]
    assert evaluate([str(sampled.root), *common])[0]["deterministic"] is False
    assert evaluate([str(sampled.root), "deterministic=true", *common])[0]["deterministic"] is True
    assert evaluate([str(greedy.root), *common])[0]["deterministic"] is True
    with pytest.raises(RlftError, match="different eval.deterministic settings: say deterministic=true or false"):
        compare([str(greedy.root), str(sampled.root), *common, f"out={tmp_path / 'cmp'}"])
    assert not (tmp_path / "cmp").exists(), "refused before any folder"
    report, _ = compare([str(greedy.root), str(sampled.root), "deterministic=false", *common])
    assert report["deterministic"] is False
