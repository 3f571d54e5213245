"""A fine-tune's step counter: continued from the champion (``finetune.continue_steps``) or from 0,
a DQN fine-tune's exploration, and which budget ended a run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rlft.champions.registry import Registry
from rlft.errors import ConfigError
from rlft.finetune.run import champion_step
from rlft.workflows import effective_config, validate
from tests.conftest import TINY, TINY_CURVE, compose_config, run_cli, tiny_run
from tests.finetune.test_finetune import registry  # noqa: F401  (module fixture: a champion "base")
from tests.training.test_tensorboard import _scalars

DQN = [
    "env=cartpole",
    "env.n_envs=2",
    "hparams=dqn",
    "hparams.total_timesteps=128",
    "hparams.learning_starts=32",
    "hparams.buffer_size=1000",
    "eval.every=64",
    "eval.episodes=2",
    "eval.final_episodes=2",
    "eval.n_envs=2",
    "checkpoint.every=0",
    "progress=none",
]


def _fine_tune(registry: Registry, root: Path, *extra: str) -> Path:  # noqa: F811
    done = run_cli(
        [
            "champion=base",
            f"paths.registry={registry.root}",
            f"paths.output_dir={root / 'outputs'}",
            *TINY_CURVE,
            "hparams.lr=1e-3",
            "hparams.lr_schedule=linear",
            "hparams.total_timesteps=256",
            *extra,
        ],
        cwd=root,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (run,) = (root / "outputs" / "finetune").iterdir()
    return run


def test_continue_steps_starts_the_counter_schedules_and_tensorboard_at_the_champions_step(
    registry: Registry,  # noqa: F811
    tmp_path: Path,
) -> None:
    last = champion_step(registry.get("base").manifest)
    assert last > 0
    run = _fine_tune(registry, tmp_path, "finetune.continue_steps=true")
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["first_step"] == last and metrics["finetune"]["continue_steps"] is True
    assert metrics["final"]["timesteps"] == last + 256 and metrics["target_timesteps"] == last + 256
    assert min(e["timesteps"] for e in metrics["eval"]) > last
    steps = _scalars(run / "tb")
    assert min(min(points) for points in steps.values()) > last
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run / "tb"), size_guidance={"scalars": 0})
    acc.Reload()
    first = acc.Scalars("train/learning_rate")[0].value  # after one rollout of 128 steps, linear to 0
    assert first == pytest.approx(1e-3 * (1 - (last + 128) / (last + 256)), rel=1e-3)
    assert first < 0.5e-3, "from 0 the linear schedule would be at half the LR here"


def test_the_default_fine_tune_counts_from_zero(registry: Registry, tmp_path: Path) -> None:  # noqa: F811
    run = _fine_tune(registry, tmp_path)
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["first_step"] == 0 and metrics["final"]["timesteps"] == 256
    assert min(min(points) for points in _scalars(run / "tb").values()) <= 128


def test_continue_steps_needs_a_champion_and_no_phases(registry: Registry) -> None:  # noqa: F811
    with pytest.raises(ConfigError, match="finetune.continue_steps"):
        validate(compose_config([*TINY, "finetune.continue_steps=true"]))
    overrides = [
        "champion.name=base",
        f"paths.registry={registry.root}",
        "finetune.continue_steps=true",
        "finetune.phases=[{timesteps:64,mix:{target:1}}]",
    ]
    with pytest.raises(ConfigError, match="continue_steps=false"):
        validate(effective_config(compose_config(overrides), overrides))


@pytest.fixture(scope="module")
def dqn_registry(tmp_path_factory) -> Registry:
    root = tmp_path_factory.mktemp("dqn")
    from omegaconf import OmegaConf

    from rlft.runs.layout import RunFolder
    from rlft.training.run import run_training

    run = RunFolder(root / "run")
    cfg = compose_config(DQN)
    run.hydra_dir.mkdir(parents=True)
    run.config_file.write_text(OmegaConf.to_yaml(cfg))
    run_training(cfg, run)
    banked = Registry(root / "champions")
    banked.register(run.root, "q", force=True)
    return banked


def test_a_dqn_fine_tune_explores_from_the_final_epsilon_unless_told_otherwise(dqn_registry: Registry) -> None:
    def effective(*extra: str):
        overrides = ["champion.name=q", f"paths.registry={dqn_registry.root}", *extra]
        return effective_config(compose_config(overrides), overrides).hparams

    final = dqn_registry.get("q").manifest["hparams"]["exploration_final_eps"]
    assert effective().exploration_initial_eps == final == 0.04
    assert effective("hparams.exploration_initial_eps=0.5").exploration_initial_eps == 0.5
    assert effective("finetune.continue_steps=true").exploration_initial_eps is None, "the schedule continues"


def test_a_dqn_fine_tune_logs_the_final_epsilon_from_its_first_step(dqn_registry: Registry, tmp_path: Path) -> None:
    done = run_cli(
        ["champion=q", f"paths.registry={dqn_registry.root}", f"paths.output_dir={tmp_path / 'out'}", *DQN],
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (run,) = (tmp_path / "out" / "finetune").iterdir()
    assert "exploration_initial_eps: 0.04" in (run / ".hydra" / "config.yaml").read_text()
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run / "tb"), size_guidance={"scalars": 0})
    acc.Reload()
    assert {round(e.value, 6) for e in acc.Scalars("rollout/exploration_rate")} == {0.04}


def test_the_run_says_which_budget_ended_it(tmp_path: Path) -> None:
    run = tiny_run(tmp_path / "run", "hparams.episodes=100000")
    metrics = json.loads(run.metrics_file.read_text())
    assert metrics["ended_by"] == "total_timesteps"
    assert "the step cap (hparams.total_timesteps) ended the run after" in metrics["message"]
    assert "hparams.episodes=100000" in metrics["message"]
