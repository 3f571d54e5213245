"""Reading run folders: a run's saved config, its metrics, its models, a curriculum's stages.

Every feature that looks into a run folder (the registry registering a run's model, a curriculum
starting from another run, evaluation, resume) asks here; nobody parses another feature's files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf, open_dict

from rlft.config.schema import on_schema
from rlft.errors import RunFolderError
from rlft.io import read_json
from rlft.runs.layout import MODEL_FILE, RunFolder

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
    """A run folder with a model; a curriculum folder means its last finished stage."""
    if not RunFolder(path).metrics_file.is_file():
        raise RunFolderError(f"{path} is not an rlft run folder (no metrics.json): pass a folder under outputs/")
    run = last_stage_run(RunFolder(path))
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
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            broken = archive.testzip()
    except (zipfile.BadZipFile, EOFError) as exc:
        raise RunFolderError(f"{path} is not a readable model ({exc}): it is truncated or corrupt; "
                             "copy it again or pick another model") from None
    if broken is not None:
        raise RunFolderError(f"{path} is corrupt (member {broken} fails its CRC): copy it again or pick another model")
