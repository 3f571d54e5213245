"""SmallCNN: shapes, SB3 preprocessing of a 2-channel uint8 patch, policies that use it."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch as th
from stable_baselines3 import PPO
from stable_baselines3.common.vec_env import VecTransposeImage, is_vecenv_wrapped

from rlft.errors import ConfigError
from rlft.policies.extractors import SmallCNN

th.set_num_threads(1)

OBS_SPACE = gym.spaces.Box(0, 255, (2, 15, 15), np.uint8)


class Patches(gym.Env):
    """Random patches, any action space, 5-step episodes."""

    observation_space = OBS_SPACE

    def __init__(self, action_space: gym.Space) -> None:
        self.action_space = action_space

    def reset(self, *, seed: int | None = None, options: dict | None = None) -> tuple[np.ndarray, dict]:
        super().reset(seed=seed)
        self.t = 0
        return self.observation_space.sample(), {}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict]:
        self.t += 1
        return self.observation_space.sample(), 0.0, self.t >= 5, False, {}


def test_output_shape() -> None:
    extractor = SmallCNN(OBS_SPACE, features_dim=64, channels=8)
    out = extractor(th.rand(5, *OBS_SPACE.shape))
    assert out.shape == (5, 64) and extractor.features_dim == 64
    assert (out >= 0).all()


def test_defaults_keep_full_resolution_then_halve() -> None:
    extractor = SmallCNN(OBS_SPACE)
    assert extractor.features_dim == 128
    convs = [m for m in extractor.cnn if isinstance(m, th.nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.stride) for c in convs] == [(2, 16, (1, 1)), (16, 32, (2, 2))]
    assert extractor.linear[0].in_features == 32 * 8 * 8


def test_prototype_network_from_arguments() -> None:
    extractor = SmallCNN(OBS_SPACE, channels=32, strides=[1, 1])
    convs = [m for m in extractor.cnn if isinstance(m, th.nn.Conv2d)]
    assert [(c.in_channels, c.out_channels) for c in convs] == [(2, 32), (32, 32)]
    assert extractor.linear[0].in_features == 32 * 15 * 15


@pytest.mark.parametrize(
    "kwargs", [{"channels": [16, 32], "strides": [1]}, {"channels": [0, 8]}, {"features_dim": 0}, {"strides": [1, 0]}]
)
def test_bad_sizes_are_config_errors(kwargs: dict) -> None:
    with pytest.raises(ConfigError, match="SmallCNN"):
        SmallCNN(OBS_SPACE, **kwargs)


def test_flat_observation_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="SmallCNN"):
        SmallCNN(gym.spaces.Box(0, 1, (10,), np.float32))


@pytest.mark.parametrize("policy", ["CnnPolicy", "MlpPolicy"])
@pytest.mark.parametrize("action_space", [gym.spaces.Discrete(9), gym.spaces.MultiDiscrete([8, 2])])
def test_policies_build_and_scale_images(policy: str, action_space: gym.Space) -> None:
    model = PPO(
        policy,
        Patches(action_space),
        n_steps=16,
        batch_size=16,
        n_epochs=1,
        seed=0,
        device="cpu",
        policy_kwargs={
            "features_extractor_class": SmallCNN,
            "features_extractor_kwargs": {"features_dim": 32, "channels": 8},
        },
    )
    assert isinstance(model.policy.features_extractor, SmallCNN)
    assert not is_vecenv_wrapped(model.get_env(), VecTransposeImage)  # (2, 15, 15) is channels-first

    obs = np.stack([OBS_SPACE.sample() for _ in range(4)])
    tensor = model.policy.obs_to_tensor(obs)[0]
    with th.no_grad():
        features = model.policy.extract_features(tensor, model.policy.pi_features_extractor)
        scaled = model.policy.pi_features_extractor(tensor.float() / 255.0)
    th.testing.assert_close(features, scaled)  # SB3 divides the uint8 patch by 255 before SmallCNN

    model.learn(32)
    actions, _ = model.predict(obs, deterministic=True)
    assert actions.shape[0] == 4
