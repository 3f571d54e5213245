"""Build a stable-baselines3 model from the ``hparams`` config."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from omegaconf import DictConfig, OmegaConf

from rlft.algos.spec import ALGORITHMS, check_installed
from rlft.envs.factory import import_object

if TYPE_CHECKING:
    from stable_baselines3.common.base_class import BaseAlgorithm
    from stable_baselines3.common.vec_env import VecEnv


def algorithm_class(algo: str) -> type["BaseAlgorithm"]:
    check_installed(algo)
    return import_object(ALGORITHMS[algo].path)


def _schedule(kind: str, start: float, end: float, cycles: int = 1) -> Any:
    from stable_baselines3.common.utils import LinearSchedule

    from rlft.algos.schedules import CyclicalSchedule

    if kind == "cyclical":
        return CyclicalSchedule(start, end, cycles)
    return float(start) if kind == "constant" else LinearSchedule(float(start), float(end), 1.0)


def _resolve_class_paths(kwargs: dict[str, Any]) -> dict[str, Any]:
    """policy_kwargs are plain YAML; keys ending in ``_class`` or ``activation_fn`` name a class."""
    resolved = {}
    for key, value in kwargs.items():
        if isinstance(value, str) and (key.endswith("_class") or key == "activation_fn"):
            value = import_object(value)
        resolved[key] = value
    return resolved


def _action_noise(kind: str, sigma: float | None, action_space: Any) -> Any:
    """SB3's exploration-noise object for ``hparams.action_noise``, one scale per action dimension."""
    import numpy as np
    from stable_baselines3.common.noise import NormalActionNoise, OrnsteinUhlenbeckActionNoise

    n = int(np.prod(action_space.shape))
    noise = NormalActionNoise if kind == "normal" else OrnsteinUhlenbeckActionNoise
    return noise(mean=np.zeros(n), sigma=np.full(n, 0.1 if sigma is None else float(sigma)))


def model_kwargs(hp: DictConfig, action_space: Any = None) -> dict[str, Any]:
    """Constructor kwargs for the SB3 class: only the fields the algorithm accepts and that are set
    (``action_space``: the env's, needed when ``hparams.action_noise`` is set)."""
    accepted = ALGORITHMS[hp.algo].fields
    kwargs: dict[str, Any] = {name: hp[name] for name in sorted(accepted) if hp[name] is not None}
    sigma = kwargs.pop("action_noise_sigma", None)
    if "action_noise" in kwargs:
        kwargs["action_noise"] = _action_noise(kwargs["action_noise"], sigma, action_space)
    kwargs["learning_rate"] = _schedule(hp.lr_schedule, hp.lr, hp.lr_end, hp.lr_cycles)
    if "clip_range" in kwargs:
        kwargs["clip_range"] = _schedule(hp.clip_schedule, hp.clip_range, 0.0)
    policy_kwargs = _resolve_class_paths(cast("dict[str, Any]", OmegaConf.to_container(hp.policy_kwargs, resolve=True)))
    if hp.weight_decay is not None:
        import torch

        policy_kwargs["optimizer_class"] = torch.optim.AdamW
        policy_kwargs["optimizer_kwargs"] = {
            **policy_kwargs.get("optimizer_kwargs", {}),
            "weight_decay": hp.weight_decay,
        }
    kwargs["policy_kwargs"] = policy_kwargs
    return kwargs


def build_model(hp: DictConfig, env: "VecEnv", *, seed: int, device: str) -> "BaseAlgorithm":
    cls = algorithm_class(hp.algo)
    policy = import_object(hp.policy) if "." in hp.policy else hp.policy
    return cls(policy, env, seed=seed, device=device, verbose=0, **model_kwargs(hp, env.action_space))


def _model_observation_space(space: Any) -> Any:
    """The observation space the policy sees: SB3 moves image channels first (VecTransposeImage)."""
    from gymnasium import spaces
    from stable_baselines3.common.preprocessing import is_image_space, is_image_space_channels_first
    from stable_baselines3.common.vec_env import VecTransposeImage

    if isinstance(space, spaces.Dict):
        return spaces.Dict({key: _model_observation_space(sub) for key, sub in space.spaces.items()})
    if is_image_space(space) and not is_image_space_channels_first(space):
        return VecTransposeImage.transpose_space(space)
    return space


def build_policy(hp: DictConfig, observation_space: Any, action_space: Any) -> Any:
    """The algorithm's policy network alone for these spaces (no env, no replay buffer): what
    config checks inspect before a run starts."""
    cls = algorithm_class(hp.algo)
    policy_class = import_object(hp.policy) if "." in hp.policy else cls.policy_aliases[hp.policy]
    kwargs = model_kwargs(hp, action_space)["policy_kwargs"]
    return policy_class(_model_observation_space(observation_space), action_space, lambda _: 0.0, **kwargs)
