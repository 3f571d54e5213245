"""Resume after a crash: corrupt checkpoints skipped, no silent restart, best/ of the kept timeline,
a second resume of a run in use refused."""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from omegaconf import OmegaConf
from stable_baselines3 import PPO

from rlft.errors import RunFolderError
from rlft.runs.layout import RunFolder
from rlft.training.run import RunOptions, run_training
from tests.conftest import TINY, compose_config, run_cli


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> RunFolder:
    """A finished tiny run (checkpoints at 256 and 512) with its config saved like the CLI does."""
    run = RunFolder(tmp_path_factory.mktemp("runs") / "run")
    cfg = compose_config(TINY)
    run.hydra_dir.mkdir(parents=True)
    run.config_file.write_text(OmegaConf.to_yaml(cfg))
    run_training(cfg, run)
    return run


def _copy(run: RunFolder, tmp_path: Path) -> RunFolder:
    copy = RunFolder(tmp_path / "copy")
    shutil.copytree(run.root, copy.root, symlinks=True)
    return copy


def _resume(run: RunFolder) -> dict:
    return run_training(compose_config(TINY), run, RunOptions(resume=True))


def test_a_corrupt_latest_checkpoint_is_skipped_for_the_previous(
    finished: RunFolder, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    run = _copy(finished, tmp_path)
    model = run.checkpoint_dir(512) / "model.zip"
    model.write_bytes(model.read_bytes()[:200])  # truncated by a full disk
    with caplog.at_level(logging.WARNING, logger="rlft"):
        metrics = _resume(run)
    assert "skipping checkpoint step_512: model.zip is missing or not a zip" in caplog.text
    assert metrics["message"].startswith("trained 512 of 512") and metrics["resumes"] == 1
    assert [e["timesteps"] for e in metrics["eval"]] == [256, 512]
    assert PPO.load(run.final_dir / "model.zip").num_timesteps == 512


def test_no_valid_checkpoint_is_an_error_not_a_restart(finished: RunFolder, tmp_path: Path) -> None:
    run = _copy(finished, tmp_path)
    for _, folder in run.checkpoints():
        (folder / "state.json").write_text("{")
    before = run.metrics_file.read_text()
    with pytest.raises(RunFolderError, match="no valid checkpoint to resume from"):
        _resume(run)
    assert run.metrics_file.read_text() == before
    done = run_cli([f"resume={run.root}"], cwd=tmp_path)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines()[-1].startswith("error: ") and "no valid checkpoint" in done.stderr


def test_best_from_the_discarded_timeline_is_reverted(finished: RunFolder, tmp_path: Path) -> None:
    """Killed after a better best/ was saved past the last kept checkpoint: that best never happened."""
    run = _copy(finished, tmp_path)
    shutil.rmtree(run.checkpoint_dir(512))
    ghost = run.root / ".best.v99"
    shutil.copytree(run.final_dir, ghost)
    (ghost / "state.json").write_text(json.dumps({"timesteps": 384, "value": 1e9}))
    os.replace(_symlink(run, ghost), run.best_dir)
    data = json.loads(run.metrics_file.read_text())
    data["best"] = {"timesteps": 384, "metric": "mean_reward", "value": 1e9}
    run.metrics_file.write_text(json.dumps(data))
    metrics = _resume(run)
    best = json.loads((run.best_dir / "state.json").read_text())
    assert metrics["best"]["value"] != 1e9 and best["value"] == metrics["best"]["value"]
    assert best["timesteps"] == metrics["best"]["timesteps"] <= 512
    assert not ghost.exists()


def test_a_restart_from_step_0_keeps_no_best_of_the_killed_start(finished: RunFolder, tmp_path: Path) -> None:
    """Killed after a best/ save but before the first checkpoint: the resume starts over, without it."""
    run = _copy(finished, tmp_path)
    for _, folder in run.checkpoints():
        shutil.rmtree(folder)
    ghost = run.root / ".best.v99"
    shutil.copytree(run.final_dir, ghost)
    (ghost / "state.json").write_text(json.dumps({"timesteps": 256, "value": 1e9}))
    os.replace(_symlink(run, ghost), run.best_dir)
    data = json.loads(run.metrics_file.read_text())
    data.update(
        status="running", total_timesteps=0, final=None, best={"timesteps": 256, "metric": "mean_reward", "value": 1e9}
    )
    run.metrics_file.write_text(json.dumps(data))
    metrics = _resume(run)
    assert metrics["status"] == "completed" and metrics["best"]["value"] != 1e9
    assert json.loads((run.best_dir / "state.json").read_text())["value"] == metrics["best"]["value"]
    assert not ghost.exists()


def _symlink(run: RunFolder, target: Path) -> Path:
    tmp = run.root / "tmp-link"
    os.symlink(target.name, tmp)
    return tmp


def test_a_second_resume_of_a_run_in_use_is_refused(finished: RunFolder, tmp_path: Path) -> None:
    run = _copy(finished, tmp_path)
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (run.root / ".lock").write_text(json.dumps({"pid": other.pid, "host": socket.gethostname(), "started": "x"}))
        done = run_cli([f"resume={run.root}"], cwd=tmp_path)
    finally:
        other.kill()
        other.wait()
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().splitlines() == [done.stderr.strip().splitlines()[-1]]
    assert f"in use by process {other.pid}" in done.stderr
    assert not list(run.hydra_dir.glob("resume_*")), "refused before anything is written"
