"""A tiny training run end to end: folder contents, determinism, early stopping, resume."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from stable_baselines3 import PPO

from rlft.runs.layout import RunFolder
from rlft.training.callbacks import RunCallback
from rlft.training.run import RunOptions, run_training
from tests.conftest import TINY, compose_config


def _train(tmp_path: Path, *extra: str, name: str = "run", resume: bool = False) -> tuple[RunFolder, dict]:
    run = RunFolder(tmp_path / name)
    run.root.mkdir(exist_ok=True)
    return run, run_training(compose_config([*TINY, *extra]), run, RunOptions(resume=resume))


def _evals(metrics: dict) -> list[dict]:
    return [{k: v for k, v in e.items() if k != "eval_time_s"} for e in metrics["eval"]]


def test_tiny_run_writes_the_whole_folder(tmp_path: Path) -> None:
    run, metrics = _train(tmp_path)
    assert metrics["status"] == "completed"
    assert metrics["total_timesteps"] >= 512
    assert [e["timesteps"] for e in metrics["eval"]] == [256, 512]
    for entry in metrics["eval"]:
        assert {"timesteps", "success_rate", "mean_reward", "mean_length", "episodes"} <= set(entry)
    assert [e["episodes"] for e in metrics["eval"]] == [2, 3], "periodic, then the final evaluation"
    assert metrics["final"]["episodes"] == 3
    on_disk = json.loads(run.metrics_file.read_text())
    assert on_disk["status"] == "completed" and on_disk["final"] == metrics["final"]
    for folder in (run.best_dir, run.final_dir):
        assert PPO.load(folder / "model.zip").num_timesteps > 0  # plain SB3 loads it
    steps = [s for s, _ in run.checkpoints()]
    assert len(steps) == 2 and steps[-1] == metrics["total_timesteps"], "keeps the last checkpoint.keep"
    assert list(run.tb_dir.glob("events.out.tfevents.*"))
    assert (run.plots_dir / "learning_curve.png").is_file()
    assert not list(run.root.rglob("*.tmp")), "no temporary files left behind"


def test_same_seed_same_numbers_other_seed_differs(tmp_path: Path) -> None:
    _, first = _train(tmp_path, "seed=7", name="a")
    _, second = _train(tmp_path, "seed=7", name="b")
    _, other = _train(tmp_path, "seed=8", name="c")
    assert _evals(first) == _evals(second)
    assert first["final"] == second["final"]
    assert _evals(first) != _evals(other)


def test_early_stop_on_target_ends_the_run(tmp_path: Path) -> None:
    _, metrics = _train(tmp_path, "early_stop.metric=mean_length", "early_stop.target=1")
    assert metrics["status"] == "early_stopped"
    assert "early_stop.target" in metrics["message"]
    assert metrics["total_timesteps"] < 512


class _Crash(RuntimeError):
    pass


def test_resume_after_crash_continues_counter_and_history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    original = RunCallback.checkpoint_now

    def crash_after_second_checkpoint(self: RunCallback) -> None:
        original(self)
        if self.model.num_timesteps >= 384:
            raise _Crash("simulated crash")

    monkeypatch.setattr(RunCallback, "checkpoint_now", crash_after_second_checkpoint)
    with pytest.raises(_Crash):
        _train(tmp_path, "checkpoint.every=128", name="crashed")
    run = RunFolder(tmp_path / "crashed")
    crashed = json.loads(run.metrics_file.read_text())
    assert crashed["status"] == "failed" and "simulated crash" in crashed["message"]
    assert run.latest_checkpoint()[0] == 384
    monkeypatch.setattr(RunCallback, "checkpoint_now", original)

    _, resumed = _train(tmp_path, "checkpoint.every=128", name="crashed", resume=True)
    assert resumed["status"] == "completed"
    assert resumed["resumes"] == 1
    assert resumed["total_timesteps"] == 512
    assert [e["timesteps"] for e in resumed["eval"]] == [256, 512]
    model = PPO.load(run.final_dir / "model.zip")
    assert model.num_timesteps == 512
    assert model._total_timesteps == 512, "the LR schedule's horizon is the configured total"


def test_resume_of_a_finished_run_with_a_larger_budget_extends_it(tmp_path: Path) -> None:
    _train(tmp_path, name="done")
    _, extended = _train(tmp_path, "hparams.total_timesteps=768", name="done", resume=True)
    assert extended["total_timesteps"] == 768
    assert extended["eval"][-1]["timesteps"] == 768
