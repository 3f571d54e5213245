"""Which model folder a stage starts from: the previous stage's, or ``curriculum.init``'s."""

from __future__ import annotations

from pathlib import Path

from rlft.errors import ConfigError
from rlft.io import read_json
from rlft.runs.layout import RunFolder
from rlft.training.checkpoints import MODEL_FILE

HANDOFFS = ("final", "best")


def last_stage_run(run: RunFolder) -> RunFolder:
    """``run`` itself, or for a curriculum run folder the run folder of its last finished stage."""
    stages = (read_json(run.metrics_file).get("stages") or []) if run.metrics_file.is_file() else []
    return RunFolder(run.root / stages[-1]["run_folder"]) if stages else run


def stage_model(run: RunFolder, handoff: str) -> Path:
    """``final/`` or ``best/`` of a finished run (best falls back to final when absent)."""
    chosen = run.best_dir if handoff == "best" else run.final_dir
    return chosen if (chosen / MODEL_FILE).is_file() else run.final_dir


def resolve_init(value: str, handoff: str, registry: str | None = None) -> Path:
    """``curriculum.init``: a model folder (with model.zip), a run folder, a curriculum run folder,
    or the name of a registered champion (its verified folder; weights from its safetensors).

    Raises a ConfigError saying what was expected when the path holds no model.
    """
    path = Path(value).expanduser()
    if registry is not None and not path.exists() and "/" not in value:
        from rlft.champions.registry import Registry

        return Registry(registry).verify(value).folder
    if (path / MODEL_FILE).is_file():
        return path
    if RunFolder(path).metrics_file.is_file():
        model = stage_model(last_stage_run(RunFolder(path)), handoff)
        if (model / MODEL_FILE).is_file():
            return model
    raise ConfigError(f"curriculum.init={value!r} holds no model: give a run folder with final/{MODEL_FILE}, "
                      f"a model folder (final/, best/, checkpoints/step_N/), a finished curriculum run or a "
                      f"champion name")
