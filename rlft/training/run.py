"""A single training run in a prepared run folder: build or restore, learn, evaluate, save."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from omegaconf import DictConfig

from rlft.algos.factory import algorithm_class, build_model, model_kwargs
from rlft.config.metrics import named_metrics, require_metrics
from rlft.envs.factory import env_factory, make_vec_env
from rlft.envs.normalization import find_vecnormalize, has_normalization, load_normalization_into
from rlft.errors import ConfigError
from rlft.evaluation import EpisodeRunner
from rlft.io import read_json
from rlft.runs.layout import EXPORT_WEIGHTS, RunFolder
from rlft.runs.layout import WEIGHTS_FILE as CHAMPION_WEIGHTS
from rlft.runs.lock import run_lock
from rlft.runs.metrics import COMPLETED, EARLY_STOPPED, FAILED, RUNNING, MetricsFile
from rlft.runs.reading import resume_checkpoint
from rlft.runs.recovery import BEST_FOLDER, recover, rewind_best
from rlft.training.callbacks import RunCallback, Schedule, StopRule
from rlft.training.checkpoints import MODEL_FILE, REPLAY_FILE, STATE_FILE, save_checkpoint, write_model_folder
from rlft.training.early_stop import EarlyStopper
from rlft.training.freeze import apply_freeze
from rlft.training.progress import Progress
from rlft.training.tensorboard import TensorBoardTarget

if TYPE_CHECKING:
    from stable_baselines3.common.base_class import BaseAlgorithm
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.vec_env import VecEnv

log = logging.getLogger("rlft")


def configure_torch(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)


def _wrap_normalization(cfg: DictConfig, venv: "VecEnv") -> "VecEnv":
    norm = cfg.env.normalize
    if not (norm.obs or norm.reward):
        return venv
    from stable_baselines3.common.vec_env import VecNormalize

    return VecNormalize(
        venv,
        norm_obs=norm.obs,
        norm_reward=norm.reward,
        clip_obs=norm.clip_obs,
        clip_reward=norm.clip_reward,
        gamma=cfg.hparams.gamma or 0.99,
    )


def _restore(cfg: DictConfig, checkpoint: Path, venv: "VecEnv") -> "BaseAlgorithm":
    """Load a checkpoint with the (possibly overridden) hyperparameters; counters and optimizer
    state come back from the zip, so LR schedules continue where they were."""
    from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm

    kwargs = model_kwargs(cfg.hparams, venv.action_space)
    kwargs.pop("policy_kwargs")  # the architecture is the saved one
    model = algorithm_class(cfg.hparams.algo).load(checkpoint / MODEL_FILE, env=venv, device=cfg.device, **kwargs)
    norm = find_vecnormalize(venv)
    if norm is not None and has_normalization(checkpoint):
        load_normalization_into(norm, checkpoint)
    if isinstance(model, OffPolicyAlgorithm) and (checkpoint / REPLAY_FILE).is_file():
        model.load_replay_buffer(checkpoint / REPLAY_FILE)
    model.set_random_seed(cfg.seed + model.num_timesteps)
    return model


def weights_file(path: Path) -> Path:
    """The weights a model folder starts a model from: a champion's or an HF export's safetensors
    (never the champion's zip), else its SB3 ``model.zip``; a file is itself."""
    if path.is_file():
        return path
    return next((path / n for n in (CHAMPION_WEIGHTS, EXPORT_WEIGHTS) if (path / n).is_file()), path / MODEL_FILE)


def load_weights(model: "BaseAlgorithm", venv: "VecEnv", source: Path) -> None:
    """Start ``model`` from the policy (and normalisation stats) of another model: a model folder or
    a weights file (safetensors, or an SB3 zip whose tensors only are read, nothing unpickled).

    Only the weights and optimizer state move; the hyperparameters, step counter and schedules are
    ``model``'s own, so a new stage or fine-tune can change ``n_steps``, ``n_envs`` or the LR.
    """
    weights = weights_file(source)
    folder = weights.parent
    try:
        if weights.suffix == ".safetensors":
            from safetensors.torch import load_model

            load_model(model.policy, str(weights), device=str(model.device))
        else:
            model.set_parameters(str(weights), exact_match=True, device=model.device)
    except (ValueError, RuntimeError, KeyError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(
            f"the model in {weights} does not fit this run's network ({first_line}): "
            "keep hparams.policy and hparams.policy_kwargs as they were"
        ) from None
    norm = find_vecnormalize(venv)
    if norm is not None and has_normalization(folder):
        load_normalization_into(norm, folder)


@dataclass
class RunOptions:
    """How a run starts and reports, beyond its config.

    :param resume: continue from the run folder's latest checkpoint.
    :param init_from: a model folder or weights file whose weights start a new run (a curriculum
        handoff, ``init=``).
    :param tensorboard: where scalars go; default the run folder's ``tb/`` at the run's own steps.
    :param model_factory: builds the starting model for the training VecEnv instead of
        ``build_model`` (a fine-tune loads its champion); ignored when resuming from a checkpoint.
    :param prepare: called with the model once it is built or restored (after ``hparams.freeze``),
        for runtime state a checkpoint does not hold, e.g. a fine-tune's anchoring hook.
    :param venv_factory: builds the training VecEnv from (n_envs, seed), e.g. with rehearsal envs.
    :param stop_rules: extra rules fed every evaluation (after early stopping), e.g. promotion.
    :param metrics_fields: extra fields of a new ``metrics.json``.
    :param callbacks: more SB3 callbacks after the run's own (e.g. a fine-tune's phase switcher).
    :param first_step: the step counter a new run's model starts at (``model_factory`` sets it on
        the model): a fine-tune with ``finetune.continue_steps`` continues its champion's count, so
        the run trains ``hparams.total_timesteps`` more steps, up to ``first_step`` + that.
    """

    resume: bool = False
    init_from: Path | None = None
    tensorboard: TensorBoardTarget | None = None
    model_factory: Callable[["VecEnv"], "BaseAlgorithm"] | None = None
    prepare: Callable[["BaseAlgorithm"], None] | None = None
    venv_factory: Callable[[int, int], "VecEnv"] | None = None  # (n_envs, seed) -> VecEnv; default make_vec_env
    stop_rules: tuple[StopRule, ...] = ()
    metrics_fields: dict[str, Any] = field(default_factory=dict)
    callbacks: tuple["BaseCallback", ...] = ()
    first_step: int = 0


def _start_model(
    cfg: DictConfig, venv: "VecEnv", latest: tuple[int, Path] | None, options: RunOptions
) -> "BaseAlgorithm":
    if latest:
        return _restore(cfg, latest[1], venv)
    if options.model_factory is not None:
        return options.model_factory(venv)
    model = build_model(cfg.hparams, venv, seed=cfg.seed, device=cfg.device)
    if options.init_from is not None:
        load_weights(model, venv, options.init_from)
    return model


def run_training(cfg: DictConfig, run: RunFolder, options: RunOptions | None = None) -> dict[str, Any]:
    """Train until ``hparams.total_timesteps`` (or early stop); return the metrics dict. The run
    folder is locked meanwhile; a resume first repairs what a crash left and continues from the
    newest valid checkpoint."""
    with run_lock(run):
        return _train(cfg, run, options or RunOptions())


def _train(cfg: DictConfig, run: RunFolder, options: RunOptions) -> dict[str, Any]:
    resume = options.resume
    configure_torch(cfg.torch_threads)
    total = options.first_step + int(cfg.hparams.total_timesteps)
    if resume:
        recover(run)
    latest = resume_checkpoint(run) if resume else None
    start = latest[0] if latest else options.first_step
    state: dict[str, Any] = read_json(latest[1] / STATE_FILE) if latest else {}
    finished = _finished_record(cfg, run, start, total, state) if latest else None
    if finished is not None:  # evaluating the same weights again would add a second point at one step
        log.info("run already finished at step %d (%s): nothing to train or evaluate", start, finished["status"])
        return finished

    make = options.venv_factory or (lambda n, seed: make_vec_env(cfg, n, seed))
    venv = _wrap_normalization(cfg, make(cfg.env.n_envs, cfg.seed + start))
    try:
        model = _start_model(cfg, venv, latest, options)
        frozen = apply_freeze(model, cfg.hparams.algo, list(cfg.hparams.freeze))  # again after every load: not saved
        if options.prepare is not None:
            options.prepare(model)
    except BaseException:
        venv.close()
        raise
    if frozen:
        log.info("frozen: %d parameter tensors under %s", len(frozen), ", ".join(cfg.hparams.freeze))
    target = options.tensorboard or TensorBoardTarget(run.tb_dir)
    model.set_logger(replace(target, resumed_at=start if latest else None).make_logger())

    if resume and run.metrics_file.is_file():
        metrics = MetricsFile.load(run.metrics_file)
        # with nothing left to train, the final evaluation at ``start`` is made again: drop a first one
        # (killed after the last checkpoint, before the run was marked finished)
        metrics.truncate_after(start if _budget_left(cfg, start, total, state) else start - 1)
        if latest is None or BEST_FOLDER in state:  # from step 0, no best survives
            metrics.data["best"] = rewind_best(run, state)
        metrics.update(
            status=RUNNING,
            message=f"resumed from step {start}",
            total_timesteps=start,
            target_timesteps=total,
            resumes=metrics.data.get("resumes", 0) + 1,
        )
    else:
        metrics = MetricsFile.create(
            run.metrics_file,
            **{"kind": "train", **options.metrics_fields},
            experiment_name=cfg.experiment_name,
            seed=cfg.seed,
            target_timesteps=total,
        )
    if start >= total:
        log.info("run already at %d of %d steps: nothing to train", start, total)

    eval_envs = EpisodeRunner(env_factory(cfg), cfg.eval.n_envs)
    norm = find_vecnormalize(venv)

    def evaluate(episodes: int):
        return eval_envs.evaluate(
            model,
            range(cfg.eval.seed, cfg.eval.seed + episodes),
            deterministic=cfg.eval.deterministic,
            obs_transform=norm.normalize_obs if norm is not None else None,
        )

    wall_before = float(state.get("wall_time_s", 0.0))
    t0 = time.monotonic()
    progress = Progress(cfg.progress, total, start, cfg.progress_every_s)
    callback = RunCallback(
        run,
        metrics,
        lambda: evaluate(cfg.eval.episodes),
        Schedule.starting_at(cfg.eval.every, cfg.checkpoint.every, start),
        EarlyStopper(cfg.early_stop, state.get("early_stop")),
        progress,
        best_preference=cfg.eval.metric,
        best_mode=cfg.eval.mode,
        checkpoint_keep=cfg.checkpoint.keep,
        save_replay_buffer=cfg.checkpoint.save_replay_buffer,
        extra_state=lambda: {"wall_time_s": wall_before + time.monotonic() - t0},
        stop_rules=options.stop_rules,
        required_metrics=named_metrics(cfg),
        max_episodes=cfg.hparams.episodes,
        episodes_done=int(state.get("episodes_done", 0)),
        final_episodes=cfg.eval.final_episodes,
    )
    callback.stop_reason = state.get("stop_reason")
    from stable_baselines3.common.callbacks import CallbackList

    callbacks = CallbackList([callback, *options.callbacks]) if options.callbacks else callback
    try:
        if start < total and callback.stop_reason is None and not callback.episode_budget_spent:
            # reset_num_timesteps=False continues the counter: SB3's schedules then run over start..total
            model.learn(total - start, callback=callbacks, reset_num_timesteps=start == 0, log_interval=1)
        progress.close(model.num_timesteps)
        train_time_s = wall_before + time.monotonic() - t0  # before the final evaluation and saves
        final = _finish(cfg, run, model, venv, callback, metrics, evaluate, total)
        metrics.update(train_time_s=round(train_time_s, 2))
    except BaseException as exc:  # record why the run ended, then let the error surface
        progress.close(model.num_timesteps)
        metrics.update(status=FAILED, message=f"{type(exc).__name__}: {exc}", total_timesteps=model.num_timesteps)
        raise
    finally:
        model.logger.close()  # flushes TensorBoard's event file
        eval_envs.close()
        venv.close()
    return final


def _budget_left(cfg: DictConfig, start: int, total: int, state: dict[str, Any]) -> bool:
    return (
        start < total
        and state.get("stop_reason") is None
        and not (cfg.hparams.episodes is not None and int(state.get("episodes_done", 0)) >= cfg.hparams.episodes)
    )


def _finished_record(
    cfg: DictConfig, run: RunFolder, start: int, total: int, state: dict[str, Any]
) -> dict[str, Any] | None:
    """The metrics of a run that has nothing left to do at its checkpoint (budget spent or stopped)
    and already holds its final evaluation there; None when there is work (a larger budget)."""
    if _budget_left(cfg, start, total, state) or not run.metrics_file.is_file() or not run.final_dir.is_dir():
        return None
    data = MetricsFile.load(run.metrics_file).data
    final = data.get("final") or {}
    done = data.get("status") in (COMPLETED, EARLY_STOPPED) and final.get("timesteps") == start
    return data if done else None


def _ending(callback: RunCallback, steps: int, total: int) -> tuple[str, str]:
    """Which limit ended the run (``stop_rule``, ``episodes`` or ``total_timesteps``) and its message:
    with both budgets set, the one that did not bind is named too."""
    if callback.stop_reason:
        return "stop_rule", callback.stop_reason
    episodes = f"{callback.episodes_done} episodes (hparams.episodes={callback.max_episodes})"
    if callback.episode_budget_spent:
        return "episodes", f"trained {episodes} in {steps} steps"
    if callback.max_episodes is not None:
        return "total_timesteps", (
            f"trained {steps} of {total} steps: the step cap (hparams.total_timesteps) ended the run after {episodes}; "
            "raise hparams.total_timesteps to train all the episodes"
        )
    return "total_timesteps", f"trained {steps} of {total} steps"


def _finish(
    cfg: DictConfig,
    run: RunFolder,
    model: "BaseAlgorithm",
    venv: "VecEnv",
    callback: RunCallback,
    metrics: MetricsFile,
    evaluate,
    total: int,
) -> dict[str, Any]:
    """Final evaluation, final/ and a last checkpoint (so ``resume`` with a larger budget extends).
    A run stopped by an evaluation (early stopping, a stage's promotion) that played at least
    ``eval.final_episodes`` episodes keeps it as its final one: the weights are the same."""
    if getattr(callback, "model", None) is None:  # nothing was left to learn
        callback.init_callback(model)
    last = callback.last_eval
    if callback.stopped_at_final_eval and last is not None and last["timesteps"] == model.num_timesteps:
        # stopped at that evaluation, nothing trained since: the same weights on the same seeds
        final = {key: value for key, value in last.items() if key != "eval_time_s"}
    else:
        t0 = time.monotonic()
        summary = evaluate(cfg.eval.final_episodes).summary()
        require_metrics(summary, callback.required_metrics)
        callback.log_eval(summary)
        final = {"timesteps": model.num_timesteps, **summary}
        # the learning curve ends at the final model; its entry has every field the others have
        metrics.add_eval({**final, "eval_time_s": round(time.monotonic() - t0, 3)})
    state = callback.state()
    write_model_folder(run, run.final_dir, model, venv, {**state, **final})
    if metrics.data.get("best") is None:
        write_model_folder(run, run.best_dir, model, venv, {**state, **final})
        metrics.data["best"] = {"timesteps": model.num_timesteps, "metric": "final", "value": None}
        state = callback.state()  # the checkpoint names this best
    save_checkpoint(run, model, venv, state, cfg.checkpoint.keep, cfg.checkpoint.save_replay_buffer)
    status = EARLY_STOPPED if callback.stop_reason else COMPLETED
    ended_by, message = _ending(callback, model.num_timesteps, total)
    metrics.update(
        status=status,
        message=message,
        ended_by=ended_by,
        total_timesteps=model.num_timesteps,
        final=final,
        training_episodes=callback.episodes_done,
        wall_time_s=round(state["wall_time_s"], 2),
    )
    from rlft.plots import plot_learning_curve

    plot_learning_curve(metrics.data, run.plots_dir / "learning_curve.png")
    return metrics.data
