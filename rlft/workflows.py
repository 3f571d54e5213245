"""The workflow layer: which kind of run a config asks for, the config it really runs with, its
checks, and its run folder.

One run prepares its config once: :class:`rlft.hydra_callbacks.ValidateBeforeRun` calls
:func:`prepare_run` before Hydra creates anything (an invalid config writes nothing), which builds
the effective config (a resumed run's saved config plus overrides, or a fine-tune's completed from
its champion), validates it with each feature's checks, then claims the run folder and pins
``hydra.run.dir`` to it. The task function then takes that prepared config with :func:`prepared`
instead of building and validating it again. A sweep job does not pass through ``on_run_start``, so
:func:`prepared` builds and validates it there, once.

Light at import (``python -m rlft.train --cfg job`` imports it): features are imported inside the
functions that need them.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any, Sequence

from omegaconf import DictConfig, OmegaConf, open_dict, read_write

from rlft.config import resolvers as config_resolvers
from rlft.config.checks import folder_name, require, sound_settings
from rlft.config.schema import NONE, on_schema
from rlft.errors import ENVIRONMENT_ERRNOS, ConfigError, RunFolderError
from rlft.runs.layout import RunFolder

TRAIN, CURRICULUM, FINETUNE, DISTILL = "train", "curriculum", "finetune", "distill"
CONFIG_GROUPS = ("env", "stage", "hparams", "champion", "curriculum", "experiment", "finetune", "hparams_search")


# -- the kind of run -----------------------------------------------------------------------------
def run_kind(cfg: DictConfig) -> str:
    """Dispatch rule: traces mean distill (from a champion, if given), a champion means fine-tune,
    a curriculum means curriculum, else train."""
    if cfg.distill.traces is not None:
        return DISTILL
    if cfg.champion.name != NONE:
        return FINETUNE
    if cfg.curriculum.name != NONE:
        return CURRICULUM
    return TRAIN


# -- the run folder ------------------------------------------------------------------------------
def run_folder_name(cfg: DictConfig, timestamp: datetime) -> str:
    prefix = {FINETUNE: "FT_", DISTILL: "BC_"}.get(run_kind(cfg), "")
    return f"{prefix}{cfg.experiment_name}_{timestamp:%Y-%m-%d_%H-%M-%S}"


def planned_run_dir(cfg: DictConfig, timestamp: datetime | None = None) -> Path:
    """Where a fresh run of ``cfg`` goes, ``<output_dir>/<kind>/<name>_<timestamp>`` (nothing is created)."""
    return Path(cfg.paths.output_dir) / run_kind(cfg) / run_folder_name(cfg, timestamp or datetime.now())


def claim_new_run_dir(cfg: DictConfig) -> Path:
    """Create and return a fresh run folder ``<output_dir>/<kind>/<name>_<timestamp>``.

    ``os.mkdir`` is atomic, so two runs started in the same second (parallel sweep jobs) get
    distinct folders: the second one takes a ``-2`` suffix.
    """
    base = planned_run_dir(cfg)
    try:
        base.parent.mkdir(parents=True, exist_ok=True)
        for attempt in range(1, 1000):
            candidate = base if attempt == 1 else base.with_name(f"{base.name}-{attempt}")
            try:
                os.mkdir(candidate)
                return candidate
            except FileExistsError:
                continue
    except OSError as exc:  # a read-only or full disk, a path through a file: the user's to fix
        if exc.errno not in ENVIRONMENT_ERRNOS:
            raise
        raise RunFolderError(
            f"cannot create the run folder under paths.output_dir={cfg.paths.output_dir}: "
            f"{exc.strerror} ({exc.filename}); choose a writable folder"
        ) from None
    raise RuntimeError(f"could not create a unique run folder under {base.parent}")


def run_dir(*, _root_: Any) -> str:
    """Resolver ``rlft_run_dir`` (``hydra.run.dir``): the resumed folder, or where a fresh run would
    go. Pure: printing a config (``--cfg all --resolve``) creates nothing; :func:`prepare_run`
    claims the folder and pins ``hydra.run.dir`` before Hydra would create it."""
    if _root_.resume:
        return str(Path(_root_.resume))
    return str(planned_run_dir(_root_))


def register_resolvers() -> None:
    """The config's own resolvers plus ``rlft_run_dir``, which needs the run kind."""
    config_resolvers.register_resolvers()
    if not OmegaConf.has_resolver("rlft_run_dir"):
        OmegaConf.register_new_resolver("rlft_run_dir", run_dir)


# -- the effective config ------------------------------------------------------------------------
def _structured(saved: DictConfig) -> DictConfig:
    merged = on_schema(saved)
    OmegaConf.set_struct(merged, True)
    return merged


def resume_config(cfg: DictConfig, overrides: Sequence[str]) -> DictConfig:
    """``resume=<run dir>`` continues the run with the config it was started with
    (``.hydra/config.yaml``), plus the plain ``key=value`` overrides given alongside (e.g. a larger
    ``hparams.total_timesteps`` or a new ``hparams.lr``). Switching a config group on resume would
    make a different run, so it is refused."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    from rlft.runs.reading import saved_config

    run = RunFolder(Path(cfg.resume))
    if not run.config_file.is_file():
        raise RunFolderError(f"resume={cfg.resume!r} is not an rlft run folder (no .hydra/config.yaml)")
    merged = _structured(saved_config(run))
    for override in OverridesParser.create().parse_overrides(list(overrides)):
        key = override.key_or_group
        if key == "resume" or override.is_hydra_override():
            continue
        if key in CONFIG_GROUPS or override.package is not None:
            raise ConfigError(
                f"{override.input_line}: a config group cannot change on resume; "
                f"start a new run instead, or override single keys (e.g. {key}.<field>=...)"
            )
        if override.is_delete() or override.is_sweep_override():
            raise ConfigError(f"{override.input_line}: only plain key=value overrides work with resume=")
        OmegaConf.update(merged, key, override.value(), merge=True)
    merged.resume = cfg.resume
    return merged


def effective_config(cfg: DictConfig, overrides: Sequence[str]) -> DictConfig:
    """The config a run will use: the resumed run's config plus overrides, a fine-tune's
    (completed from its champion), or the composed one."""
    if cfg.resume:
        return resume_config(cfg, overrides)
    if cfg.champion.name != NONE:
        from rlft.finetune.config import finetune_config

        return finetune_config(cfg, overrides)
    return cfg


# -- validation ----------------------------------------------------------------------------------
def validate_resume(cfg: DictConfig) -> None:
    """A resumed folder must be a run no living process holds and, for a training run, have a
    checkpoint to continue from (or no steps done yet)."""
    if not cfg.resume:
        return
    from rlft.runs.lock import RunInUse, describe, live_holder
    from rlft.runs.reading import resume_checkpoint

    folder = RunFolder(Path(cfg.resume))
    if not folder.is_run():
        raise RunFolderError(
            f"resume={cfg.resume!r} is not an rlft run folder (expected {folder.config_file.name} in "
            f".hydra/ and {folder.metrics_file.name}): pass a folder under {cfg.paths.output_dir}/"
        )
    living = live_holder(folder)
    if living is not None:
        raise RunInUse(f"resume={cfg.resume!r}: the run is in use by {describe(living)}: wait for it to finish")
    if run_kind(cfg) == TRAIN:
        resume_checkpoint(folder, warn=False)


def validate(cfg: DictConfig) -> None:
    """All checks that need no model, each feature checking its own block: call before creating
    anything on disk."""
    from rlft.champions.schema import validate_champion
    from rlft.champions.sources import validate_init
    from rlft.curriculum.schema import require_enabled, validate_curriculum, whole_curriculum_hint
    from rlft.envs.checks import validate_env
    from rlft.finetune.schema import validate_finetune
    from rlft.traces.schema import validate_distill
    from rlft.training.schema import validate_hparams, validate_resumed_spaces, validate_run_settings, validate_spaces

    validate_resume(cfg)
    sound_settings(cfg)
    folder_name(cfg, "experiment_name")
    validate_hparams(cfg)
    validate_run_settings(cfg)
    validate_finetune(cfg)
    validate_env(cfg)
    kind = run_kind(cfg)
    require_enabled(cfg)
    require(
        not cfg.init or kind in (TRAIN, CURRICULUM, DISTILL),
        f"init={cfg.init} starts a training run, a curriculum or a distillation; a fine-tune starts from "
        "its champion= (register the source first: rlft register RUN name=NAME)",
    )
    require(
        not (cfg.init and kind == DISTILL and cfg.champion.name != NONE),
        f"init={cfg.init} and champion={cfg.champion.name} both name the student's start: give one",
    )
    if kind == CURRICULUM:
        validate_curriculum(cfg)
        return
    require(cfg.stage.name != "all", f"stage=all runs a whole curriculum: {whole_curriculum_hint(cfg)}")
    if kind == FINETUNE or (kind == DISTILL and cfg.champion.name != NONE):
        validate_champion(cfg)
    if kind == DISTILL:
        validate_distill(cfg)
    validate_spaces(cfg)
    if kind in (TRAIN, DISTILL):
        validate_init(cfg)
    if cfg.resume:
        validate_resumed_spaces(cfg)


# -- once per run --------------------------------------------------------------------------------
_ready: dict[str, DictConfig | None] = {}  # prepared by the callback, taken once by the task function
# (None: the composed config runs as it is, so the task function keeps its own copy, without Hydra's node)


def _key(cfg: DictConfig, overrides: Sequence[str]) -> str:
    """The composed config (without Hydra's node, interpolations unresolved) and the overrides."""
    body = OmegaConf.masked_copy(cfg, [str(k) for k in cfg if k != "hydra"]) if "hydra" in cfg else cfg
    return OmegaConf.to_yaml(body) + "\n#" + "\n#".join(overrides)


def prepare(cfg: DictConfig, overrides: Sequence[str]) -> DictConfig:
    """The effective config of ``cfg`` (composed from ``overrides``), validated."""
    effective = effective_config(cfg, overrides)
    validate(effective)
    return effective


def prepare_run(config: DictConfig) -> DictConfig:
    """For a single run (Hydra's ``on_run_start``, ``config`` with its ``hydra`` node): prepare and
    validate, then claim the run folder and pin ``hydra.run.dir`` to it (a resume reuses its own).
    The prepared config waits for :func:`prepared`."""
    overrides = list(config.hydra.overrides.task)
    require(
        config.hydra.output_subdir is not None,
        "hydra.output_subdir=null: rlft keeps each run's config in it (resume, the registry and evaluate "
        "read it back); leave hydra.output_subdir at its default",
    )
    effective = prepare(config, overrides)
    if not config.resume:
        folder = claim_new_run_dir(config)
        with read_write(config.hydra), open_dict(config.hydra):
            config.hydra.run.dir = str(folder)
    _ready[_key(config, overrides)] = None if effective is config else effective
    return effective


def prepared(cfg: DictConfig, overrides: Sequence[str]) -> DictConfig:
    """The task function's config: the one :func:`prepare_run` made for this run, or (a sweep job,
    or a task run without the callback) one prepared and validated now."""
    key = _key(cfg, overrides)
    if key in _ready:
        ready = _ready.pop(key)
        return cfg if ready is None else ready
    return prepare(cfg, overrides)
