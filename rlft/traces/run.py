"""A distill run: behaviour cloning on traces, then (optionally) RL, in a normal run folder
(``outputs/distill/BC_<name>_<time>/``) whose ``metrics.json`` has the imitation history."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from omegaconf import DictConfig

from rlft.algos.factory import build_model
from rlft.runs.layout import RunFolder
from rlft.runs.metrics import MetricsFile
from rlft.training.run import RunOptions, load_weights, run_training

if TYPE_CHECKING:
    from stable_baselines3.common.base_class import BaseAlgorithm
    from stable_baselines3.common.vec_env import VecEnv


def run_distill(cfg: DictConfig, run: RunFolder) -> dict[str, Any]:
    from rlft.traces.distill import behaviour_clone, load

    traces_dir = Path(cfg.distill.traces)
    imitation: dict[str, Any] = {}

    source = None
    if cfg.init and not cfg.resume:
        from rlft.champions.sources import init_source

        source = init_source(cfg)

    def student(venv: "VecEnv") -> "BaseAlgorithm":
        """A fresh model for the env, or one starting from the champion or the init= source;
        cloned on the traces."""
        if cfg.champion.name != "none":
            from rlft.champions.loading import start_from_champion
            from rlft.champions.registry import Registry

            base, champion = Registry.for_config(cfg).load_model(cfg.champion.name, device=cfg.device)
            model = start_from_champion(cfg, venv, base, champion)
        else:
            model = build_model(cfg.hparams, venv, seed=cfg.seed, device=cfg.device)
            if source is not None:
                load_weights(model, venv, source.weights)
        traces = load(traces_dir, cfg.hparams.gamma or 0.99, cfg.distill.max_steps)
        imitation.update(behaviour_clone(model, traces, cfg.distill, cfg.seed))
        return model

    rl_cfg = cfg.copy()
    rl_cfg.hparams.total_timesteps = cfg.distill.rl_timesteps  # 0: imitation only, then the final evaluation
    champion = cfg.champion.name if cfg.champion.name != "none" else None
    run_training(
        rl_cfg,
        run,
        RunOptions(
            resume=bool(cfg.resume),
            model_factory=student,
            metrics_fields={
                "kind": "distill",
                "traces": str(traces_dir.resolve()),
                "champion": champion,
                **({"init": source.record()} if source else {}),
            },
        ),
    )
    file = MetricsFile.load(run.metrics_file)
    if imitation:  # empty on a resume past the cloning: keep what the first segment recorded
        file.update(distill=imitation)
    return file.data
