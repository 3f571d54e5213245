"""The model's spaces (rlft.envs.spaces): SB3's image transposition and normalisation, the one
notion every fit check uses; a channel-last image model evaluates on its own env."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from gymnasium import spaces
from omegaconf import OmegaConf

from rlft.config.compose import compose_config
from rlft.envs.spaces import (
    model_spaces,
    model_specs,
    space_from_spec,
    space_spec,
    spaces_mismatch,
    stored_model_specs,
)
from rlft.errors import ConfigError
from rlft.runs.layout import RunFolder
from tests import user_envs
from tests.user_envs import ChannelFirstImage, ChannelLastImage, DictObservation, env_overrides


def _image(*shape: int) -> spaces.Box:
    return spaces.Box(0, 255, shape=shape, dtype=np.uint8)


def test_channel_last_images_become_channel_first_and_nothing_else_changes() -> None:
    action = spaces.MultiDiscrete([3, 2])
    assert model_spaces(_image(36, 40, 3), action) == (_image(3, 36, 40), action)
    assert model_spaces(_image(3, 36, 40), action)[0] == _image(3, 36, 40), "already channel-first"
    floats = spaces.Box(0, 1, shape=(36, 36, 3), dtype=np.float32)
    assert model_spaces(floats, action)[0] == floats, "not an image for SB3: no transposition"
    vector = spaces.Box(-np.inf, np.inf, shape=(4,), dtype=np.float32)
    assert model_spaces(vector, spaces.Box(-1, 1, (2,)))[0] == vector


def test_dict_image_entries_are_transposed_and_mixed_layouts_refused() -> None:
    vector = spaces.Box(-1, 1, shape=(4,), dtype=np.float32)
    observation = spaces.Dict({"image": _image(36, 36, 3), "vector": vector})
    held, _ = model_spaces(observation, spaces.Discrete(3))
    assert held == spaces.Dict({"image": _image(3, 36, 36), "vector": vector})
    with pytest.raises(ConfigError, match="mixes channel-last and channel-first images.*first"):
        model_spaces(spaces.Dict({"last": _image(36, 36, 3), "first": _image(3, 36, 36)}), spaces.Discrete(3))


def test_normalised_images_are_float_boxes_that_sb3_does_not_transpose() -> None:
    held, _ = model_spaces(_image(36, 36, 3), spaces.Discrete(3), clip_obs=5.0)
    assert held == spaces.Box(-5.0, 5.0, shape=(36, 36, 3), dtype=np.float32)


def test_specs_round_trip_through_json_with_infinite_bounds_and_dicts() -> None:
    for space in (
        spaces.Box(-np.inf, np.inf, shape=(4,), dtype=np.float32),
        spaces.Box(np.array([0.0, -1.0]), np.array([1.0, 1.0]), dtype=np.float64),
        spaces.Box(
            np.array([[0, -np.inf], [1, 2]], dtype=np.float32),
            np.array([[1, 1], [np.inf, 3]], dtype=np.float32),
            dtype=np.float32,
        ),
        _image(36, 36, 3),
        spaces.Discrete(9),
        spaces.MultiDiscrete([8, 2]),
        spaces.Dict({"image": _image(3, 8, 8), "vector": spaces.Box(-1, 1, shape=(2,))}),
    ):
        spec = space_spec(space)
        assert space_from_spec(spec) == space and space_spec(space_from_spec(spec)) == spec


def test_a_manifest_spec_of_a_channel_last_env_is_the_transposed_model() -> None:
    env = ChannelLastImage()
    stored = (space_spec(env.observation_space), space_spec(env.action_space))
    assert stored_model_specs(*stored) == model_specs(env.observation_space, env.action_space)
    assert stored_model_specs(*stored)[0]["shape"] == [3, 36, 36]


def test_fits_compare_what_the_model_holds() -> None:
    last, first, other = ChannelLastImage(), ChannelFirstImage(), DictObservation()
    model = model_specs(last.observation_space, last.action_space)
    assert spaces_mismatch(model, (last.observation_space, last.action_space)) is None
    assert spaces_mismatch(model, (first.observation_space, first.action_space)) is None, "the same model input"
    wrong = spaces_mismatch(model, (other.observation_space, other.action_space))
    assert wrong is not None and "observation space" in wrong and "curve_trace" not in wrong
    standard = (space_spec(spaces.Box(0, 1, (4,))), space_spec(spaces.Discrete(9)))
    wrong = spaces_mismatch(standard, (spaces.Box(0, 1, (4,)), spaces.MultiDiscrete([8, 2])))
    assert wrong is not None and "a standard CurveTrace model: use env=curve_trace)" in wrong


@pytest.fixture(scope="module")
def channel_last_run(tmp_path_factory: pytest.TempPathFactory) -> RunFolder:
    from rlft.training.run import run_training

    run = RunFolder(tmp_path_factory.mktemp("spaces") / "last")
    cfg = compose_config(env_overrides("ChannelLastImage", "CnnPolicy"))
    run.hydra_dir.mkdir(parents=True)
    run.config_file.write_text(OmegaConf.to_yaml(cfg))
    run_training(cfg, run)
    return run


def test_a_channel_last_image_model_evaluates_on_its_own_env(channel_last_run: RunFolder, tmp_path: Path) -> None:
    """SB3 trained it through VecTransposeImage; evaluate must not refuse the env it trained on."""
    from rlft.evaluate import run as evaluate

    result, folder = evaluate([str(channel_last_run.root), "episodes=3", f"out={tmp_path / 'ev'}"])
    (stage,) = result["stages"]
    assert stage["episodes"] == 3 and len(stage["successes"]) == 3
    assert (folder / "evaluation.json").is_file()


def test_a_resume_keeps_the_model_spaces(channel_last_run: RunFolder) -> None:
    from rlft.training.schema import validate_resumed_spaces

    def resumed(name: str) -> None:
        cfg = compose_config([*env_overrides(name, "CnnPolicy"), f"resume={channel_last_run.root}"])
        validate_resumed_spaces(cfg)

    resumed("ChannelFirstImage")  # what the model holds is the same: SB3 takes it
    with pytest.raises(ConfigError, match=r"resume=.*its observation space is .*\[3, 36, 36\].*the env's is .*Dict"):
        resumed("DictObservation")


KIND_EXPORTS = {  # what ONNX export does for each kind: None = a graph, else the one-line refusal
    "ChannelLastImage": None,
    "ChannelFirstImage": None,
    "DictObservation": None,
    "MultiDiscreteAction": None,
    "ContinuousAction": None,
}


@pytest.mark.slow
@pytest.mark.parametrize("kind", sorted(KIND_EXPORTS))
def test_every_observation_and_action_kind_goes_through_every_command(
    kind: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Train -> evaluate -> traces record -> register -> evaluate the champion -> fine-tune from it
    -> compare -> export (sb3, hf, onnx), on a user env of each kind."""
    import json

    import onnxruntime

    from rlft.champions.registry import Registry
    from rlft.compare import run as compare
    from rlft.envs.factory import probe_spaces
    from rlft.evaluate import run as evaluate
    from rlft.evaluation import stack_observations
    from rlft.export import export, load_champion
    from rlft.traces.distill import check_traces_fit
    from rlft.traces.record import run as record
    from rlft.training.run import run_training
    from tests.conftest import run_cli
    from tests.user_envs import POLICIES

    monkeypatch.setenv("RLFT_TRUSTED_MODULES", "tests")  # the champion names tests.user_envs
    overrides = env_overrides(kind, POLICIES[kind])
    run = RunFolder(tmp_path / "run")
    cfg = compose_config(overrides)
    run.hydra_dir.mkdir(parents=True)
    run.config_file.write_text(OmegaConf.to_yaml(cfg))
    run_training(cfg, run)

    result, _ = evaluate([str(run.root), "episodes=3", f"out={tmp_path / 'ev'}"])
    assert result["stages"][0]["episodes"] == 3

    traces = tmp_path / "traces"
    manifest = record([str(run.root), "episodes=3", f"out={traces}"])
    assert manifest["complete"] and manifest["episodes"] == 3 and manifest["steps"] == 18
    if kind == "DictObservation":
        assert set(manifest["obs_keys"]) == {"image", "vector"}
        assert manifest["obs_keys"]["image"]["shape"] == [36, 36, 3], "the env's own layout"
    if kind == "ContinuousAction":
        assert manifest["action_dtype"] == "float32"
    if kind in ("DictObservation", "ContinuousAction"):
        with pytest.raises(ConfigError, match="behaviour cloning"):
            check_traces_fit(traces, *probe_spaces(cfg))
    else:
        check_traces_fit(traces, *probe_spaces(cfg))

    registry = Registry(tmp_path / "champions")
    champion = registry.register(run.root, "user", force=True)
    assert champion.manifest["observation_space"] == space_spec(probe_spaces(cfg)[0]), "the env's layout"
    champion_spaces = (champion.manifest["observation_space"], champion.manifest["action_space"])
    result, _ = evaluate(["user", f"paths.registry={registry.root}", "episodes=3", f"out={tmp_path / 'ev-champion'}"])
    assert result["stages"][0]["episodes"] == 3

    out = tmp_path / "outputs"
    done = run_cli(
        ["champion=user", f"paths.registry={registry.root}", f"paths.output_dir={out}", *overrides[7:]], cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (finetuned,) = (out / "finetune").iterdir()
    report, _ = compare([str(run.root), str(finetuned), "episodes=3", f"out={tmp_path / 'cmp'}"])
    assert len(report["models"]) == 2

    export(str(registry.root), "user", "sb3", tmp_path / "sb3")
    export(str(registry.root), "user", "hf", tmp_path / "hf")
    config = json.loads((tmp_path / "hf" / "config.json").read_text())
    assert config["model_observation_space"] == stored_model_specs(*champion_spaces)[0]
    card = (tmp_path / "hf" / "README.md").read_text()
    transposed = "`[36, 36, 3]` -> `[3, 36, 36]`"
    assert (transposed in card) == (kind in ("ChannelLastImage", "DictObservation")), "the card states the layout"
    refusal = KIND_EXPORTS[kind]
    if refusal is not None:
        with pytest.raises(ConfigError, match=refusal):
            export(str(registry.root), "user", "onnx", tmp_path / "onnx")
        assert not (tmp_path / "onnx").exists()
        return
    export(str(registry.root), "user", "onnx", tmp_path / "onnx")
    env = getattr(user_envs, kind)()
    obs = stack_observations([env.reset(seed=seed)[0] for seed in range(4)])  # the env's own layout
    feed = {f"obs_{key}": value for key, value in obs.items()} if isinstance(obs, dict) else {"obs": obs}
    session = onnxruntime.InferenceSession(str(tmp_path / "onnx" / "policy.onnx"), providers=["CPUExecutionProvider"])
    actions = session.run(["action"], feed)[0]
    np.testing.assert_allclose(  # equal for discrete actions, within float error for continuous ones
        actions, load_champion(str(registry.root), "user").model.predict(obs, deterministic=True)[0], atol=1e-4, rtol=0
    )
