"""Shared fixtures: compose real configs, shrink them, and run the CLI in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Sequence

import pytest

from rlft.config.compose import compose_config
from rlft.schema import register_configs
from rlft.workflows import register_resolvers

REPO = Path(__file__).resolve().parents[1]
CONF_DIR = REPO / "rlft" / "conf"

register_configs()
register_resolvers()

# tiny budgets that still exercise evaluation, checkpoints and the final save
TINY = [
    "env=cartpole",
    "env.n_envs=2",
    "hparams.n_steps=64",
    "hparams.batch_size=64",
    "hparams.n_epochs=1",
    "hparams.total_timesteps=512",
    "eval.every=256",
    "eval.episodes=2",
    "eval.final_episodes=3",
    "eval.n_envs=2",
    "checkpoint.every=256",
    "checkpoint.keep=2",
    "progress=none",
]


# a CurveTrace network small enough for tests (the SmallCNN's widths, one hidden layer)
TINY_NET = [
    "env.n_envs=2",
    "hparams.n_steps=64",
    "hparams.batch_size=64",
    "hparams.n_epochs=1",
    "hparams.policy_kwargs.features_extractor_kwargs.features_dim=16",
    "hparams.policy_kwargs.features_extractor_kwargs.channels=[4,4]",
    "hparams.policy_kwargs.net_arch=[8]",
]

# one CurveTrace run of two rollouts
TINY_CURVE = [
    *TINY_NET,
    "hparams.total_timesteps=128",
    "eval.every=64",
    "eval.episodes=2",
    "eval.final_episodes=2",
    "eval.n_envs=2",
    "progress=none",
]

# two CurveTrace stages of 2 rollouts each, evaluations that finish quickly
TINY_CURRICULUM = [
    "curriculum=curve_trace_short",
    "curriculum.stop=2",
    "curriculum.max_timesteps_per_stage=256",
    *TINY_NET,
    "eval.every=128",
    "eval.episodes=3",
    "eval.final_episodes=3",
    "eval.n_envs=3",
    "curriculum.promotion.episodes=3",
    "checkpoint.every=128",
    "progress=none",
]


def tiny_run(root: Path, *extra: str):
    """A finished tiny CurveTrace run (``rlft.runs.layout.RunFolder``) with its config saved like the CLI does."""
    from omegaconf import OmegaConf

    from rlft.runs.layout import RunFolder
    from rlft.training.run import run_training

    run = RunFolder(root)
    cfg = compose_config([*TINY_CURVE, *extra])
    run.hydra_dir.mkdir(parents=True)
    run.config_file.write_text(OmegaConf.to_yaml(cfg))
    run_training(cfg, run)
    return run


@pytest.fixture(autouse=True, scope="session")
def _sb3_default_log_dir(tmp_path_factory):
    """A bare ``model.learn()`` makes SB3 create an empty ``/tmp/SB3-<time>`` folder; keep them in pytest's tmp."""
    os.environ["SB3_LOGDIR"] = str(tmp_path_factory.mktemp("sb3_default_logs"))


@pytest.fixture(autouse=True)
def _one_torch_thread():
    import torch

    torch.set_num_threads(1)


def run_cli(
    args: Sequence[str], cwd: Path, module: str = "rlft.train", timeout: int = 300
) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("HYDRA_FULL_ERROR", None)
    return subprocess.run(
        [sys.executable, "-m", module, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
