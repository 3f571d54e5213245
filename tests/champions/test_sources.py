"""One model-source notion (``init=``): champions, run / model folders, checkpoints, HF exports and
SB3 zips resolve to weights + spaces; a run started from one records it as its parent."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from rlft.champions.registry import Registry
from rlft.champions.sources import check_source_fits, resolve_model_source, validate_init
from rlft.errors import ConfigError, RunFolderError
from rlft.export import export
from rlft.runs.layout import RunFolder
from tests.conftest import TINY, compose_config

SMALL = [*TINY, "hparams.total_timesteps=256", "eval.every=128", "checkpoint.every=128"]


@pytest.fixture(scope="module")
def pole(tmp_path_factory) -> tuple[RunFolder, Registry]:
    """A finished tiny CartPole run, registered as champion ``pole``."""
    from rlft.training.run import run_training

    root = tmp_path_factory.mktemp("sources")
    run = RunFolder(root / "run")
    cfg = compose_config(SMALL)
    run.hydra_dir.mkdir(parents=True)
    run.config_file.write_text(OmegaConf.to_yaml(cfg))
    run_training(cfg, run)
    registry = Registry(root / "champions")
    registry.register(run.root, "pole", force=True)
    return run, registry


def test_every_kind_resolves_to_weights_and_the_same_spaces(pole, tmp_path: Path) -> None:
    run, registry = pole
    reg = str(registry.root)
    export(reg, "pole", "hf", tmp_path / "hf")
    export(reg, "pole", "sb3", tmp_path / "sb3")
    sources = {
        "run": resolve_model_source(str(run.root), reg),
        "best": resolve_model_source(str(run.root), reg, which="best"),
        "checkpoint": resolve_model_source(str(run.root), reg, checkpoint=128),
        "model zip": resolve_model_source(str(run.final_dir / "model.zip"), reg),
        "champion": resolve_model_source("pole@v1", reg),
        "hf": resolve_model_source(str(tmp_path / "hf"), reg),
        "sb3": resolve_model_source(str(tmp_path / "sb3"), reg, trust_pickle=True),
    }
    kinds = {name: s.kind for name, s in sources.items()}
    assert kinds == {
        "run": "run",
        "best": "run",
        "checkpoint": "run",
        "model zip": "run",
        "champion": "champion",
        "hf": "hf",
        "sb3": "sb3",
    }
    assert sources["checkpoint"].weights == run.checkpoint_dir(128) / "model.zip"
    assert sources["hf"].weights.name == "model.safetensors" and sources["champion"].champion == "pole@v1"
    assert len({json.dumps(s.spaces, sort_keys=True) for s in sources.values()}) == 1
    record = sources["hf"].record()
    assert record["kind"] == "hf" and len(record["sha256"]) == 64 and Path(record["path"]).is_file()
    assert record["champion"] == "pole@v1"
    config = json.loads((tmp_path / "hf" / "config.json").read_text())
    (tmp_path / "hf" / "config.json").write_text(json.dumps({**config, "champion": "other@v1"}))
    assert resolve_model_source(str(tmp_path / "hf"), reg).champion is None  # a claim the registry cannot back


def test_an_sb3_zip_needs_trust_pickle(pole, tmp_path: Path) -> None:
    run, registry = pole
    shutil.copy(run.final_dir / "model.zip", tmp_path / "ppo_cartpole.zip")
    with pytest.raises(ConfigError, match="trust_pickle=true"):
        resolve_model_source(str(tmp_path / "ppo_cartpole.zip"), str(registry.root))
    assert resolve_model_source(str(tmp_path / "ppo_cartpole.zip"), str(registry.root), trust_pickle=True).spaces


def test_missing_wrong_kind_and_other_spaces_are_refused(pole, tmp_path: Path) -> None:
    from rlft.envs.factory import probe_spaces

    run, registry = pole
    reg = str(registry.root)
    (tmp_path / "empty").mkdir()
    (tmp_path / "notes.txt").write_text("no model")
    with pytest.raises(RunFolderError, match="does not exist"):
        resolve_model_source(str(tmp_path / "gone"), reg)
    with pytest.raises(ConfigError, match="holds no model"):
        resolve_model_source(str(tmp_path / "empty"), reg)
    with pytest.raises(ConfigError, match="not an SB3 zip"):
        resolve_model_source(str(tmp_path / "notes.txt"), reg)
    with pytest.raises(RunFolderError, match="no checkpoint at step 999"):
        resolve_model_source(str(run.root), reg, checkpoint=999)
    with pytest.raises(ConfigError, match="which='middle'"):
        resolve_model_source(str(run.root), reg, which="middle")
    source = resolve_model_source(str(run.root), reg)
    check_source_fits(source, *probe_spaces(compose_config(["env=cartpole"])), "init")
    with pytest.raises(ConfigError, match="does not fit this env"):
        check_source_fits(source, *probe_spaces(compose_config(["env=curve_trace"])), "init")


def test_an_hf_folder_with_a_foreign_or_unsafe_config_is_refused(pole, tmp_path: Path) -> None:
    _, registry = pole
    export(str(registry.root), "pole", "hf", tmp_path / "hf")
    config = json.loads((tmp_path / "hf" / "config.json").read_text())
    config["hparams"]["policy_kwargs"]["activation_fn"] = "os.system"  # a config.json that would run code
    (tmp_path / "hf" / "config.json").write_text(json.dumps(config))
    with pytest.raises(ConfigError, match="os.system"):
        resolve_model_source(str(tmp_path / "hf"), str(registry.root))
    (tmp_path / "hf" / "config.json").write_text('{"algo": "ppo"}')
    with pytest.raises(ConfigError, match="not an rlft export's config"):
        resolve_model_source(str(tmp_path / "hf"), str(registry.root))


def test_init_checks_the_network_before_anything_is_written(pole, tmp_path: Path) -> None:
    run, registry = pole
    paths = [f"paths.registry={registry.root}", f"paths.output_dir={tmp_path / 'out'}"]
    validate_init(compose_config([*SMALL, *paths, f"init={run.root}"]))
    with pytest.raises(ConfigError, match="does not fit this run's network"):
        validate_init(compose_config([*SMALL, *paths, f"init={run.root}", "hparams.policy_kwargs.net_arch=[8]"]))
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_export_then_train_on_then_register_keeps_the_lineage(pole, tmp_path: Path) -> None:
    """The issue's workflow: export as HF, start a new run from the folder with changed env
    arguments, register it: the run records the folder's weights (path, sha256) and the champion
    its source."""
    from tests.conftest import run_cli

    _, registry = pole
    export(str(registry.root), "pole", "hf", tmp_path / "hf")
    done = run_cli(
        [
            *SMALL,
            "env.max_episode_steps=300",
            f"init={tmp_path / 'hf'}",
            f"paths.output_dir={tmp_path / 'out'}",
            f"paths.registry={registry.root}",
        ],
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    (run_dir,) = (tmp_path / "out" / "train").iterdir()
    init = json.loads((run_dir / "metrics.json").read_text())["init"]
    assert init["kind"] == "hf" and init["path"] == str(tmp_path / "hf" / "model.safetensors")
    from rlft.champions.manifest import sha256

    assert init["sha256"] == sha256(tmp_path / "hf" / "model.safetensors")
    assert init["champion"] == "pole@v1"  # the export's weights are still that champion's
    child = registry.register(run_dir, "pole_longer", force=True)
    assert child.manifest["init"] == init and child.manifest["parent"] == "pole@v1"


def test_evaluate_takes_every_kind_of_source(pole, tmp_path: Path) -> None:
    """An exported HF folder (no pickle) and a trusted SB3 export play like the champion they came
    from; a checkpoint is judged as the model it holds."""
    from rlft.evaluate import run as evaluate

    run, registry = pole
    export(str(registry.root), "pole", "hf", tmp_path / "hf")
    export(str(registry.root), "pole", "sb3", tmp_path / "sb3")
    common = ["episodes=3", "env=cartpole", f"paths.registry={registry.root}", f"paths.output_dir={tmp_path / 'out'}"]
    means = {}
    for name, argv in {
        "champion": ["pole"],
        "hf": [str(tmp_path / "hf")],
        "sb3": [str(tmp_path / "sb3"), "trust_pickle=true"],
        "checkpoint": [str(run.root), "checkpoint=128"],
    }.items():
        result, _ = evaluate([*argv, *common])
        means[name] = result["stages"][0]["mean_reward"]
        assert result["kind"] == {"champion": "champion", "hf": "hf", "sb3": "sb3", "checkpoint": "run"}[name]
    assert means["hf"] == means["champion"] == means["sb3"]


def test_a_run_resumed_before_its_first_checkpoint_still_starts_from_its_source(
    pole, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A crash before the first checkpoint leaves nothing to resume from: the run starts again from
    its init= source (not from scratch); once a checkpoint exists, the checkpoint wins."""
    import rlft.training.run
    from rlft.train import _dispatch

    run, registry = pole
    started: list = []
    monkeypatch.setattr(rlft.training.run, "run_training", lambda cfg, folder, options: started.append(options) or {})
    resumed = RunFolder(tmp_path / "resumed")
    resumed.root.mkdir()
    resumed.metrics_file.write_text('{"status": "running", "total_timesteps": 0}')
    cfg = compose_config([*SMALL, f"init={run.root}", f"resume={resumed.root}", f"paths.registry={registry.root}"])
    _dispatch(cfg, "train", resumed)
    shutil.copytree(run.checkpoint_dir(128), resumed.checkpoint_dir(128))
    _dispatch(cfg, "train", resumed)
    assert started[0].resume and started[0].init_from == run.final_dir / "model.zip"
    assert started[1].resume and started[1].init_from is None


def test_a_fine_tune_starts_from_its_champion_not_from_init(pole, tmp_path: Path) -> None:
    from rlft.workflows import prepare

    run, registry = pole
    overrides = [*SMALL, "champion=pole", f"init={run.root}", f"paths.registry={registry.root}"]
    with pytest.raises(ConfigError, match="a fine-tune starts from its champion="):
        prepare(compose_config(overrides), overrides)
