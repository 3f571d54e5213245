"""The champion registry: gate, immutability, versions, checksums, pickle-free loading, locking."""

from __future__ import annotations

import json
import shutil
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
import torch as th
from stable_baselines3 import PPO

from rlft.champions.registry import Registry, TamperedChampion
from rlft.errors import ConfigError, RunFolderError
from rlft.runs.layout import RunFolder
from tests.conftest import TINY, TINY_CURVE, compose_config, run_cli, tiny_run


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> RunFolder:
    return tiny_run(tmp_path_factory.mktemp("runs") / "standard")


def _with_success(run: RunFolder, tmp_path: Path, value: float) -> Path:
    """A copy of ``run`` whose best model claims ``value`` success (the gate reads metrics.json)."""
    copy = tmp_path / f"run_{value}"
    shutil.copytree(run.root, copy)
    metrics = json.loads((copy / "metrics.json").read_text())
    metrics["best"] = {"timesteps": metrics["best"]["timesteps"], "metric": "success_rate", "value": value}
    (copy / "metrics.json").write_text(json.dumps(metrics))
    return copy


def test_below_the_gate_is_refused_with_the_figure(trained: RunFolder, tmp_path: Path) -> None:
    registry = Registry(tmp_path / "champions")
    with pytest.raises(ConfigError, match=r"success rate 0\.500 is below the gate 0\.9.*force=true"):
        registry.register(_with_success(trained, tmp_path, 0.5), "weak")
    assert registry.champions() == []


def test_register_verify_and_load_without_pickle(trained: RunFolder, tmp_path: Path) -> None:
    registry = Registry(tmp_path / "champions")
    champion = registry.register(_with_success(trained, tmp_path, 0.95), "best_std")
    m = champion.manifest
    assert (champion.ref, m["architecture"], m["gate"]["forced"]) == ("best_std@v1", "standard", False)
    assert m["action_space"] == {"type": "Discrete", "n": 9}
    assert m["observation_space"]["shape"] == [2, 15, 15] and m["stage"]["name"] == "none"
    assert (
        set(m["files"]) == {"policy.safetensors", "optimizer.safetensors", "model.zip"}
        and m["metrics"]["success_rate"] == 0.95
    )
    registry.verify("best_std")

    from rlft.envs.factory import make_vec_env

    venv = make_vec_env(compose_config(TINY_CURVE), 1, seed=0)
    model, loaded = registry.load_model("best_std", venv)
    reference = PPO.load(trained.best_dir / "model.zip", device="cpu")
    for name, tensor in reference.policy.state_dict().items():
        th.testing.assert_close(model.policy.state_dict()[name], tensor)
    assert loaded.ref == "best_std@v1"
    venv.close()


def test_force_is_recorded_and_names_get_versions(trained: RunFolder, tmp_path: Path) -> None:
    registry = Registry(tmp_path / "champions")
    first = registry.register(trained.root, "c", force=True)
    second = registry.register(trained.root, "c", force=True, source="final")
    assert (first.ref, second.ref) == ("c@v1", "c@v2")
    assert first.manifest["gate"]["forced"] and second.manifest["metrics"]["source"] == "final"
    assert registry.get("c").version == 2 and registry.get("c@v1").folder.name == "c"
    assert registry.get("c@v2").folder.name == "c@v2"
    with pytest.raises(ConfigError, match="version 7 of champion 'c'"):
        registry.get("c@v7")
    with pytest.raises(ConfigError, match="registered: c"):
        registry.get("nope")


@pytest.mark.parametrize("name", ["../evil", "a/b", "a@v2", "", ".hidden", "x" * 65])
def test_bad_names_are_refused(trained: RunFolder, tmp_path: Path, name: str) -> None:
    with pytest.raises(ConfigError, match="not valid"):
        Registry(tmp_path / "champions").register(trained.root, name, force=True)


def test_a_folder_that_is_not_a_run(tmp_path: Path) -> None:
    with pytest.raises(RunFolderError, match="not an rlft run folder"):
        Registry(tmp_path / "champions").register(tmp_path, "x", force=True)


def _tamper(path: Path, data: bytes) -> None:
    path.chmod(0o644)
    with open(path, "r+b") as handle:
        handle.seek(100)
        handle.write(data)


def test_tampered_weights_or_manifest_are_refused(trained: RunFolder, tmp_path: Path) -> None:
    registry = Registry(tmp_path / "champions")
    champion = registry.register(trained.root, "t", force=True)
    _tamper(champion.folder / "policy.safetensors", b"\x00\x01\x02")
    with pytest.raises(TamperedChampion, match="policy.safetensors fails its sha256"):
        registry.verify("t")
    with pytest.raises(TamperedChampion):
        registry.load_model("t", env=None)  # refused before any model is built

    other = registry.register(trained.root, "u", force=True)
    manifest = json.loads((other.folder / "manifest.json").read_text())
    manifest["hparams"]["policy_kwargs"]["features_extractor_class"] = "os.system"
    (other.folder / "manifest.json").chmod(0o644)
    (other.folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(TamperedChampion, match="manifest.json does not match"):
        registry.verify("u")
    # even with a matching checksum, a class outside the allowlist is never imported
    from rlft.champions.manifest import sha256

    (other.folder / "manifest.sha256").chmod(0o644)
    (other.folder / "manifest.sha256").write_text(sha256(other.folder / "manifest.json"))
    with pytest.raises(ConfigError, match="features_extractor_class='os.system' is not an allowed module"):
        registry.verify("u")


def test_files_are_read_only(trained: RunFolder, tmp_path: Path) -> None:
    champion = Registry(tmp_path / "champions").register(trained.root, "ro", force=True)
    assert all(p.stat().st_mode & 0o222 == 0 for p in champion.folder.iterdir())


def test_a_decoupled_env_does_not_fit_a_standard_champion(trained: RunFolder, tmp_path: Path) -> None:
    from rlft.envs.factory import make_vec_env

    registry = Registry(tmp_path / "champions")
    registry.register(trained.root, "std", force=True)
    venv = make_vec_env(compose_config(["env=curve_trace_decoupled", *TINY_CURVE]), 1, seed=0)
    with pytest.raises(ConfigError, match=r"action space.*a standard CurveTrace model: use env=curve_trace\)"):
        registry.load_model("std", venv)
    venv.close()


def _register(args: tuple[str, str]) -> str:
    root, run = args
    return Registry(root).register(run, "race", force=True).ref


def test_parallel_registrations_get_distinct_versions(trained: RunFolder, tmp_path: Path) -> None:
    root = str(tmp_path / "champions")
    with ProcessPoolExecutor(max_workers=3) as pool:
        refs = list(pool.map(_register, [(root, str(trained.root))] * 3))
    assert sorted(refs) == ["race@v1", "race@v2", "race@v3"]
    registry = Registry(root)
    for ref in refs:
        registry.verify(ref)
    assert not [p for p in Path(root).iterdir() if p.name.startswith(".staging")]


def test_command_lines(trained: RunFolder, tmp_path: Path) -> None:
    registry = str(tmp_path / "champions")
    done = run_cli([str(trained.root), "name=cli", f"paths.registry={registry}"], cwd=tmp_path, module="rlft.register")
    assert done.returncode == 2 and done.stderr.startswith("error: ") and "below the gate" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    done = run_cli(
        [f"paths.registry={registry}", "force=true", str(trained.root), "name=cli"],
        cwd=tmp_path,
        module="rlft.register",
    )
    assert done.returncode == 0 and "registered cli@v1" in done.stdout
    for args, expected in (
        (["list"], "cli@v1"),
        (["show", "cli"], '"architecture": "standard"'),
        (["verify", "cli"], "match their sha256"),
    ):
        done = run_cli([*args, f"paths.registry={registry}"], cwd=tmp_path, module="rlft.champions")
        assert done.returncode == 0 and expected in done.stdout, done.stderr
    done = run_cli([f"paths.registry={registry}", "verify", "nope"], cwd=tmp_path, module="rlft.champions")
    assert done.returncode == 2 and "not in the registry" in done.stderr


def test_a_champion_with_infinite_box_bounds_registers_and_fits(tmp_path: Path) -> None:
    """CartPole's observation bounds are infinite: strict JSON writes them as "inf", and the
    champion still fits its env (and one written with bare Infinity before does too)."""
    from omegaconf import OmegaConf

    from rlft.champions.loading import check_fits
    from rlft.envs.factory import probe_spaces
    from rlft.training.run import run_training

    run = RunFolder(tmp_path / "cartpole")
    cfg = compose_config([*TINY, "hparams.total_timesteps=128", "eval.every=0", "checkpoint.every=0"])
    run.hydra_dir.mkdir(parents=True)
    run.config_file.write_text(OmegaConf.to_yaml(cfg))
    run_training(cfg, run)
    champion = Registry(tmp_path / "champions").register(run.root, "pole", force=True)
    text = (champion.folder / "manifest.json").read_text()
    assert "Infinity" not in text and '"inf"' in text
    check_fits(champion, *probe_spaces(cfg))
    legacy = json.loads(text.replace('"-inf"', "-Infinity").replace('"inf"', "Infinity"))
    champion.manifest.update(observation_space=legacy["observation_space"])
    check_fits(champion, *probe_spaces(cfg))
