"""Shared fixtures: compose real configs, shrink them, and run the CLI in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Sequence

import pytest
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig, OmegaConf

from rlft.config.resolvers import register_resolvers
from rlft.config.schema import register_configs
from rlft.train import quote_numeric_group_choices

CONF_DIR = Path(__file__).resolve().parents[1] / "conf"
REPO = CONF_DIR.parent

register_configs()
register_resolvers()

# tiny budgets that still exercise evaluation, checkpoints and the final save
TINY = [
    "env=cartpole", "env.n_envs=2", "hparams.n_steps=64", "hparams.batch_size=64", "hparams.n_epochs=1",
    "hparams.total_timesteps=512", "eval.every=256", "eval.episodes=2", "eval.final_episodes=3",
    "eval.n_envs=2", "checkpoint.every=256", "checkpoint.keep=2", "progress=none",
]


def compose_config(overrides: Sequence[str] = ()) -> DictConfig:
    """The config ``python -m rlft.train <overrides>`` would run with (without the hydra node)."""
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="config", overrides=quote_numeric_group_choices(list(overrides)))
    cfg = OmegaConf.masked_copy(cfg, [k for k in cfg if k != "hydra"])
    OmegaConf.set_struct(cfg, True)
    return cfg


@pytest.fixture(autouse=True)
def _one_torch_thread():
    import torch

    torch.set_num_threads(1)


def run_cli(args: Sequence[str], cwd: Path, module: str = "rlft.train", timeout: int = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("HYDRA_FULL_ERROR", None)
    return subprocess.run([sys.executable, "-m", module, *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)
