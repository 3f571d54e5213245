"""Which model folder a stage starts from: the previous stage's, or ``curriculum.init``'s.

Reading the run folders is :mod:`rlft.runs.reading`'s job; this module only decides.
"""

from __future__ import annotations

from pathlib import Path

from rlft.errors import ConfigError
from rlft.runs.layout import MODEL_FILE
from rlft.runs.reading import PICKS, model_folder

HANDOFFS = PICKS  # final | best


def resolve_init(value: str, handoff: str, registry: str | None = None) -> Path:
    """``curriculum.init``: a model folder (with model.zip), a run folder, a curriculum run folder,
    or the name of a registered champion (its verified folder; weights from its safetensors).

    Raises a ConfigError saying what was expected when the path holds no model.
    """
    path = Path(value).expanduser()
    if registry is not None and not path.exists() and "/" not in value:
        from rlft.champions.registry import Registry

        return Registry(registry).verify(value).folder
    model = model_folder(path, handoff)
    if model is not None:
        return model
    raise ConfigError(
        f"curriculum.init={value!r} holds no model: give a run folder with final/{MODEL_FILE}, "
        f"a model folder (final/, best/, checkpoints/step_N/), a finished curriculum run or a "
        f"champion name"
    )
