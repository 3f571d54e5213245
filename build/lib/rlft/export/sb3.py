"""A plain stable-baselines3 zip (``PPO.load("model.zip")``), rebuilt from the verified weights."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rlft.export import Loaded


def write(loaded: "Loaded", folder: Path) -> dict[str, Any]:
    from rlft.envs.normalization import SETTINGS_FILE, STATS_FILE

    loaded.model.save(folder / "model.zip")
    files = ["model.zip"]
    for extra in (STATS_FILE, SETTINGS_FILE):  # observation normalisation, when the champion used it
        if (loaded.champion.folder / extra).is_file():
            shutil.copy2(loaded.champion.folder / extra, folder / extra)
            files.append(extra)
    algo = loaded.champion.manifest["hparams"]["algo"]
    return {"files": files, "load_with": f"{type(loaded.model).__name__}.load('model.zip')  # algo {algo}"}
