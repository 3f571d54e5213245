"""Features extractors for small image observations.

SB3's ``NatureCNN`` (8x8 stride-4 first conv) needs inputs of at least ~36x36; CurveTrace's
``(2, 15, 15)`` patch needs something smaller. Use it with either ``MlpPolicy`` or ``CnnPolicy``::

    policy_kwargs = {"features_extractor_class": SmallCNN,
                     "features_extractor_kwargs": {"features_dim": 128, "channels": 32}}

Preprocessing (checked in SB3 2.9 ``preprocessing.preprocess_obs``): a ``Box(0, 255, (C, H, W),
uint8)`` is an image space whatever C is (the channel count is only checked with
``check_channels=True``, which ``preprocess_obs`` does not use), so with the default
``normalize_images=True`` the extractor receives floats in [0, 1]. Channels-first is detected by
"the smallest dimension comes first", so (2, 15, 15) is never wrapped in ``VecTransposeImage``.
``CnnPolicy`` accepts 2 channels once ``NatureCNN`` (the only class that checks the space) is
replaced; ``MlpPolicy`` + ``SmallCNN`` builds the same network.
"""

from __future__ import annotations

import gymnasium as gym
import torch as th
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn

from rlft.errors import ConfigError


class SmallCNN(BaseFeaturesExtractor):
    """Two 3x3 convolutions (padding 1, so a 15x15 patch stays 15x15), ReLU, flatten, linear, ReLU.

    :param observation_space: a ``Box`` of shape ``(channels_in, height, width)``, channels first.
    :param features_dim: size of the output feature vector.
    :param channels: number of output channels of each convolution.
    """

    def __init__(self, observation_space: gym.spaces.Box, features_dim: int = 128, channels: int = 32) -> None:
        if not isinstance(observation_space, gym.spaces.Box) or len(observation_space.shape) != 3:
            raise ConfigError(
                f"SmallCNN needs a channels-first image Box observation (C, H, W), got {observation_space}; "
                "use the default MLP features extractor for flat observations"
            )
        if features_dim < 1 or channels < 1:
            raise ConfigError(f"SmallCNN: features_dim and channels must be >= 1, got {features_dim}, {channels}")
        super().__init__(observation_space, features_dim)
        n_input_channels = observation_space.shape[0]
        self.cnn = nn.Sequential(
            nn.Conv2d(n_input_channels, channels, kernel_size=3, stride=1, padding=1),
            nn.ReLU(),
            nn.Conv2d(channels, channels, kernel_size=3, stride=1, padding=1),
            nn.ReLU(),
            nn.Flatten(),
        )
        n_flatten = channels * observation_space.shape[1] * observation_space.shape[2]
        self.linear = nn.Sequential(nn.Linear(n_flatten, features_dim), nn.ReLU())

    def forward(self, observations: th.Tensor) -> th.Tensor:
        """``(batch, C, H, W)`` floats (already scaled to [0, 1] by SB3) -> ``(batch, features_dim)``."""
        return self.linear(self.cnn(observations))
