"""A fine-tune run: the champion's model (rebuilt from its manifest and safetensors; a fresh
optimizer or the champion's kept one) trained with the fine-tune's hyperparameters on the chosen
stage, with the configured anchoring, rehearsal or phases. The champion folder is only read."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from omegaconf import DictConfig

from rlft.algos.factory import algorithm_class
from rlft.champions.loading import load_optimizer_state, start_from_champion
from rlft.champions.registry import Registry
from rlft.envs.factory import make_vec_env, mixed_vec_env, rehearsal_split, split_envs
from rlft.finetune import pre_post
from rlft.finetune.anchor import anchor_weights, attach_kl, attach_l2sp, champion_states, diagonal_fisher, l2_distance
from rlft.finetune.phases import Phase, parse_phases, phase_at, phase_switcher, stage_config
from rlft.finetune.schema import ANCHORS_ON_CHAMPION_STATES
from rlft.io import read_json
from rlft.plots import plot_pre_post
from rlft.runs.layout import RunFolder
from rlft.runs.metrics import MetricsFile
from rlft.training.checkpoints import MODEL_FILE
from rlft.training.run import RunOptions, run_training

if TYPE_CHECKING:
    from stable_baselines3.common.base_class import BaseAlgorithm
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.vec_env import VecEnv


log = logging.getLogger("rlft")


def _after(cfg: DictConfig, run: RunFolder, manifest: dict[str, Any]) -> dict[str, Any]:
    model = algorithm_class(cfg.hparams.algo).load(run.final_dir / MODEL_FILE, device=cfg.device)  # our own run
    return pre_post.evaluate_stages(cfg, manifest, model, run.final_dir, cfg.eval.final_episodes)


def champion_step(manifest: dict[str, Any]) -> int:
    """The step count of the champion's model: of its source run's best or final evaluation."""
    metrics = manifest["metrics"]
    record = metrics.get(metrics.get("source") or "best") or {}
    return int(record.get("timesteps") or metrics.get("total_timesteps") or 0)


def _attach_anchor(
    cfg: DictConfig, model: "BaseAlgorithm", base: "BaseAlgorithm", weights: dict, original: DictConfig, ref: str
) -> None:
    """The runtime hook of ``finetune.anchor`` (none, l2sp, ewc, kl) on ``model``'s optimizer."""
    ft = cfg.finetune
    if ft.anchor == "none":
        return
    if ft.anchor == "l2sp":
        attach_l2sp(model, weights, ft.anchor_coef)
    else:
        venv = make_vec_env(original, original.env.n_envs, cfg.seed)
        try:
            states = champion_states(base, venv, ft.anchor_samples)
        finally:
            venv.close()
        if ft.anchor == "ewc":
            attach_l2sp(model, weights, ft.anchor_coef, importance=diagonal_fisher(base, states))
        else:
            attach_kl(model, base, states, ft.anchor_coef, batch_size=cfg.hparams.batch_size or 64, seed=cfg.seed)
    extra = (
        f" ({ft.anchor_samples} champion states on {pre_post.stage_label(original)})"
        if ft.anchor in ANCHORS_ON_CHAMPION_STATES
        else ""
    )
    log.info("%s anchoring to %s with coefficient %g%s", ft.anchor, ref, ft.anchor_coef, extra)


def _venv_factory(cfg: DictConfig, original: DictConfig, phases: list[Phase], start: int):
    """Builds the training VecEnv: with rehearsal or the phase running at ``start``, else None."""
    if phases:
        phase = phases[phase_at(phases, start)]
        log.info("%d phases; from step %d: %s", len(phases), start, phase.label())
        return lambda n_envs, seed: make_vec_env(cfg, n_envs, seed, mix=_phase_mix(cfg, original, phase, n_envs))
    if cfg.finetune.rehearsal > 0:
        log.info(
            "rehearsal: %d of %d envs on the original stage %s",
            rehearsal_split(cfg.env.n_envs, cfg.finetune.rehearsal),
            cfg.env.n_envs,
            pre_post.stage_label(original),
        )

        def rehearsing(n_envs: int, seed: int) -> "VecEnv":
            k = rehearsal_split(n_envs, cfg.finetune.rehearsal)
            return make_vec_env(cfg, n_envs, seed, mix=[(cfg, n_envs - k), (original, k)])

        return rehearsing
    return None


def _phase_mix(cfg: DictConfig, original: DictConfig, phase: Phase, n_envs: int) -> list[tuple[DictConfig, int]]:
    counts = split_envs(n_envs, [share for _, share in phase.mix])
    return [(stage_config(cfg, original, key), n) for (key, _), n in zip(phase.mix, counts)]


def run_finetune(cfg: DictConfig, run: RunFolder) -> dict[str, Any]:
    """Evaluate the champion, fine-tune, evaluate the result: ``metrics.json`` gets ``pre_post``."""
    registry = Registry.for_config(cfg)
    ref = cfg.champion.name
    ft = cfg.finetune

    base, champion = registry.load_model(ref, device=cfg.device)  # as registered: its own hparams
    first_step = champion_step(champion.manifest) if ft.continue_steps else 0

    def champion_model(venv: "VecEnv") -> "BaseAlgorithm":
        """A fresh optimizer unless ``optimizer=kept``; the counter at ``first_step``."""
        model = start_from_champion(cfg, venv, base, champion)
        if ft.optimizer == "kept":
            load_optimizer_state(champion, model)
        model.num_timesteps = first_step
        return model

    weights = anchor_weights(base)
    original = pre_post.original_config(cfg, champion.manifest)
    trained: dict[str, Any] = {}

    def prepare(model: "BaseAlgorithm") -> None:
        trained["model"] = model
        _attach_anchor(cfg, model, base, weights, original, ref)

    previous = read_json(run.metrics_file) if cfg.resume and run.metrics_file.is_file() else {}
    before = previous.get("before") or pre_post.evaluate_stages(
        cfg, champion.manifest, base, champion.folder, cfg.eval.final_episodes
    )
    phases = parse_phases(cfg)
    latest = run.latest_checkpoint() if cfg.resume else None
    start = latest[0] if latest else 0
    switcher: tuple[BaseCallback, ...] = ()
    if phases:
        switcher = (
            phase_switcher(
                phases,
                lambda phase, seed: mixed_vec_env(_phase_mix(cfg, original, phase, cfg.env.n_envs), seed).parts,
                start,
                cfg.seed,
            ),
        )
    options = RunOptions(
        resume=bool(cfg.resume),
        model_factory=champion_model,
        prepare=prepare,
        venv_factory=_venv_factory(cfg, original, phases, start),
        callbacks=switcher,
        first_step=first_step,
        metrics_fields={
            "kind": "finetune",
            "champion": champion.ref,
            "before": before,
            "champion_success": champion.manifest["metrics"]["success_rate"],
            "first_step": first_step,
        },
    )
    run_training(cfg, run, options)
    result = pre_post.assemble(cfg, champion.manifest, before, _after(cfg, run, champion.manifest))
    file = MetricsFile.load(run.metrics_file)
    file.update(
        pre_post=result,
        finetune={
            "anchor": ft.anchor,
            "anchor_coef": ft.anchor_coef,
            "rehearsal": ft.rehearsal,
            "optimizer": ft.optimizer,
            "continue_steps": ft.continue_steps,
            "phases": [{"timesteps": p.timesteps, "mix": dict(p.mix)} for p in phases],
            "distance_to_champion": round(l2_distance(trained["model"], weights), 6),
        },
    )
    plot_pre_post(result, run.plots_dir / "pre_post.png", title=f"{cfg.experiment_name} from {champion.ref}")
    log.info(
        "fine-tune of %s over %d fixed-seed episodes:\n%s", champion.ref, result["episodes"], pre_post.table(result)
    )
    return file.data
