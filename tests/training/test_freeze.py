"""hparams.freeze: frozen weights do not move, also after a resume from a checkpoint."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch as th
from stable_baselines3 import PPO

from rlft.errors import ConfigError
from rlft.runs.layout import RunFolder
from rlft.training.run import RunOptions, run_training
from rlft.training.schema import validate_hparams
from tests.conftest import TINY, compose_config

FREEZE = ["hparams.freeze=[mlp_extractor.policy_net,action_net]", "checkpoint.every=128", "checkpoint.keep=10"]


def _params(path: Path) -> dict[str, th.Tensor]:
    return {k: v.clone() for k, v in PPO.load(path, device="cpu").policy.state_dict().items()}


def test_frozen_modules_keep_their_weights_through_training_and_resume(tmp_path: Path) -> None:
    run = RunFolder(tmp_path / "run")
    run.root.mkdir()
    run_training(compose_config([*TINY, *FREEZE, "hparams.total_timesteps=256"]), run)
    first = min(s for s, _ in run.checkpoints())
    start = _params(run.checkpoint_dir(first) / "model.zip")
    end = _params(run.final_dir / "model.zip")
    # resume with a larger budget: the freeze is applied again after loading the checkpoint
    run_training(compose_config([*TINY, *FREEZE, "hparams.total_timesteps=512"]), run, RunOptions(resume=True))
    resumed = _params(run.final_dir / "model.zip")
    for name, tensor in start.items():
        frozen = name.startswith(("mlp_extractor.policy_net", "action_net"))
        for later in (end, resumed):
            assert th.equal(later[name], tensor) == frozen, name


def test_unknown_or_unmatched_prefixes_are_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a policy module"):
        validate_hparams(compose_config([*TINY, "hparams.freeze=[encoder]"]))
    run = RunFolder(tmp_path / "run")
    run.root.mkdir()
    with pytest.raises(ConfigError, match="matches no parameter"):
        run_training(compose_config([*TINY, "hparams.freeze=[q_net]"]), run)
