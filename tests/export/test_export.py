"""rlft.export: SB3 zip, Hugging Face folder and ONNX graph, each from the verified champion."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from rlft.champions.registry import Registry
from rlft.errors import RlftError
from rlft.export import export, load_champion
from tests.conftest import run_cli, tiny_run
from tests.finetune.test_finetune import registry  # noqa: F401  (module fixture: a champion "base")


def _observations(n: int = 32) -> np.ndarray:
    from rlft.envs.curve_trace.vec_env import CurveTraceVecEnv

    venv = CurveTraceVecEnv(n, seed=3, stage=2)
    obs = venv.reset()
    for _ in range(5):  # a few random steps: visited trails in the patches
        obs, *_ = venv.step(np.array([venv.action_space.sample() for _ in range(n)]))
    return obs


def test_sb3_zip_loads_with_plain_sb3_and_acts_like_the_champion(registry: Registry, tmp_path: Path) -> None:  # noqa: F811
    from stable_baselines3 import PPO

    summary = export(str(registry.root), "base", "sb3", tmp_path / "sb3")
    assert summary["files"] == ["model.zip"]
    obs = _observations()
    exported = PPO.load(tmp_path / "sb3" / "model.zip", device="cpu").predict(obs, deterministic=True)[0]
    own = load_champion(str(registry.root), "base").model.predict(obs, deterministic=True)[0]
    np.testing.assert_array_equal(exported, own)


def test_hf_folder_has_card_weights_config_and_an_episode(registry: Registry, tmp_path: Path) -> None:  # noqa: F811
    export(str(registry.root), "base", "hf", tmp_path / "hf")
    folder = tmp_path / "hf"
    assert sorted(p.name for p in folder.iterdir()) == ["README.md", "config.json", "episode.gif", "model.safetensors"]
    config = json.loads((folder / "config.json").read_text())
    assert config["champion"] == "base@v1" and config["architecture"] == "standard"
    card = (folder / "README.md").read_text()
    assert card.startswith("---\nlibrary_name: stable-baselines3") and "| success rate (registered" in card
    assert "episode.gif" in card and (folder / "episode.gif").read_bytes()[:6] == b"GIF89a"


def _check_onnx(folder: Path, model, obs: np.ndarray) -> None:
    import onnxruntime

    session = onnxruntime.InferenceSession(str(folder / "policy.onnx"), providers=["CPUExecutionProvider"])
    actions = session.run(["action"], {"obs": obs})[0]
    np.testing.assert_array_equal(actions, model.predict(obs, deterministic=True)[0])
    assert json.loads((folder / "onnx_check.json").read_text())["actions_equal"] is True


def test_onnx_graph_matches_torch_for_both_architectures(registry: Registry, tmp_path: Path) -> None:  # noqa: F811
    export(str(registry.root), "base", "onnx", tmp_path / "standard")
    _check_onnx(tmp_path / "standard", load_champion(str(registry.root), "base").model, _observations())

    run = tiny_run(tmp_path / "decoupled_run", "env=curve_trace_decoupled", "stage=2")
    registry_root = tmp_path / "champions"
    Registry(registry_root).register(run.root, "stop", force=True)
    export(str(registry_root), "stop", "onnx", tmp_path / "decoupled")
    model = load_champion(str(registry_root), "stop").model
    obs = _observations()
    _check_onnx(tmp_path / "decoupled", model, obs)
    assert model.predict(obs, deterministic=True)[0].shape == (len(obs), 2), "move and stop flag"


@pytest.mark.parametrize(
    "ref,prepare,message",
    [
        ("nobody", None, "not in the registry"),
        ("base", "full", "not an empty folder"),
    ],
)
def test_bad_exports_write_nothing(registry: Registry, tmp_path: Path, ref: str, prepare, message: str) -> None:  # noqa: F811
    out = tmp_path / "out"
    if prepare == "full":
        out.mkdir()
        (out / "keep.txt").write_text("mine")
    with pytest.raises(RlftError, match=message):
        export(str(registry.root), ref, "hf", out)
    assert (not out.exists()) or sorted(p.name for p in out.iterdir()) == ["keep.txt"]
    assert not list(tmp_path.glob(".out.*")), "no staging folder left behind"


def test_cli_exports_and_refuses_with_one_line(registry: Registry, tmp_path: Path) -> None:  # noqa: F811
    done = run_cli(
        ["base", "format=sb3", f"out={tmp_path / 'z'}", f"paths.registry={registry.root}"],
        cwd=tmp_path,
        module="rlft.export",
    )
    assert done.returncode == 0 and "exported base@v1 as sb3" in done.stdout
    done = run_cli(
        [f"paths.registry={registry.root}", "format=sb3", "base", f"out={tmp_path / 'z'}"],
        cwd=tmp_path,
        module="rlft.export",
    )
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1


def test_every_python_snippet_of_the_model_card_runs_in_a_fresh_process(registry: Registry, tmp_path: Path) -> None:  # noqa: F811
    """The card's code blocks are run as a user would: a new interpreter, in the export folder."""
    import re
    import subprocess
    import sys

    from tests.conftest import REPO

    export(str(registry.root), "base", "hf", tmp_path / "hf")
    card = (tmp_path / "hf" / "README.md").read_text()
    snippets = re.findall(r"```python\n(.*?)```", card, flags=re.S)
    assert snippets and "from stable_baselines3 import StopPPO" not in card
    for snippet in snippets:
        done = subprocess.run(
            [sys.executable, "-c", snippet],
            cwd=tmp_path / "hf",
            env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip(), "the snippet prints the action it took"


def test_the_card_names_where_the_sb3_class_lives(registry: Registry, tmp_path: Path) -> None:  # noqa: F811
    import importlib
    import re

    export(str(registry.root), "base", "hf", tmp_path / "hf")
    card = (tmp_path / "hf" / "README.md").read_text()
    module, name = re.search(r"`from ([\w.]+) import (\w+)`", card).groups()
    assert hasattr(importlib.import_module(module), name)


def test_an_hf_export_loads_back_without_pickle_and_acts_like_the_champion(
    registry: Registry,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import pickle

    from rlft.champions.sources import load_export

    export(str(registry.root), "base", "hf", tmp_path / "hf")

    def refuse(*args, **kwargs):
        raise AssertionError("an HF export must load without unpickling")

    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    model = load_export(tmp_path / "hf")
    obs = _observations()
    own = load_champion(str(registry.root), "base").model.predict(obs, deterministic=True)[0]
    np.testing.assert_array_equal(model.predict(obs, deterministic=True)[0], own)
