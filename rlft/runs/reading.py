"""Reading run folders: a run's saved config, its metrics, its models, a curriculum's stages.

Every feature that looks into a run folder (the registry registering a run's model, a curriculum
starting from another run, evaluation, resume) asks here; nobody parses another feature's files.
"""

from __future__ import annotations

import logging
import zipfile
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf, open_dict

from rlft.config.schema import on_schema
from rlft.errors import RunFolderError
from rlft.io import read_json
from rlft.runs.layout import MODEL_FILE, STATE_FILE, RunFolder
from rlft.runs.recovery import recover

log = logging.getLogger("rlft")

PICKS = ("final", "best")  # which model of a finished run


def saved_config(run: RunFolder) -> DictConfig:
    """The config a run was started with, as saved (``.hydra/config.yaml``, without Hydra's node)."""
    saved = OmegaConf.load(run.config_file)
    assert isinstance(saved, DictConfig)  # a run's config.yaml is a mapping
    with open_dict(saved):
        saved.pop("hydra", None)
    return saved


def run_config(run: RunFolder) -> DictConfig:
    """The config a run was started with, typed by the schema (without Hydra's node)."""
    return on_schema(saved_config(run))


def read_metrics(run: RunFolder) -> dict[str, Any]:
    return read_json(run.metrics_file)


def last_stage_run(run: RunFolder) -> RunFolder:
    """``run`` itself, or for a curriculum run folder the run folder of its last finished stage."""
    stages = (read_json(run.metrics_file).get("stages") or []) if run.metrics_file.is_file() else []
    return RunFolder(run.root / stages[-1]["run_folder"]) if stages else run


def stage_model(run: RunFolder, pick: str) -> Path:
    """``final/`` or ``best/`` of a finished run (best falls back to final when absent)."""
    chosen = run.best_dir if pick == "best" else run.final_dir
    return chosen if (chosen / MODEL_FILE).is_file() else run.final_dir


def resolve_run(path: Path) -> RunFolder:
    """A run folder with a model, repaired if a crash left it half-way (:func:`recover`); a
    curriculum folder means its last finished stage."""
    if not RunFolder(path).metrics_file.is_file():
        raise RunFolderError(f"{path} is not an rlft run folder (no metrics.json): pass a folder under outputs/")
    recover(RunFolder(path))
    run = last_stage_run(RunFolder(path))
    if run.root != Path(path):
        recover(run)
    if not run.config_file.is_file():
        raise RunFolderError(f"{run.root} has no .hydra/config.yaml: it is not a complete rlft run")
    return run


def model_folder(path: Path, pick: str) -> Path | None:
    """The model a path stands for: a model folder (with ``model.zip``) itself, or a run / curriculum
    run folder's ``pick`` model (best falls back to final); None when it holds no model."""
    if (path / MODEL_FILE).is_file():
        return path
    if RunFolder(path).metrics_file.is_file():
        model = stage_model(last_stage_run(RunFolder(path)), pick)
        if (model / MODEL_FILE).is_file():
            return model
    return None


def check_model_zip(path: Path) -> None:
    """A whole zip archive (every member's CRC checked): a truncated or corrupt ``model.zip`` (an
    interrupted copy) is one line, not SB3's traceback."""
    try:
        with zipfile.ZipFile(path) as archive:
            broken = archive.testzip()
    except (zipfile.BadZipFile, EOFError) as exc:
        raise RunFolderError(
            f"{path} is not a readable model ({exc}): it is truncated or corrupt; copy it again or pick another model"
        ) from None
    if broken is not None:
        raise RunFolderError(f"{path} is corrupt (member {broken} fails its CRC): copy it again or pick another model")


def checkpoint_problem(folder: Path) -> str | None:
    """Why a checkpoint cannot be resumed from (truncated or missing files), or None."""
    try:
        state = read_json(folder / STATE_FILE)
    except (OSError, ValueError) as exc:
        return f"{STATE_FILE} is unreadable ({type(exc).__name__})"
    if not isinstance(state, dict):
        return f"{STATE_FILE} is not a JSON object"
    model = folder / MODEL_FILE
    if not zipfile.is_zipfile(model):
        return f"{MODEL_FILE} is missing or not a zip"
    try:
        check_model_zip(model)
    except (OSError, RunFolderError) as exc:
        return str(exc)
    return None


def resume_checkpoint(run: RunFolder, warn: bool = True) -> tuple[int, Path] | None:
    """The newest checkpoint that can be resumed from, skipping (with a warning) corrupt newer
    ones; None for a run that has done no steps yet. A run with steps done but no valid checkpoint
    is refused: starting it again from step 0 in the same folder would mix two runs."""
    found = run.checkpoints()
    for steps, folder in reversed(found):
        problem = checkpoint_problem(folder)
        if problem is None:
            return steps, folder
        if warn:
            log.warning("%s: skipping checkpoint %s: %s", run.root, folder.name, problem)
    done = int(read_metrics(run).get("total_timesteps") or 0) if run.metrics_file.is_file() else 0
    if found or done:
        raise RunFolderError(
            f"{run.root} has no valid checkpoint to resume from ({len(found)} corrupt, "
            f"{done} steps recorded): start a new run instead"
        )
    return None
