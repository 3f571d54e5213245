"""Curricula over an env that is not CurveTrace (gymnasium's FrozenLake: ``is_slippery`` changes the
difficulty, not the spaces): inline stages, the classic layout, a project's stage files and
``stage=all``, each on a few hundred steps; every stage's env kwargs are read back from its saved
config, which is what its env was built from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from rlft.curriculum.runner import run_curriculum
from rlft.envs.factory import env_kwargs
from rlft.runs.layout import RunFolder
from tests.conftest import TINY, compose_config, run_cli

# two stages of one 128-step rollout each; FrozenLake reports no is_success: promotion reads the reward
LAKE = [
    *TINY,
    "env.id=FrozenLake-v1",
    "env.kwargs={map_name: 4x4}",
    "curriculum.name=lakes",
    "curriculum.max_timesteps_per_stage=128",
    "curriculum.promotion.metric=mean_reward",
    "curriculum.promotion.threshold=2.0",
    "curriculum.promotion.episodes=2",
    "curriculum.on_fail=continue",
]


def _stage_kwargs(root: Path, stage_id: str) -> tuple[str, dict]:
    """A stage run's saved stage name and the kwargs its env was built with."""
    saved = OmegaConf.load(root / "stages" / stage_id / ".hydra" / "config.yaml")
    return saved.stage.name, env_kwargs(saved)


def _run(tmp_path: Path, stages: str) -> tuple[Path, dict]:
    root = RunFolder(tmp_path / "cur")
    root.root.mkdir(parents=True)
    return root.root, run_curriculum(compose_config([*LAKE, f"curriculum.stages={stages}"]), root)


def test_inline_stages_are_named_sets_of_env_kwargs(tmp_path: Path) -> None:
    root, metrics = _run(
        tmp_path,
        "[{name: calm, env_kwargs: {is_slippery: false}, timesteps: 128}, "
        "{name: icy, env_kwargs: {is_slippery: true}, timesteps: 128, hparams: {lr: 1.0e-4}}]",
    )
    assert metrics["status"] == "completed"
    assert [(s["id"], s["stage"], s["steps"]) for s in metrics["stages"]] == [
        ("calm", "calm", 128),
        ("icy", "icy", 128),
    ]
    assert _stage_kwargs(root, "calm") == ("calm", {"map_name": "4x4", "is_slippery": False})
    assert _stage_kwargs(root, "icy") == ("icy", {"map_name": "4x4", "is_slippery": True})
    stage2 = json.loads((root / "stages/icy/metrics.json").read_text())
    assert stage2["init_from"] == str(root / "stages/calm/final")


def test_classic_layout_on_an_env_without_a_stage_argument(tmp_path: Path) -> None:
    """FrozenLake takes no ``stage``: ``environment.stage`` names the stage and never reaches it."""
    root, metrics = _run(
        tmp_path,
        "[{environment: {stage: calm, is_slippery: false}, total_timesteps: 128}, "
        "{name: icy, environment: {is_slippery: true}, total_timesteps: 128, ppo: {learning_rate: 1.0e-4}}]",
    )
    assert [s["id"] for s in metrics["stages"]] == ["calm", "icy"] and metrics["status"] == "completed"
    assert _stage_kwargs(root, "calm") == ("calm", {"map_name": "4x4", "is_slippery": False})
    assert _stage_kwargs(root, "icy") == ("icy", {"map_name": "4x4", "is_slippery": True})
    assert OmegaConf.load(root / "stages/icy/.hydra/config.yaml").hparams.lr == 1.0e-4


PROJECT = {
    "env/lake.yaml": "name: lake\nid: FrozenLake-v1\nkwargs: {map_name: 4x4}\nn_envs: 2\nvec_env: dummy\n",
    "hparams/ppo_lake.yaml": "defaults:\n  - ppo\n  - _self_\nn_steps: 64\nbatch_size: 64\nn_epochs: 1\n",
    "stage/calm_ice.yaml": "name: calm_ice\nenv_kwargs: {is_slippery: false}\n",
    # the curriculum named like the env: stage=all picks it
    "curriculum/lake.yaml": "name: lake\non_fail: continue\n"
    "promotion: {metric: mean_reward, threshold: 2.0, episodes: 2}\nstages:\n"
    "  - {stage: calm_ice, timesteps: 128}\n"
    "  - {name: icy, env_kwargs: {is_slippery: true}, timesteps: 128}\n",
}


def test_stage_all_runs_the_user_envs_curriculum_with_a_project_stage_file(tmp_path: Path) -> None:
    for name, text in PROJECT.items():
        (tmp_path / "conf" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "conf" / name).write_text(text)
    evals = ["eval.every=128", "eval.episodes=2", "eval.final_episodes=2", "eval.n_envs=2", "progress=none"]
    done = run_cli(["env=lake", "stage=all", *evals, f"paths.output_dir={tmp_path / 'out'}"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    (root,) = (tmp_path / "out" / "curriculum").iterdir()
    metrics = json.loads((root / "metrics.json").read_text())
    assert metrics["curriculum"] == "lake" and [s["id"] for s in metrics["stages"]] == ["calm_ice", "icy"]
    assert _stage_kwargs(root, "calm_ice") == ("calm_ice", {"map_name": "4x4", "is_slippery": False})
    assert _stage_kwargs(root, "icy") == ("icy", {"map_name": "4x4", "is_slippery": True})


def test_stage_all_under_an_experiment_keeps_its_curriculum(tmp_path: Path, monkeypatch) -> None:
    from rlft.config.options import CONFIG_DIR_ENV
    from rlft.errors import ConfigError
    from rlft.workflows import validate

    experiments = {
        "experiment/lake_run.yaml": "# @package _global_\ndefaults:\n  - override /env: lake\n"
        "  - override /curriculum: lake\n",
        "experiment/lake_only.yaml": "# @package _global_\ndefaults:\n  - override /env: lake\n",
    }
    for name, text in {**PROJECT, **experiments}.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    monkeypatch.setenv(CONFIG_DIR_ENV, str(tmp_path))
    cfg = compose_config(["experiment=lake_run", "stage=all"])
    assert (cfg.env.name, cfg.curriculum.name) == ("lake", "lake"), "not replaced by CurveTrace's curriculum"
    with pytest.raises(ConfigError, match="stage=all runs a whole curriculum: add curriculum=lake"):
        validate(compose_config(["experiment=lake_only", "stage=all"]))


def test_a_stage_file_that_extends_another_reads_as_hydra_composes_it(tmp_path: Path, monkeypatch) -> None:
    """``stage=<file>`` alone and the same file inside a curriculum give the same stage."""
    from rlft.config.options import CONFIG_DIR_ENV
    from rlft.curriculum.plan import plan_curriculum, stage_config
    from rlft.errors import ConfigError

    files = {
        **PROJECT,
        "stage/icy_8x8.yaml": "defaults:\n  - calm_ice\nname: icy_8x8\nenv_kwargs: {is_slippery: true, map_name: 8x8}\n",
        "stage/loop.yaml": "defaults: [loop]\nname: loop\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    monkeypatch.setenv(CONFIG_DIR_ENV, str(tmp_path))
    alone = compose_config(["env=lake", "stage=icy_8x8"]).stage
    cfg = compose_config(["env=lake", "curriculum=lake", "curriculum.stages=[{stage: icy_8x8, timesteps: 10}]"])
    (plan,) = plan_curriculum(cfg)
    assert stage_config(cfg, plan).stage == alone
    assert dict(alone.env_kwargs) == {"is_slippery": True, "map_name": "8x8"}
    cfg = compose_config(["env=lake", "curriculum=lake", "curriculum.stages=[{stage: loop, timesteps: 10}]"])
    with pytest.raises(ConfigError, match="loop.yaml: defaults entry 'loop' cannot be read here"):
        plan_curriculum(cfg)
