"""The env block's wrappers: env.wrappers, env.frame_stack, env.atari and env.api=gym, applied to
every env instance and carried by run configs and champion manifests."""

from __future__ import annotations

import re
from collections import namedtuple
from pathlib import Path
from typing import Any

import gymnasium
import numpy as np
import pytest
from gymnasium import spaces
from omegaconf import OmegaConf

from rlft.envs.compat import GymApiEnv, to_space
from rlft.envs.factory import env_factory, make_vec_env, probe_spaces
from rlft.envs.wrappers import FrameStack, ReturnThreshold
from rlft.errors import ConfigError
from rlft.evaluation import evaluate
from tests.conftest import TINY, compose_config
from tests.test_evaluation import AlwaysLeft

IMG = "{_target_: minigrid.wrappers.ImgObsWrapper}"
IMG_OBS = [f"env.wrappers=[{IMG}]"]
MINIGRID = [*TINY, "env.name=minigrid", "env.id=minigrid:MiniGrid-Empty-5x5-v0", *IMG_OBS]
CRAFTER = [
    "env=cartpole",
    "env.name=crafter",
    "env.id=null",
    "env._target_=crafter.Env",
    "env.api=gym",
    "env.kwargs={area: [32, 32], size: [32, 32], length: 30, seed: 5}",
]


class Counter(gymnasium.Env):
    """Observations numbered by step (so stacks show their order); an episode lasts 4 steps."""

    def __init__(self, shape: tuple[int, ...], dtype: Any = np.float32) -> None:
        high = 255 if dtype == np.uint8 else 1000
        self.observation_space = spaces.Box(0, high, shape, dtype)
        self.action_space = spaces.Discrete(2)
        self.t = 0

    def _obs(self) -> np.ndarray:
        base = np.arange(int(np.prod(self.observation_space.shape))).reshape(self.observation_space.shape)
        return ((base + 10 * self.t) % 250).astype(self.observation_space.dtype)

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self.t = 1
        return self._obs(), {}

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict]:
        self.t += 1
        return self._obs(), 1.0, self.t > 4, False, {}


@pytest.mark.parametrize(
    "shape,dtype,stacked",
    [
        ((4,), np.float32, (12,)),  # a vector: the last axis
        ((6, 5, 3), np.uint8, (6, 5, 9)),  # a channel-last image: the last axis
        ((3, 6, 5), np.uint8, (9, 6, 5)),  # a channel-first image: the first axis
    ],
)
def test_frame_stack_stacks_as_vec_frame_stack_does(shape: tuple, dtype: Any, stacked: tuple) -> None:
    from stable_baselines3.common.vec_env import DummyVecEnv, VecFrameStack

    ours = DummyVecEnv([lambda: FrameStack(Counter(shape, dtype), 3)])
    theirs = VecFrameStack(DummyVecEnv([lambda: Counter(shape, dtype)]), 3)
    assert ours.observation_space == theirs.observation_space and ours.observation_space.shape == stacked
    np.testing.assert_array_equal(ours.reset(), theirs.reset())
    for _ in range(9):  # across two episode ends
        a, b = ours.step(np.array([0])), theirs.step(np.array([0]))
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[2], b[2])
        if a[2][0]:
            np.testing.assert_array_equal(a[3][0]["terminal_observation"], b[3][0]["terminal_observation"])
    assert a[0].shape == (1, *stacked)


class DictCounter(gymnasium.Env):
    """A channel-first image and a vector under one Dict, numbered by step like :class:`Counter`."""

    def __init__(self) -> None:
        self.parts = {"image": Counter((3, 6, 5), np.uint8), "vector": Counter((4,))}
        self.observation_space = spaces.Dict({key: part.observation_space for key, part in self.parts.items()})
        self.action_space = spaces.Discrete(2)

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[dict, dict]:
        return {key: part.reset()[0] for key, part in self.parts.items()}, {}

    def step(self, action: int) -> tuple[dict, float, bool, bool, dict]:
        steps = {key: part.step(action) for key, part in self.parts.items()}
        return {key: step[0] for key, step in steps.items()}, 1.0, steps["vector"][2], False, {}


def test_frame_stack_stacks_a_dict_key_by_key_as_vec_frame_stack_does() -> None:
    from stable_baselines3.common.vec_env import DummyVecEnv, VecFrameStack

    ours = DummyVecEnv([lambda: FrameStack(DictCounter(), 2)])
    theirs = VecFrameStack(DummyVecEnv([DictCounter]), 2)
    assert ours.observation_space == theirs.observation_space
    assert (ours.observation_space["image"].shape, ours.observation_space["vector"].shape) == ((6, 6, 5), (8,))
    pairs = [(ours.reset(), theirs.reset())]
    pairs += [(ours.step(np.array([0]))[0], theirs.step(np.array([0]))[0]) for _ in range(6)]
    for a, b in pairs:
        for key in ("image", "vector"):
            np.testing.assert_array_equal(a[key], b[key])


def test_frame_stack_in_the_config_reaches_training_and_single_envs() -> None:
    cfg = compose_config(["env=cartpole", "env.frame_stack=4"])
    single = env_factory(cfg)()
    obs, _ = single.reset(seed=0)
    assert obs.shape == (16,) and np.all(obs[:12] == 0), "zeros before the first frame"
    venv = make_vec_env(cfg, 2, 0)
    assert venv.observation_space == single.observation_space == probe_spaces(cfg)[0]
    venv.close()


def test_frame_stack_needs_a_box() -> None:
    with pytest.raises(
        ConfigError, match=r"env.frame_stack=2 stacks Box observations \(or a Dict of them\).*Dict\(direction, image"
    ):
        probe_spaces(compose_config(["env=cartpole", "env.id=minigrid:MiniGrid-Empty-5x5-v0", "env.frame_stack=2"]))


def test_user_wrappers_apply_in_order() -> None:
    flat = "{_target_: gymnasium.wrappers.FlattenObservation}"
    grid = ["env=cartpole", "env.id=minigrid:MiniGrid-Empty-5x5-v0"]
    assert probe_spaces(compose_config([*grid, f"env.wrappers=[{IMG}, {flat}]"]))[0].shape == (7 * 7 * 3,)
    with pytest.raises(ConfigError, match=r"env.wrappers\[0\] \(gymnasium.wrappers.FlattenObservation\) cannot wrap"):
        probe_spaces(compose_config([*grid, f"env.wrappers=[{flat}, {IMG}]"]))  # a Text space cannot be flattened


class Steps(gymnasium.Env):
    """Pays ``rewards`` one per step, then ends (truncated when ``truncate``)."""

    observation_space = spaces.Discrete(1)
    action_space = spaces.Discrete(1)

    def __init__(self, rewards: list[float], truncate: bool = False) -> None:
        self.rewards, self.truncate, self.t = rewards, truncate, 0

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[int, dict]:
        self.t = 0
        return 0, {}

    def step(self, action: int) -> tuple[int, float, bool, bool, dict]:
        self.t += 1
        end = self.t == len(self.rewards)
        return 0, self.rewards[self.t - 1], end and not self.truncate, end and self.truncate, {"kept": 1}


def _final_info(env: gymnasium.Env) -> dict:
    env.reset()
    while True:
        _, _, terminated, truncated, info = env.step(0)
        if terminated or truncated:
            return info
        assert set(info) == {"kept"}  # nothing before the episode's end


@pytest.mark.parametrize("truncate", [False, True])
def test_return_threshold_reports_the_episode_return_reaching_it(truncate: bool) -> None:
    env = ReturnThreshold(Steps([0.25, 0.5], truncate), threshold=0.75)
    assert _final_info(env) == {"kept": 1, "is_success": 1.0}
    assert _final_info(env) == {"kept": 1, "is_success": 1.0}  # the return restarts at reset
    named = ReturnThreshold(ReturnThreshold(Steps([0.25, 0.5]), 0.7501), threshold=0.5, key="quick")
    assert _final_info(named) == {"kept": 1, "is_success": 0.0, "quick": 1.0}


def test_return_threshold_metrics_reach_the_evaluation() -> None:
    wrapper = "{_target_: rlft.envs.wrappers.ReturnThreshold, threshold: 0.0, key: any_return}"
    cfg = compose_config([*TINY, f"env.wrappers=[{wrapper}]"])
    result = evaluate(AlwaysLeft(), env_factory(cfg), range(2))
    assert result.summary()["info/any_return"] == 1.0  # CartPole pays 1 a step: every return is >= 0


@pytest.mark.parametrize("kwargs", [{"threshold": "high"}, {"threshold": 1, "key": "a/b"}])
def test_return_threshold_settings_are_checked(kwargs: dict) -> None:
    with pytest.raises(ConfigError, match="ReturnThreshold: "):
        ReturnThreshold(Steps([1.0]), **kwargs)


# -- env.api=gym -------------------------------------------------------------------------------------
BoxSpace = namedtuple("BoxSpace", "low, high, shape, dtype")
DiscreteSpace = namedtuple("DiscreteSpace", "n")


class OldEnv:
    """The old gym API: reset() -> obs, step() -> 4-tuple, seed(), duck-typed spaces."""

    observation_space = {"pos": BoxSpace(-1.0, 1.0, (np.int64(2),), np.float32), "key": DiscreteSpace(3)}
    action_space = type("MultiDiscreteSpace", (), {"nvec": [3, 2]})()

    def __init__(self, truncate: bool = False) -> None:
        self.truncate, self.seeds, self.t = truncate, [], 0

    def seed(self, seed: int) -> None:
        self.seeds.append(seed)

    def reset(self) -> dict:
        self.t = 0
        return {"pos": np.zeros(2, np.float32), "key": 0}

    def step(self, action: Any) -> tuple[dict, int, bool, dict]:
        self.t += 1
        done = self.t == 2
        return (
            {"pos": np.ones(2, np.float32), "key": 1},
            1,
            done,
            ({"TimeLimit.truncated": True} if done and self.truncate else {}),
        )


def test_the_old_api_becomes_gymnasium() -> None:
    env = GymApiEnv(OldEnv())
    assert env.observation_space == spaces.Dict(
        {"pos": spaces.Box(-1.0, 1.0, (2,), np.float32), "key": spaces.Discrete(3)}
    )
    assert env.action_space == spaces.MultiDiscrete([3, 2])
    assert env.reset(seed=7)[1] == {} and env.env.seeds == [7]
    assert env.step(env.action_space.sample())[2:4] == (False, False)
    assert env.step(env.action_space.sample())[2:4] == (True, False), "done: terminated"
    truncating = GymApiEnv(OldEnv(truncate=True))
    truncating.reset()
    truncating.step([0, 0])
    assert truncating.step([0, 0])[2:4] == (False, True), "TimeLimit.truncated: truncated"
    assert truncating.env.seeds == [], "no seed given, none passed on"


def test_a_space_that_cannot_be_read_is_one_line() -> None:
    with pytest.raises(ConfigError, match="env.api=gym: cannot read the space 'pixels'"):
        to_space("pixels")


def test_crafter_builds_resets_with_a_seed_and_steps() -> None:
    cfg = compose_config(CRAFTER)
    env = env_factory(cfg)()
    assert env.observation_space == spaces.Box(0, 255, (32, 32, 3), np.uint8)
    assert env.action_space == spaces.Discrete(17)
    obs, info = env.reset(seed=3)
    assert obs.shape == (32, 32, 3) and info == {}
    obs, reward, terminated, truncated, info = env.step(0)
    assert obs.dtype == np.uint8 and isinstance(reward, float) and not (terminated or truncated)
    env.close()


def test_crafter_without_the_adapter_is_one_line() -> None:
    from rlft.workflows import validate

    with pytest.raises(ConfigError, match="built a Env, not a gymnasium.Env: .* set env.api=gym"):
        validate(compose_config([*CRAFTER, "env.api=gymnasium"]))


@pytest.mark.slow
def test_crafter_trains(tmp_path: Path) -> None:
    from rlft.runs.layout import RunFolder
    from rlft.training.run import run_training

    cfg = compose_config([*CRAFTER, *TINY[1:], "hparams.total_timesteps=128", "eval.every=128"])
    run = RunFolder(tmp_path / "run")
    run_training(cfg, run)
    assert (run.final_dir / "model.zip").is_file()


# -- MiniGrid through training, the registry, evaluation and a fine-tune -------------------------------
@pytest.fixture(scope="module")
def minigrid_champion(tmp_path_factory):
    from rlft.champions.registry import Registry
    from rlft.runs.layout import RunFolder
    from rlft.training.run import run_training

    root = tmp_path_factory.mktemp("minigrid")
    cfg = compose_config([*MINIGRID, f"paths.registry={root / 'champions'}", "paths.trusted_modules=[minigrid]"])
    run = RunFolder(root / "run")
    run.hydra_dir.mkdir(parents=True)
    run.config_file.write_text(OmegaConf.to_yaml(cfg))
    run_training(cfg, run)
    registry = Registry.for_config(cfg)
    return run, registry, registry.register(run.root, "grid", force=True)


def test_a_minigrid_run_records_its_wrappers(minigrid_champion) -> None:
    from rlft.runs.reading import run_config

    run, _, champion = minigrid_champion
    assert run_config(run).env.wrappers == [{"_target_": "minigrid.wrappers.ImgObsWrapper"}]
    assert champion.manifest["env"]["wrappers"] == [{"_target_": "minigrid.wrappers.ImgObsWrapper"}]
    assert champion.manifest["observation_space"]["shape"] == [7, 7, 3]


def test_a_minigrid_champion_reapplies_its_wrapper_when_loaded_and_evaluated(
    minigrid_champion, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rlft.evaluate import run as evaluate

    _, registry, _ = minigrid_champion
    model, _ = registry.load_model("grid")  # its own env: without the wrapper its spaces would not fit
    assert model.observation_space.shape in ((7, 7, 3), (3, 7, 7))
    monkeypatch.setenv("RLFT_TRUSTED_MODULES", "minigrid")
    result, _ = evaluate(["grid", f"paths.registry={registry.root}", "episodes=2", f"out={tmp_path / 'ev'}"])
    assert result["env"] == "minigrid" and result["stages"][0]["episodes"] == 2


def test_a_wrapper_outside_the_trusted_modules_is_refused(minigrid_champion) -> None:
    from rlft.champions.registry import Registry

    _, registry, _ = minigrid_champion
    with pytest.raises(
        ConfigError, match=r"env.wrappers\[0\]._target_='minigrid.wrappers.ImgObsWrapper' is not an allowed"
    ):
        Registry(registry.root).get("grid")


def test_a_minigrid_champion_is_fine_tuned_with_its_wrapper(minigrid_champion, tmp_path: Path) -> None:
    from stable_baselines3 import PPO

    from rlft.finetune.run import run_finetune
    from rlft.runs.layout import RunFolder
    from rlft.workflows import effective_config, validate

    _, registry, _ = minigrid_champion
    overrides = ["champion.name=grid", f"paths.registry={registry.root}", "paths.trusted_modules=[minigrid]", *TINY[1:]]
    cfg = effective_config(compose_config(overrides), overrides)
    assert cfg.env.wrappers == [{"_target_": "minigrid.wrappers.ImgObsWrapper"}], "from the champion"
    validate(cfg)
    run = RunFolder(tmp_path / "ft")
    run_finetune(cfg, run)
    assert PPO.load(run.final_dir / "model.zip", device="cpu").observation_space.shape in ((7, 7, 3), (3, 7, 7))


# -- env.atari and ids from other packages ------------------------------------------------------------
PONG = ["env=cartpole", "env.name=pong", "env.id=ale_py:ALE/Pong-v5", "env.atari=true"]


def test_atari_preprocesses_pong_without_skipping_frames_twice() -> None:
    cfg = compose_config([*PONG, "env.frame_stack=4"])
    env = env_factory(cfg)()
    assert env.observation_space == spaces.Box(0, 255, (84, 84, 4), np.uint8)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (84, 84, 4) and np.all(obs[..., :3] == 0) and obs[..., 3].any()
    assert env.step(0)[0].shape == (84, 84, 4)
    from stable_baselines3.common.atari_wrappers import MaxAndSkipEnv

    layers, layer = [], env
    while isinstance(layer, gymnasium.Wrapper):
        layers.append(type(layer).__name__)
        layer = layer.env
    assert "AtariWrapper" in layers and MaxAndSkipEnv.__name__ not in layers, "Pong-v5 skips 4 frames itself"
    assert layers.index("FrameStack") < layers.index("AtariWrapper"), "stacked after preprocessing"
    env.close()


def test_atari_without_opencv_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "cv2", None)  # import cv2 -> ImportError
    with pytest.raises(ConfigError, match=r"env.atari=true needs opencv: pip install rlft\[atari\]"):
        probe_spaces(compose_config(PONG))


@pytest.mark.parametrize(
    "env_id,hint",
    [
        ("ALE/NoSuchGame-v5", "write env.id=ale_py:ALE/NoSuchGame-v5"),
        ("BabyAI-NoSuchLevel-v0", "write env.id=minigrid:BabyAI-NoSuchLevel-v0"),
        ("MyTask-v3", "if a package registers it, write env.id=<package>:MyTask-v3"),
        ("gymnasium:MyTask-v3", "importing 'gymnasium' did not register it"),
    ],
)
def test_an_unregistered_id_names_the_module_id_form(env_id: str, hint: str) -> None:
    from rlft.envs.checks import check_env_id

    with pytest.raises(ConfigError, match=re.escape(hint)):
        check_env_id(env_id)


def test_pong_without_its_package_names_ale_py(monkeypatch: pytest.MonkeyPatch) -> None:
    from rlft.envs.checks import check_env_id

    unloaded = {key: spec for key, spec in gymnasium.registry.items() if not key.startswith("ALE/")}
    monkeypatch.setattr(gymnasium, "registry", unloaded)  # as in a process that never imported ale_py
    with pytest.raises(ConfigError, match="ale_py registers it: write env.id=ale_py:ALE/Pong-v5"):
        check_env_id("ALE/Pong-v5")


def test_a_minigrid_champion_exports_with_its_wrapper(
    minigrid_champion, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from rlft.export import export

    _, registry, _ = minigrid_champion
    monkeypatch.setenv("RLFT_TRUSTED_MODULES", "minigrid")
    export(str(registry.root), "grid", "hf", tmp_path / "hf")
    assert json.loads((tmp_path / "hf" / "config.json").read_text())["env"]["wrappers"] == [
        {"_target_": "minigrid.wrappers.ImgObsWrapper"}
    ]
    assert (
        "The env is wrapped, innermost first: `minigrid.wrappers.ImgObsWrapper`"
        in (tmp_path / "hf" / "README.md").read_text()
    )
    summary = export(str(registry.root), "grid", "onnx", tmp_path / "onnx")  # checked on its own env's observations
    assert summary["format"] == "onnx"
