"""Build a stable-baselines3 model from the ``hparams`` config."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from omegaconf import DictConfig, OmegaConf

from rlft.algos.spec import ALGORITHMS
from rlft.envs.factory import import_object

if TYPE_CHECKING:
    from stable_baselines3.common.base_class import BaseAlgorithm
    from stable_baselines3.common.vec_env import VecEnv


def algorithm_class(algo: str) -> type["BaseAlgorithm"]:
    return import_object(ALGORITHMS[algo][0])


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


def model_kwargs(hp: DictConfig) -> dict[str, Any]:
    """Constructor kwargs for the SB3 class: only the fields the algorithm accepts and that are set."""
    accepted = ALGORITHMS[hp.algo][1]
    kwargs: dict[str, Any] = {name: hp[name] for name in sorted(accepted) if hp[name] is not None}
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
    return cls(policy, env, seed=seed, device=device, verbose=0, **model_kwargs(hp))
