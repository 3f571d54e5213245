"""Features extractors for small image observations.

SB3's ``NatureCNN`` (8x8 stride-4 first conv) needs inputs of at least ~36x36; CurveTrace's
``(2, 15, 15)`` patch needs something smaller. Use it with either ``MlpPolicy`` or ``CnnPolicy``::

    policy_kwargs = {"features_extractor_class": SmallCNN,
                     "features_extractor_kwargs": {"features_dim": 128, "channels": [16, 32], "strides": [1, 2]}}

Preprocessing (checked in SB3 2.9 ``preprocessing.preprocess_obs``): a ``Box(0, 255, (C, H, W),
uint8)`` is an image space whatever C is (the channel count is only checked with
``check_channels=True``, which ``preprocess_obs`` does not use), so with the default
``normalize_images=True`` the extractor receives floats in [0, 1]. Channels-first is detected by
"the smallest dimension comes first", so (2, 15, 15) is never wrapped in ``VecTransposeImage``.
``CnnPolicy`` accepts 2 channels once ``NatureCNN`` (the only class that checks the space) is
replaced; ``MlpPolicy`` + ``SmallCNN`` builds the same network.
"""

from __future__ import annotations

from collections.abc import Sequence

import gymnasium as gym
import torch as th
from stable_baselines3.common.torch_layers import BaseFeaturesExtractor
from torch import nn

from rlft.errors import ConfigError


class SmallCNN(BaseFeaturesExtractor):
    """3x3 convolutions (padding 1), ReLU after each, flatten, linear, ReLU.

    The default, ``channels=(16, 32)`` with ``strides=(1, 2)``, keeps the first layer at full
    resolution (one-pixel curves and the visited mask stay sharp) and halves the grid in the
    second: measured on one CPU core, one Adam step on a 256-sample batch takes 22 ms against
    118 ms for CURVE_TRACE.md's prototype network (``channels=32, strides=(1, 1)``), which made
    PPO's update, not the env, about 95% of the training time.

    :param observation_space: a ``Box`` of shape ``(channels_in, height, width)``, channels first.
    :param features_dim: size of the output feature vector.
    :param channels: output channels of each convolution; an int means two convolutions of that width.
    :param strides: stride of each convolution (same length as ``channels``).
    """

    def __init__(
        self,
        observation_space: gym.spaces.Box,
        features_dim: int = 128,
        channels: int | Sequence[int] = (16, 32),
        strides: Sequence[int] = (1, 2),
    ) -> None:
        if not isinstance(observation_space, gym.spaces.Box) or len(observation_space.shape) != 3:
            raise ConfigError(
                f"SmallCNN needs a channels-first image Box observation (C, H, W), got {observation_space}; "
                "use the default MLP features extractor for flat observations"
            )
        widths = [channels, channels] if isinstance(channels, int) else [int(c) for c in channels]
        steps = [int(s) for s in strides]
        if features_dim < 1 or not widths or min(widths) < 1 or len(steps) != len(widths) or min(steps) < 1:
            raise ConfigError(
                f"SmallCNN: features_dim, channels and strides must be >= 1 with one stride per convolution, "
                f"got features_dim={features_dim}, channels={widths}, strides={steps}"
            )
        super().__init__(observation_space, features_dim)
        layers: list[nn.Module] = []
        in_channels = observation_space.shape[0]
        for width, stride in zip(widths, steps, strict=True):
            layers += [nn.Conv2d(in_channels, width, kernel_size=3, stride=stride, padding=1), nn.ReLU()]
            in_channels = width
        self.cnn = nn.Sequential(*layers, nn.Flatten())
        with th.no_grad():  # the flattened size, whatever the strides do to the grid
            n_flatten = self.cnn(th.zeros(1, *observation_space.shape)).shape[1]
        self.linear = nn.Sequential(nn.Linear(n_flatten, features_dim), nn.ReLU())

    def forward(self, observations: th.Tensor) -> th.Tensor:
        """``(batch, C, H, W)`` floats (already scaled to [0, 1] by SB3) -> ``(batch, features_dim)``."""
        return self.linear(self.cnn(observations))
