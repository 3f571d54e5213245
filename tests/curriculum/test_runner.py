"""Curricula end to end on tiny CurveTrace budgets: order, handoff, promotion, folder, resume."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch as th
from stable_baselines3 import PPO

from rlft.curriculum.runner import run_curriculum
from rlft.errors import ConfigError
from rlft.runs.layout import RunFolder
from rlft.training.callbacks import RunCallback
from rlft.training.run import load_weights
from tests.conftest import TINY_CURRICULUM, compose_config


def _run(tmp_path: Path, *extra: str, resume: bool = False) -> tuple[RunFolder, dict]:
    root = RunFolder(tmp_path / "cur")
    root.root.mkdir(parents=True, exist_ok=True)
    return root, run_curriculum(compose_config([*TINY_CURRICULUM, *extra]), root, resume=resume)


def test_stages_run_in_order_and_hand_over(tmp_path: Path) -> None:
    root, metrics = _run(tmp_path, "curriculum.promotion.threshold=0")
    assert metrics["status"] == "completed" and metrics["kind"] == "curriculum"
    assert [s["id"] for s in metrics["stages"]] == ["1", "2"]
    first, second = metrics["stages"]
    assert first["promoted"] and second["promoted"]
    assert (first["start_step"], second["start_step"]) == (0, first["steps"])
    assert metrics["total_timesteps"] == first["steps"] + second["steps"]
    for stage in metrics["stages"]:
        folder = RunFolder(root.root / stage["run_folder"])
        assert folder.is_run() and (folder.final_dir / "model.zip").is_file() and folder.checkpoints()
    stage2 = json.loads((root.root / "stages/2/metrics.json").read_text())
    assert stage2["init_from"] == str(root.root / "stages/1/final")
    assert stage2["kind"] == "curriculum_stage"
    # one global eval history, tagged by stage, steps increasing across the boundary
    steps = [e["timesteps"] for e in metrics["eval"]]
    assert steps == sorted(steps) and {e["stage"] for e in metrics["eval"]} == {"1", "2"}
    assert (root.plots_dir / "curriculum.png").is_file()

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(root.tb_dir))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert {
        "eval/success_rate",
        "stage_1/eval/success_rate",
        "stage_2/eval/success_rate",
        "curriculum/stage_index",
    } <= tags
    eval_steps = [e.step for e in events.Scalars("eval/success_rate")]
    assert max(eval_steps) == metrics["total_timesteps"], "stage 2 is plotted after stage 1"


def test_load_weights_copies_the_policy(tmp_path: Path) -> None:
    root, _ = _run(tmp_path, "curriculum.promotion.threshold=0", "curriculum.stop=1")
    source = PPO.load(root.root / "stages/1/final/model.zip")
    from rlft.algos.factory import build_model
    from rlft.envs.factory import make_vec_env

    cfg = compose_config([*TINY_CURRICULUM, "stage=2"])
    venv = make_vec_env(cfg, 2, seed=5)
    model = build_model(cfg.hparams, venv, seed=5, device="cpu")
    load_weights(model, venv, root.root / "stages/1/final")
    for name, tensor in source.policy.state_dict().items():
        th.testing.assert_close(model.policy.state_dict()[name], tensor)
    assert model.num_timesteps == 0  # the counter is the new run's own

    other = compose_config([*TINY_CURRICULUM, "stage=2", "hparams.policy_kwargs.net_arch=[16]"])
    wrong = build_model(other.hparams, venv, seed=5, device="cpu")
    with pytest.raises(ConfigError, match="does not fit this run's network"):
        load_weights(wrong, venv, root.root / "stages/1/final")
    venv.close()


def test_a_missed_promotion_ends_the_curriculum(tmp_path: Path) -> None:
    _, metrics = _run(tmp_path, "curriculum.promotion.threshold=1.01")
    assert metrics["status"] == "not_promoted"
    assert [s["id"] for s in metrics["stages"]] == ["1"]
    assert "stage 1 missed its promotion rule" in metrics["message"]
    assert "on_fail=continue" in metrics["message"]


def test_on_fail_continue_runs_every_stage(tmp_path: Path) -> None:
    _, metrics = _run(tmp_path, "curriculum.promotion.threshold=1.01", "curriculum.on_fail=continue")
    assert metrics["status"] == "completed"
    assert [s["promoted"] for s in metrics["stages"]] == [False, False]
    assert "not promoted: 1, 2" in metrics["message"]


def test_early_promotion_ends_a_stage_before_its_budget(tmp_path: Path) -> None:
    _, metrics = _run(tmp_path, "curriculum.promotion.threshold=0", "curriculum.max_timesteps_per_stage=1024")
    assert all(s["steps"] < 1024 for s in metrics["stages"])
    assert all(s["message"].startswith("promoted:") for s in metrics["stages"])


def test_a_promoted_stage_ends_at_its_promoting_evaluation_without_evaluating_it_again(tmp_path: Path) -> None:
    root, metrics = _run(tmp_path, "curriculum.promotion.threshold=0", "curriculum.max_timesteps_per_stage=1024")
    for stage in metrics["stages"]:
        own = json.loads((root.root / "stages" / stage["id"] / "metrics.json").read_text())
        steps = [e["timesteps"] for e in own["eval"]]
        promoting = steps[-1]
        assert len(steps) == len(set(steps)), "one evaluation per step: the same weights are not evaluated twice"
        assert own["final"]["timesteps"] == promoting == own["total_timesteps"] == stage["steps"], "no overrun"
        assert own["ended_by"] == "stop_rule"
        checkpoints = sorted(
            int(c.name.split("_")[-1]) for c in (root.root / "stages" / stage["id"] / "checkpoints").iterdir()
        )
        assert checkpoints[-1] == promoting


def test_init_starts_the_first_stage_from_another_run(tmp_path: Path) -> None:
    first, _ = _run(tmp_path / "a", "curriculum.promotion.threshold=0", "curriculum.stop=1")
    root, metrics = _run(tmp_path / "b", "curriculum.promotion.threshold=0", "curriculum.start=2", f"init={first.root}")
    assert [s["id"] for s in metrics["stages"]] == ["2"]
    stage2 = json.loads((root.root / "stages/2/metrics.json").read_text())
    assert stage2["init_from"] == str(first.root / "stages/1/final/model.zip")
    assert (
        stage2["init"]["kind"] == "run" and metrics["init"] == stage2["init"] and len(metrics["init"]["sha256"]) == 64
    )


def test_resume_continues_the_interrupted_stage_then_the_rest(tmp_path: Path, monkeypatch) -> None:
    original = RunCallback.checkpoint_now
    interrupted = []

    def crash_in_stage_two(self: RunCallback) -> None:
        original(self)
        if self.run.root.name == "2" and not interrupted:
            interrupted.append(self.model.num_timesteps)
            raise KeyboardInterrupt  # as if killed right after the checkpoint

    monkeypatch.setattr(RunCallback, "checkpoint_now", crash_in_stage_two)
    extra = ("curriculum.promotion.threshold=0", "curriculum.promotion.early=false", "curriculum.stop=3")
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path, *extra)
    root = RunFolder(tmp_path / "cur")
    crashed = json.loads(root.metrics_file.read_text())
    assert crashed["status"] == "failed" and [s["id"] for s in crashed["stages"]] == ["1"]
    stage1_before = (root.root / "stages/1/metrics.json").read_text()

    _, metrics = _run(tmp_path, *extra, resume=True)
    assert metrics["status"] == "completed" and metrics["resumes"] == 1
    assert [s["id"] for s in metrics["stages"]] == ["1", "2", "3"]
    assert (root.root / "stages/1/metrics.json").read_text() == stage1_before, "stage 1 is not retrained"
    stage2 = json.loads((root.root / "stages/2/metrics.json").read_text())
    assert stage2["resumes"] == 1 and stage2["message"] != ""
    assert f"resumed from step {interrupted[0]}" not in stage2["message"]  # finished since
    assert stage2["status"] == "completed" and stage2["total_timesteps"] == 256
    assert metrics["stages"][2]["start_step"] == 512


def test_curriculum_from_the_command_line_then_extended_by_resume(tmp_path: Path) -> None:
    from tests.conftest import run_cli

    out = tmp_path / "outputs"
    args = [a for a in TINY_CURRICULUM if not a.startswith("curriculum.stop")]
    done = run_cli(
        ["stage=all", *args, "curriculum.stop=1", "curriculum.promotion.threshold=0", f"paths.output_dir={out}"],
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (root,) = (out / "curriculum").iterdir()
    assert root.name.startswith("curve_trace_short_stop_ppo_")
    assert [s["id"] for s in json.loads((root / "metrics.json").read_text())["stages"]] == ["1"]

    done = run_cli([f"resume={root}", "curriculum.stop=2"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    metrics = json.loads((root / "metrics.json").read_text())
    assert [s["id"] for s in metrics["stages"]] == ["1", "2"] and metrics["status"] == "completed"
    assert (root / "environment.json").is_file() and "resume=" in (root / "command.txt").read_text()


def test_init_from_a_registered_champion(tmp_path: Path) -> None:
    from rlft.champions.registry import Registry

    first, _ = _run(tmp_path / "a", "curriculum.promotion.threshold=0", "curriculum.stop=1")
    registry = Registry(tmp_path / "champions")
    champion = registry.register(first.root, "stage1", force=True)
    root, metrics = _run(
        tmp_path / "b",
        "curriculum.promotion.threshold=0",
        "curriculum.start=2",
        "curriculum.init=stage1",
        f"paths.registry={registry.root}",
    )
    stage2 = json.loads((root.root / "stages/2/metrics.json").read_text())
    assert stage2["init_from"] == str(champion.folder / "policy.safetensors") and metrics["status"] == "completed"
    assert stage2["init"]["champion"] == "stage1@v1"
