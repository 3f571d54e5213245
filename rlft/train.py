"""``python -m rlft.train``: the one entrypoint.

Dispatch: a champion means fine-tune, a curriculum means curriculum, otherwise a single training
run; ``-m`` turns any of them into a sweep. Heavy libraries are imported only once a run really
starts, so ``--help`` and ``--cfg job`` stay instant.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, cast

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from rlft.cli import user_errors
from rlft.config.compose import normalize_overrides
from rlft.config.metrics import metric_value
from rlft.config.options import CONFIG_DIR_ENV, check_project_dir, project_config_dir
from rlft.schema import register_configs
from rlft.workflows import CURRICULUM, DISTILL, FINETUNE, prepared, register_resolvers, run_kind

if TYPE_CHECKING:
    from rlft.runs.layout import RunFolder

log = logging.getLogger("rlft")

register_configs()
register_resolvers()


def _record_provenance(cfg: DictConfig, run_dir: Path, rewrite_config: bool = False) -> None:
    """command.txt, environment.json and, when the config that runs differs from the composed one
    (a fine-tune completed from its champion, a sweep job's own seed), that config in
    ``.hydra/config.yaml`` (Hydra's composition kept as ``composed_config.yaml``)."""
    from rlft.io import atomic_write_json, atomic_write_text
    from rlft.runs.layout import RunFolder
    from rlft.runs.provenance import command_line, environment_record

    run = RunFolder(run_dir)
    subdir = HydraConfig.get().output_subdir
    assert subdir is not None  # conf/config.yaml sets it (${rlft_hydra_subdir:})
    hydra_out = run_dir / subdir
    record = environment_record(cfg.seed, {"torch_threads": cfg.torch_threads, "device": cfg.device})
    if cfg.resume:
        previous = run.command_file.read_text(encoding="utf-8") if run.command_file.is_file() else ""
        atomic_write_text(run.command_file, previous + command_line() + "\n")
        atomic_write_json(hydra_out / "environment.json", record)
        atomic_write_text(hydra_out / "config.yaml", OmegaConf.to_yaml(cfg))  # what this segment ran with
    else:
        atomic_write_text(run.command_file, command_line() + "\n")
        atomic_write_json(run.environment_file, record)
        if rewrite_config:  # what ran (resume reads it)
            composed = hydra_out / "config.yaml"
            if composed.is_file():
                atomic_write_text(hydra_out / "composed_config.yaml", composed.read_text(encoding="utf-8"))
            atomic_write_text(composed, OmegaConf.to_yaml(cfg))


def _objective(metrics: dict, metric: str | None) -> float | None:
    """The final evaluation's ``optimized_metric`` (default: success rate if reported, else mean reward)."""
    final = metrics.get("final") or {}
    if metric is not None:
        return metric_value(final, metric, "optimized_metric") if final else None
    value = final.get("success_rate")
    return value if value is not None else final.get("mean_reward")


def run(cfg: DictConfig) -> float | None:
    """Run one job of the composed config; returns the metric a sweeper optimises.

    In a sweep (``-m``) each job runs in a process of its own (:mod:`rlft.sweep.isolation`) and a
    failing job, one that dies hard included, is recorded (``job.json``) and returns NaN instead of
    raising, so the other jobs run; each job gets its own seed (base + job number) unless ``seed=``
    is given.
    """
    hydra_cfg = HydraConfig.get()
    if hydra_cfg.mode != RunMode.MULTIRUN:
        with user_errors():  # here, not only around Hydra: it would add its own line for a job's error
            return _run(cfg)
    from rlft.sweep import jobs
    from rlft.sweep.isolation import run_isolated

    if not any(o.split("=", 1)[0].lstrip("+~") == "seed" for o in hydra_cfg.overrides.task):
        cfg.seed = jobs.derived_seed(cfg.seed, hydra_cfg.job.num)
    return run_isolated("rlft.train:sweep_job", cfg)


def sweep_job(cfg: DictConfig) -> None:
    """One sweep job's work, in the job's own process: how it ended goes to ``job.json``."""
    from rlft.sweep import jobs

    job_dir, fields = jobs.identity(cfg.seed)
    t0 = time.monotonic()
    try:
        objective = _run(cfg, in_sweep=True)
    except Exception as exc:  # noqa: BLE001  (any failure of one job must leave the sweep running)
        error = jobs.record_failure(job_dir, exc, **fields, wall_time_s=round(time.monotonic() - t0, 2))
        log.error("job %d failed: %s (the sweep goes on; see %s)", fields["job"], error, job_dir / jobs.JOB_FILE)
        return
    jobs.record(job_dir, jobs.OK, **fields, objective=objective, wall_time_s=round(time.monotonic() - t0, 2))


def _run(cfg: DictConfig, in_sweep: bool = False) -> float | None:
    cfg = prepared(cfg, list(HydraConfig.get().overrides.task))  # built and validated once per run
    kind = run_kind(cfg)
    run_dir = Path(HydraConfig.get().runtime.output_dir)
    # the config that runs differs from Hydra's composition: completed from a champion, or a sweep job's seed
    _record_provenance(cfg, run_dir, rewrite_config=in_sweep or cfg.champion.name != "none")

    from rlft.runs.layout import RunFolder
    from rlft.runs.lock import run_lock

    folder = RunFolder(run_dir)
    with run_lock(folder):
        metrics = _dispatch(cfg, kind, folder)
    final = metrics.get("final") or {}
    shown = ", ".join(f"{k}={v:.4g}" for k, v in final.items() if isinstance(v, float))
    log.info("%s: %s (%s)", metrics["status"], metrics["message"], shown)
    log.info("run folder: %s", run_dir)
    return _objective(metrics, cfg.optimized_metric)


def _dispatch(cfg: DictConfig, kind: str, folder: RunFolder) -> dict:
    """Run the kind of run ``cfg`` asks for in ``folder``."""
    if kind == CURRICULUM:
        from rlft.curriculum.runner import run_curriculum

        metrics = run_curriculum(cfg, folder, resume=bool(cfg.resume))
    elif kind == DISTILL:
        from rlft.traces.run import run_distill

        metrics = run_distill(cfg, folder)
    elif kind == FINETUNE:
        from rlft.finetune.run import run_finetune

        metrics = run_finetune(cfg, folder)
    else:
        from rlft.runs.reading import resume_checkpoint
        from rlft.training.run import RunOptions, run_training

        resume = bool(cfg.resume)
        options = RunOptions(resume=resume)
        if cfg.init and not (resume and resume_checkpoint(folder, warn=False)):  # new, or resumed before step 1
            from rlft.champions.sources import init_source

            source = init_source(cfg)  # the run's parent: its path and checksum
            options = RunOptions(resume=resume, init_from=source.weights, metrics_fields={"init": source.record()})
        metrics = run_training(cfg, folder, options)
    return metrics


@hydra.main(version_base="1.3", config_path="pkg://rlft.conf", config_name="config")
def _hydra_main(cfg: DictConfig) -> float | None:
    return run(cfg)


CONFIG_DIR_FLAGS = ("--config-dir", "-cd")
SHOW_FLAGS = ("--cfg", "-c")


def _flag_value(argv: list[str], flags: tuple[str, ...]) -> str | None:
    for i, arg in enumerate(argv):
        name, sep, value = arg.partition("=")
        if name in flags:
            return value if sep else (argv[i + 1] if i + 1 < len(argv) else None)
    return None


def _show_effective_config(argv: list[str]) -> bool:
    """``--cfg job|all`` of a fine-tune or a resume prints the config that will run (the champion's
    or the run's settings applied), which Hydra alone cannot know; other configs are Hydra's to show."""
    shown = _flag_value(argv, SHOW_FLAGS)
    overrides = [a for a in argv if "=" in a and not a.startswith("-")]
    if shown not in ("job", "all") or "-m" in argv or "--multirun" in argv:
        return False
    from rlft.config.compose import compose_config

    cfg = compose_config(overrides)
    if cfg.champion.name == "none" and not cfg.resume:
        return False
    from rlft.workflows import effective_config

    cfg = effective_config(cfg, overrides)
    if shown == "all":
        cfg = cast(DictConfig, OmegaConf.merge(cfg, {"hydra": compose_config(overrides, with_hydra=True).hydra}))
    print(OmegaConf.to_yaml(cfg, resolve="--resolve" in argv), end="")
    return True


def main(argv: list[str] | None = None) -> None:
    """``rlft train [group=option ...] [key=value ...]`` (= ``python -m rlft.train``)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    # Let errors reach user_errors() instead of Hydra's multi-line report.
    os.environ.setdefault("HYDRA_FULL_ERROR", "1")
    with user_errors():
        config_dir = _flag_value(argv, CONFIG_DIR_FLAGS)
        if config_dir:  # Hydra reads the flag itself; rlft's own option look-ups read the variable
            os.environ[CONFIG_DIR_ENV] = str(Path(config_dir).resolve())
        project = project_config_dir()
        check_project_dir(project)
        if project and not config_dir:  # Hydra's own flag, so --help lists the project's options too
            argv = ["--config-dir", str(project), *argv]
        argv = normalize_overrides(argv)
        if _show_effective_config(argv):
            return
    sys.argv[1:] = argv
    with user_errors():
        _hydra_main()


if __name__ == "__main__":
    main()
