"""A fine-tune run: the champion's model (rebuilt from its manifest and safetensors, a fresh
optimizer) trained with the fine-tune's hyperparameters on the chosen stage. The champion folder
is only read."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from omegaconf import DictConfig

from rlft.algos.factory import algorithm_class, build_model
from rlft.champions.registry import Champion, Registry
from rlft.envs.factory import make_vec_env, rehearsal_split
from rlft.envs.normalization import find_vecnormalize, has_normalization, load_normalization_into
from rlft.finetune import pre_post
from rlft.finetune.anchor import anchor_weights, attach_l2sp, l2_distance
from rlft.io import read_json
from rlft.plots import plot_pre_post
from rlft.runs.layout import RunFolder
from rlft.runs.metrics import MetricsFile
from rlft.training.checkpoints import MODEL_FILE
from rlft.training.run import RunOptions, run_training

if TYPE_CHECKING:
    from stable_baselines3.common.base_class import BaseAlgorithm
    from stable_baselines3.common.vec_env import VecEnv


log = logging.getLogger("rlft")


def _load_champion(cfg: DictConfig, registry: Registry, ref: str) -> tuple["BaseAlgorithm", Champion]:
    """The champion as registered (its own hparams), for the before evaluation and the anchor."""
    venv = make_vec_env(cfg, 1, cfg.seed)
    try:
        return registry.load_model(ref, venv, device=cfg.device)
    finally:
        venv.close()


def _after(cfg: DictConfig, run: RunFolder, manifest: dict[str, Any]) -> dict[str, Any]:
    model = algorithm_class(cfg.hparams.algo).load(run.final_dir / MODEL_FILE, device=cfg.device)  # our own run
    return pre_post.evaluate_stages(cfg, manifest, model, run.final_dir, cfg.eval.final_episodes)


def run_finetune(cfg: DictConfig, run: RunFolder) -> dict[str, Any]:
    """Evaluate the champion, fine-tune, evaluate the result: ``metrics.json`` gets ``pre_post``."""
    registry = Registry(cfg.paths.registry)
    ref = cfg.champion.name

    base, champion = _load_champion(cfg, registry, ref)

    def champion_model(venv: "VecEnv") -> "BaseAlgorithm":
        """The fine-tune's own hparams (the champion's network: finetune_config pins it), the
        champion's weights and normalisation stats, a fresh optimizer."""
        model = build_model(cfg.hparams, venv, seed=cfg.seed, device=cfg.device)
        model.policy.load_state_dict(base.policy.state_dict())
        norm = find_vecnormalize(venv)
        if norm is not None and has_normalization(champion.folder):
            load_normalization_into(norm, champion.folder)
        return model

    anchor = anchor_weights(base)
    trained: dict[str, Any] = {}

    def attach_anchor(model: "BaseAlgorithm") -> None:
        trained["model"] = model
        if cfg.finetune.anchor == "l2sp":
            attach_l2sp(model, anchor, cfg.finetune.anchor_coef)
            log.info("L2-SP anchoring to %s with coefficient %g", ref, cfg.finetune.anchor_coef)

    previous = read_json(run.metrics_file) if cfg.resume and run.metrics_file.is_file() else {}
    before = previous.get("before") or pre_post.evaluate_stages(cfg, champion.manifest, base, champion.folder,
                                                                cfg.eval.final_episodes)
    original = pre_post.original_config(cfg, champion.manifest)

    def rehearsing_venv(n_envs: int, seed: int) -> "VecEnv":
        return make_vec_env(cfg, n_envs, seed, rehearse=(original, cfg.finetune.rehearsal))

    venv_factory = rehearsing_venv if cfg.finetune.rehearsal > 0 else None
    if venv_factory is not None:
        log.info("rehearsal: %d of %d envs on the original stage %s", rehearsal_split(cfg.env.n_envs, cfg.finetune.rehearsal),
                 cfg.env.n_envs, pre_post.stage_label(original))
    options = RunOptions(resume=bool(cfg.resume), model_factory=champion_model, prepare=attach_anchor,
                         venv_factory=venv_factory,
                         metrics_fields={"kind": "finetune", "champion": champion.ref, "before": before,
                                         "champion_success": champion.manifest["metrics"]["success_rate"]})
    run_training(cfg, run, options)
    result = pre_post.assemble(cfg, champion.manifest, before, _after(cfg, run, champion.manifest))
    file = MetricsFile.load(run.metrics_file)
    file.update(pre_post=result, finetune={
        "anchor": cfg.finetune.anchor, "anchor_coef": cfg.finetune.anchor_coef, "rehearsal": cfg.finetune.rehearsal,
        "distance_to_champion": round(l2_distance(trained["model"], anchor), 6)})
    plot_pre_post(result, run.plots_dir / "pre_post.png", title=f"{cfg.experiment_name} from {champion.ref}")
    log.info("fine-tune of %s over %d fixed-seed episodes:\n%s", champion.ref, result["episodes"],
             pre_post.table(result))
    return file.data
