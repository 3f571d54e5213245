"""One clean TensorBoard curve: one value per step and tag, and no steps going back after a resume."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from rlft.runs.layout import RunFolder
from rlft.training.run import RunOptions, run_training
from rlft.training.tensorboard import TensorBoardTarget, _StageWriter
from tests.conftest import TINY, compose_config


def _scalars(tb_dir: Path) -> dict[str, list[int]]:
    """Steps per tag as TensorBoard shows them (its reader applies purge markers)."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(tb_dir), size_guidance={"scalars": 0})
    acc.Reload()
    return {tag: [e.step for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


def _train(tmp_path: Path, *extra: str, resume: bool = False) -> tuple[RunFolder, dict]:
    run = RunFolder(tmp_path / "run")
    run.root.mkdir(parents=True, exist_ok=True)
    return run, run_training(compose_config([*TINY, "checkpoint.every=128", *extra]), run, RunOptions(resume=resume))


def _assert_clean(steps: dict[str, list[int]]) -> None:
    for tag, points in steps.items():
        assert points == sorted(set(points)), f"{tag}: steps {points} repeat or go back"


def test_every_tag_has_one_value_per_step(tmp_path: Path) -> None:
    run, _ = _train(tmp_path, "eval.every=128")
    steps = _scalars(run.tb_dir)
    _assert_clean(steps)
    assert steps["eval/mean_reward"] == [128, 256, 384, 512], "every evaluation, at its own step"
    assert len(steps["train/loss"]) >= 3


def test_a_resume_after_a_kill_never_goes_back(tmp_path: Path) -> None:
    """Events the killed segment wrote after its last checkpoint are hidden, then written again."""
    run, _ = _train(tmp_path, "eval.every=128", "checkpoint.keep=8")
    # as if killed right after the checkpoint at 256: later checkpoints and final/ never happened,
    # but TensorBoard had already received the points up to 512
    for step_dir in run.root.joinpath("checkpoints").iterdir():
        if int(step_dir.name.split("_")[-1]) > 256:
            shutil.rmtree(step_dir)
    shutil.rmtree(run.final_dir.resolve())  # final/ points to its version folder
    run.final_dir.unlink()
    _, resumed = _train(tmp_path, "eval.every=128", "checkpoint.keep=8", resume=True)
    assert resumed["resumes"] == 1 and "resumed from step 256" not in resumed["message"]
    assert resumed["total_timesteps"] == 512
    steps = _scalars(run.tb_dir)
    _assert_clean(steps)
    assert steps["eval/mean_reward"] == [128, 256, 384, 512]


def test_resuming_a_finished_run_evaluates_nothing_twice(tmp_path: Path) -> None:
    run, done = _train(tmp_path)
    before = run.metrics_file.read_text()
    _, again = _train(tmp_path, resume=True)
    assert run.metrics_file.read_text() == before, "nothing was re-evaluated or rewritten"
    assert [e["timesteps"] for e in again["eval"]] == [e["timesteps"] for e in done["eval"]]
    _assert_clean(_scalars(run.tb_dir))


def test_every_evaluation_entry_has_the_same_fields(tmp_path: Path) -> None:
    run, _ = _train(tmp_path, "eval.every=256")
    entries = json.loads(run.metrics_file.read_text())["eval"]
    assert len(entries) >= 2 and all(set(e) == set(entries[0]) for e in entries), "the final one too"
    assert all("eval_time_s" in e for e in entries)


class _Recorder:
    def __init__(self) -> None:
        self.writes: list[tuple[dict, int]] = []

    def write(self, values, excluded, step) -> None:
        self.writes.append((dict(values), step))


def test_a_curriculum_stage_writes_its_index_once_per_step() -> None:
    recorder = _Recorder()
    writer = _StageWriter(recorder, TensorBoardTarget(Path("."), step_offset=1000, stage_id="2", stage_index=1))
    writer.write({"rollout/ep_rew_mean": 1.0}, {}, 64)
    writer.write({"eval/mean_reward": 2.0}, {}, 64)  # an evaluation at the same step
    writer.write({"rollout/ep_rew_mean": 3.0}, {}, 128)
    indexed = [step for values, step in recorder.writes if "curriculum/stage_index" in values]
    assert indexed == [1064, 1128]
    assert recorder.writes[1][0]["stage_2/eval/mean_reward"] == 2.0
