"""hparams.freeze: frozen weights do not move, also after a resume from a checkpoint; logical names
(features_extractor, policy_head, ...) mean the same part whatever the algorithm."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch as th
from stable_baselines3 import PPO

from rlft.algos.factory import algorithm_class
from rlft.errors import ConfigError
from rlft.runs.layout import RunFolder
from rlft.training.run import RunOptions, run_training
from rlft.training.schema import validate_hparams
from rlft.workflows import validate
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


def test_unknown_or_unmatched_names_are_errors_before_any_folder(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError,
        match=r"'encoder' is not a part of algo ppo's policy: use logical names features_extractor, policy_head",
    ):
        validate_hparams(compose_config([*TINY, "hparams.freeze=[encoder]"]))
    with pytest.raises(ConfigError, match="'q_net' is not a part of algo ppo's policy"):
        validate_hparams(compose_config([*TINY, "hparams.freeze=[q_net]"]))
    # an MlpPolicy flattens its input: no features extractor weights to freeze
    cfg = compose_config([*TINY, f"paths.output_dir={tmp_path}", "hparams.freeze=[features_extractor]"])
    with pytest.raises(ConfigError, match="'features_extractor' matches no parameter of this ppo policy"):
        validate(cfg)
    assert list(tmp_path.iterdir()) == []


TINY_REPLAY = [
    "hparams.learning_starts=32",
    "hparams.buffer_size=1000",
    "hparams.batch_size=32",
    "hparams.train_freq=8",
    "hparams.gradient_steps=1",
    "hparams.total_timesteps=128",
    "eval.every=0",
    "eval.final_episodes=2",
    "eval.n_envs=2",
    "env.n_envs=2",
    "checkpoint.every=0",
    "progress=none",
]
LOGICAL = {
    # PPO keeps its actor, trains its critic
    "ppo": (
        [*TINY, "hparams.total_timesteps=128", "hparams.freeze=[policy_head]"],
        ("mlp_extractor.policy_net", "action_net"),
    ),
    # DQN on CurveTrace's CNN: the README's hparams.freeze=[features_extractor], target net included
    "dqn": (
        [
            "env=curve_trace",
            "hparams=dqn",
            "hparams.policy=CnnPolicy",
            "hparams.policy_kwargs={features_extractor_class: rlft.policies.extractors.SmallCNN, "
            "features_extractor_kwargs: {features_dim: 16, channels: [4, 4]}, net_arch: [8]}",
            "hparams.freeze=[features_extractor]",
            *TINY_REPLAY,
        ],
        ("q_net.features_extractor", "q_net_target.features_extractor"),
    ),
    # SAC keeps its actor (and the actor's extractor weights, none here), trains its critics
    "sac": (
        [
            "env=cartpole",
            "env.id=Pendulum-v1",
            "env.max_episode_steps=50",
            "hparams=sac",
            "hparams.policy_kwargs.net_arch=[8]",
            "hparams.freeze=[policy_head]",
            *TINY_REPLAY,
        ],
        ("actor.",),
    ),
}


@pytest.mark.parametrize("algo", sorted(LOGICAL))
def test_logical_names_freeze_that_part_of_each_algorithm(algo: str, tmp_path: Path) -> None:
    overrides, frozen_prefixes = LOGICAL[algo]
    cfg = compose_config(overrides)
    validate(cfg)
    start: dict[str, th.Tensor] = {}
    run = RunFolder(tmp_path / "run")
    run.root.mkdir()
    run_training(
        cfg, run, RunOptions(prepare=lambda m: start.update({k: v.clone() for k, v in m.policy.state_dict().items()}))
    )
    end = algorithm_class(algo).load(run.final_dir / "model.zip", device="cpu").policy.state_dict()
    moved = {name for name, tensor in start.items() if not th.equal(end[name], tensor)}
    frozen = {name for name in start if name.startswith(frozen_prefixes)}
    assert frozen and moved, (frozen, moved)  # something is frozen, something trained
    assert not frozen & moved, sorted(frozen & moved)
