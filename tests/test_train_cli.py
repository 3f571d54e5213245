"""``python -m rlft.train`` as a user runs it: help, config printing, a run folder, SIGKILL + resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import REPO, TINY, run_cli


def _only_run(out: Path) -> Path:
    runs = list((out / "train").iterdir())
    assert len(runs) == 1, runs
    return runs[0]


def test_help_lists_groups_and_options(tmp_path: Path) -> None:
    done = run_cli(["--help"], cwd=tmp_path)
    assert done.returncode == 0
    for text in ("env: ", "hparams: ", "stage: ", "champion: ", "curriculum: ", "cartpole", "dqn", "a2c"):
        assert text in done.stdout


def test_cfg_job_prints_config_without_heavy_imports(tmp_path: Path) -> None:
    done = run_cli(["--cfg", "job", "hparams=a2c"], cwd=tmp_path)
    assert done.returncode == 0 and "algo: a2c" in done.stdout
    probe = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "rlft.train", "--cfg", "job"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    imported = {line.split("|")[-1].strip().split(".")[0] for line in probe.stderr.splitlines() if "|" in line}
    assert not imported & {"torch", "stable_baselines3", "gymnasium", "tensorboard"}
    assert not (tmp_path / "outputs").exists()


@pytest.mark.parametrize("algo", ["ppo", "a2c", "dqn"])
def test_tiny_run_from_the_command_line(algo: str, tmp_path: Path) -> None:
    out = tmp_path / "outputs"
    tiny = (
        TINY
        if algo == "ppo"
        else [o for o in TINY if not o.startswith(("hparams.n_steps", "hparams.batch_size", "hparams.n_epochs"))]
    )
    extra = ["hparams.learning_starts=64"] if algo == "dqn" else []
    done = run_cli([f"hparams={algo}", *tiny, *extra, f"paths.output_dir={out}"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    run = _only_run(out)
    assert run.name.startswith(f"cartpole_{algo}_")
    for name in (
        ".hydra/config.yaml",
        ".hydra/overrides.yaml",
        ".hydra/hydra.yaml",
        "command.txt",
        "environment.json",
        "metrics.json",
        "final/model.zip",
        "best/model.zip",
        "train.log",
    ):
        assert (run / name).is_file(), name
    env = json.loads((run / "environment.json").read_text())
    assert env["seed"] == 0 and env["packages"]["stable-baselines3"] and "commit" in env["git"]
    assert "rlft.train" in (run / "command.txt").read_text()
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["status"] == "completed" and metrics["final"]["mean_reward"] > 0


def test_tensorboard_uses_flat_metric_names(tmp_path: Path) -> None:
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    out = tmp_path / "outputs"
    assert run_cli([*TINY, f"paths.output_dir={out}"], cwd=tmp_path).returncode == 0
    events = EventAccumulator(str(_only_run(out) / "tb"))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert {"rollout/ep_rew_mean", "eval/mean_reward", "time/fps", "train/loss"} <= tags


@pytest.mark.slow
def test_sigkill_mid_training_then_resume_completes(tmp_path: Path) -> None:
    out = tmp_path / "outputs"
    args = [
        "env=cartpole",
        "hparams.n_steps=128",
        "hparams.total_timesteps=40960",
        "checkpoint.every=2048",
        "eval.every=8192",
        "eval.episodes=2",
        "eval.final_episodes=2",
        "progress=log",
        f"paths.output_dir={out}",
    ]
    proc = subprocess.Popen(
        [sys.executable, "-m", "rlft.train", *args],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        ckpts = list(out.glob("train/*/checkpoints/step_*"))
        if len(ckpts) >= 2:
            break
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    run = _only_run(out)
    killed = json.loads((run / "metrics.json").read_text())
    assert killed["status"] == "running" and killed["total_timesteps"] < 40960

    done = run_cli([f"resume={run}"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["status"] == "completed" and metrics["total_timesteps"] == 40960
    assert metrics["resumes"] == 1
    assert len(list((run / "tb").glob("events.out.tfevents.*"))) == 2, "one TensorBoard run, appended"
    assert list((run / ".hydra").glob("resume_*/config.yaml"))
    assert len((run / "command.txt").read_text().splitlines()) == 2
