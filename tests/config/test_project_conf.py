"""A user's own config folder: found, layered over the built-ins, and behaving exactly like them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from rlft.champions.registry import Registry
from rlft.config.options import BUILTIN_CONF_DIR, CONFIG_DIR_ENV, option_names, project_config_dir
from rlft.errors import ConfigError
from rlft.workflows import effective_config
from tests.conftest import TINY, TINY_CURVE, compose_config, run_cli, tiny_run

COPIED_GROUPS = ("experiment", "curriculum", "stage")


def _builtin(group: str) -> list[str]:
    return sorted(p.stem for p in (BUILTIN_CONF_DIR / group).glob("*.yaml"))


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every built-in experiment, curriculum and stage copied byte for byte as ``user_<name>``."""
    conf = tmp_path / "project" / "conf"
    for group in COPIED_GROUPS:
        (conf / group).mkdir(parents=True)
        for name in _builtin(group):
            shutil.copy(BUILTIN_CONF_DIR / group / f"{name}.yaml", conf / group / f"user_{name}.yaml")
    monkeypatch.setenv(CONFIG_DIR_ENV, str(conf))
    return conf


@pytest.fixture(scope="module")
def registry(tmp_path_factory) -> Registry:
    """A tiny stage-2 champion under the name the built-in fine-tune experiments start from."""
    root = tmp_path_factory.mktemp("project_ft")
    run = tiny_run(root / "run", "stage=2")
    registry = Registry(root / "champions")
    registry.register(run.root, "stage2_std", force=True)
    return registry


def _plain(cfg) -> dict:
    return OmegaConf.to_container(cfg, resolve=True)


def test_the_project_folder_is_found_by_variable_then_current_folder(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv(CONFIG_DIR_ENV, raising=False)
    monkeypatch.chdir(tmp_path)
    assert project_config_dir() is None
    (tmp_path / "conf").mkdir()
    assert project_config_dir() == (tmp_path / "conf").resolve()
    other = tmp_path / "elsewhere"
    other.mkdir()
    monkeypatch.setenv(CONFIG_DIR_ENV, str(other))
    assert project_config_dir() == other.resolve(), "the variable wins over ./conf"
    monkeypatch.setenv(CONFIG_DIR_ENV, str(tmp_path / "missing"))
    with pytest.raises(ConfigError, match="is not a folder"):
        project_config_dir()


def test_user_options_sit_beside_the_built_in_ones(project: Path) -> None:
    for group in COPIED_GROUPS:
        names = option_names(group)
        assert set(_builtin(group)) <= set(names)
        assert {f"user_{n}" for n in _builtin(group)} <= set(names)


@pytest.mark.parametrize("group", ["stage", "curriculum"])
def test_a_copied_stage_or_curriculum_composes_to_the_same_config(project: Path, group: str) -> None:
    for name in _builtin(group):
        if name == "all":  # stage=all is a switch to a curriculum, not a stage
            continue
        extra = ["curriculum=curve_trace_short"] if group == "stage" and name == "none" else []
        builtin = compose_config([f"{group}={name}", *extra])
        user = compose_config([f"{group}=user_{name}", *extra])
        assert _plain(user) == _plain(builtin), f"{group}=user_{name} differs from {group}={name}"


def test_a_copied_experiment_runs_with_the_same_effective_config(project: Path, registry: Registry) -> None:
    """The fine-tune completion reads the experiment from wherever it lives (it once read only the
    built-in folder, so a user's experiment was silently replaced by the champion's settings)."""
    for name in _builtin("experiment"):
        configs = []
        for choice in (name, f"user_{name}"):
            overrides = [f"experiment={choice}", f"paths.registry={registry.root}"]
            configs.append(_plain(effective_config(compose_config(overrides), overrides)))
        assert configs[1] == configs[0], f"experiment=user_{name} differs from experiment={name}"
        assert configs[0]["stage"]["name"] == "3" and configs[0]["hparams"]["lr"] == 1.0e-4, (
            "the experiment's own stage and lr, not the champion's"
        )


def test_a_user_experiment_beats_the_champion_settings(project: Path, registry: Registry) -> None:
    (project / "experiment" / "mine.yaml").write_text(
        "# @package _global_\ndefaults:\n  - override /stage: '3'\nchampion:\n  name: stage2_std\n"
        "hparams:\n  lr: 1.0e-5\n"
    )
    overrides = ["experiment=mine", f"paths.registry={registry.root}"]
    cfg = effective_config(compose_config(overrides), overrides)
    assert cfg.stage.name == "3" and cfg.hparams.lr == 1.0e-5
    assert cfg.hparams.n_steps == 64, "what the experiment leaves alone is the champion's"


def test_cfg_job_shows_the_config_that_will_run(project: Path, registry: Registry, tmp_path: Path) -> None:
    result = run_cli(
        [
            "experiment=user_finetune_noisy_stage3",
            f"paths.registry={registry.root}",
            f"paths.output_dir={tmp_path / 'out'}",
            "--cfg",
            "job",
        ],
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    shown = OmegaConf.create(result.stdout)
    assert shown.champion.name == "stage2_std@v1", "the champion is resolved to its version"
    assert shown.hparams.n_steps == 64 and shown.hparams.lr == 1.0e-4, "champion settings, then the experiment's"
    assert not (tmp_path / "out").exists(), "printing creates nothing"


@pytest.mark.parametrize(
    "bad, message",
    [
        ("env/cartpole.yaml", "has the name of the built-in option env=cartpole"),
        ("config.yaml", "primary config is built in"),
    ],
)
def test_a_project_file_that_would_replace_a_built_in_is_refused(tmp_path: Path, bad: str, message: str) -> None:
    conf = tmp_path / "conf"
    (conf / bad).parent.mkdir(parents=True, exist_ok=True)
    (conf / bad).write_text("name: cartpole\nid: CartPole-v1\n")
    result = run_cli(["env=cartpole", *TINY[1:], "paths.output_dir=out"], cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("error: ") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()


def test_config_dir_flag_and_user_stage_in_a_curriculum(tmp_path: Path) -> None:
    """A user stage inside a user curriculum, on a user env: composed from --config-dir, from any folder."""
    conf = tmp_path / "proj" / "conf"
    for path, text in {
        "env/lake.yaml": "name: lake\nid: FrozenLake-v1\nkwargs: {map_name: 4x4}\nn_envs: 2\n",
        "hparams/ppo_lake.yaml": "defaults:\n  - ppo\n  - _self_\nn_steps: 64\nbatch_size: 64\nn_epochs: 1\n",
        "stage/calm.yaml": "name: calm\nenv_kwargs: {is_slippery: false}\n",
        "stage/slippery.yaml": "name: slippery\nenv_kwargs: {is_slippery: true}\n",
        "curriculum/lakes.yaml": "name: lakes\npromotion: {metric: mean_reward, threshold: 2.0, episodes: 2}\n"
        "on_fail: continue\nstages:\n  - {stage: calm, timesteps: 128}\n"
        "  - {stage: slippery, timesteps: 128}\n",
    }.items():
        (conf / path).parent.mkdir(parents=True, exist_ok=True)
        (conf / path).write_text(text)
    out = tmp_path / "out"
    result = run_cli(
        [
            "--config-dir",
            str(conf),
            "env=lake",
            "curriculum=lakes",
            "eval.every=0",
            "eval.episodes=2",
            "eval.final_episodes=2",
            "eval.n_envs=2",
            "checkpoint.every=0",
            "progress=none",
            f"paths.output_dir={out}",
        ],
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    metrics = json.loads(next(out.glob("curriculum/*/metrics.json")).read_text())
    assert [s["stage"] for s in metrics["stages"]] == ["calm", "slippery"]


@pytest.mark.slow
def test_copied_presets_run_the_same_first_steps(project: Path, registry: Registry, tmp_path: Path) -> None:
    """Not only the same config: the same numbers (a stage run and a fine-tune experiment)."""
    for group, name, extra in (
        ("stage", "3", TINY_CURVE),
        (
            "experiment",
            "finetune_noisy_stage3",
            [
                "hparams.total_timesteps=128",
                "eval.every=64",
                "eval.episodes=2",
                "eval.final_episodes=2",
                "progress=none",
            ],
        ),
    ):
        histories = []
        for choice in (name, f"user_{name}"):
            out = tmp_path / f"{group}_{choice}"
            result = run_cli(
                [f"{group}={choice}", *extra, f"paths.registry={registry.root}", f"paths.output_dir={out}"],
                cwd=tmp_path,
            )
            assert result.returncode == 0, result.stderr[-2000:]
            metrics = json.loads(next(out.glob("*/*/metrics.json")).read_text())
            histories.append([(e["timesteps"], e["mean_reward"], e.get("success_rate")) for e in metrics["eval"]])
        assert histories[0] == histories[1] and histories[0], f"{group}=user_{name} ran differently"


def test_help_lists_the_project_options_beside_the_built_ins(tmp_path: Path) -> None:
    from rlft.init import write_project

    write_project(tmp_path / "proj")
    result = run_cli(["--help"], cwd=tmp_path / "proj")
    assert result.returncode == 0
    groups = dict(
        line.split(": ", 1)
        for line in result.stdout.splitlines()
        if line.split(":")[0] in ("env", "stage", "experiment") and ": " in line
    )
    assert {"cartpole", "my_env"} <= set(groups["env"].split(", "))
    assert {"3", "calm_lake", "slippery_lake"} <= set(groups["stage"].split(", "))
    assert "my_experiment" in groups["experiment"]
