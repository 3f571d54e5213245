"""A fine-tune run: the champion's model (rebuilt from its manifest and safetensors, a fresh
optimizer) trained with the fine-tune's hyperparameters on the chosen stage. The champion folder
is only read."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from omegaconf import DictConfig

from rlft.champions.registry import Registry
from rlft.envs.normalization import find_vecnormalize, has_normalization, load_normalization_into
from rlft.runs.layout import RunFolder
from rlft.training.run import RunOptions, run_training

if TYPE_CHECKING:
    from stable_baselines3.common.base_class import BaseAlgorithm
    from stable_baselines3.common.vec_env import VecEnv


def run_finetune(cfg: DictConfig, run: RunFolder) -> dict[str, Any]:
    registry = Registry(cfg.paths.registry)
    ref = cfg.champion.name

    def champion_model(venv: "VecEnv") -> "BaseAlgorithm":
        model, champion = registry.load_model(ref, venv, device=cfg.device, hparams=cfg.hparams)
        norm = find_vecnormalize(venv)
        if norm is not None and has_normalization(champion.folder):
            load_normalization_into(norm, champion.folder)
        model.set_random_seed(cfg.seed)
        return model

    champion = registry.get(ref)
    options = RunOptions(resume=bool(cfg.resume), model_factory=champion_model,
                         metrics_fields={"kind": "finetune", "champion": champion.ref,
                                         "champion_success": champion.manifest["metrics"]["success_rate"]})
    return run_training(cfg, run, options)
