"""Export a champion for use outside rlft: a plain SB3 zip, a Hugging Face-style folder, an ONNX graph.

Every format is built from the verified champion (manifest + safetensors, never its pickled zip)
into a staging folder that is renamed into place, so an export is complete or absent.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from rlft.errors import ConfigError

if TYPE_CHECKING:
    from stable_baselines3.common.base_class import BaseAlgorithm

    from rlft.champions.storage import Champion

FORMATS = ("sb3", "hf", "onnx")


@dataclass
class Loaded:
    champion: "Champion"
    model: "BaseAlgorithm"


def load_champion(registry_root: str, ref: str) -> Loaded:
    from rlft.champions.registry import Registry

    model, champion = Registry(registry_root).load_model(ref)
    return Loaded(champion, model)


def export(registry_root: str, ref: str, fmt: str, out: Path) -> dict[str, Any]:
    """Write ``fmt`` of champion ``ref`` to ``out`` (must not exist or be empty); returns a summary."""
    if fmt not in FORMATS:
        raise ConfigError(f"format={fmt} is not valid: use one of {', '.join(FORMATS)}")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ConfigError(f"out={out} exists and is not an empty folder: pick a new folder")
    _refuse_a_folder(ref)
    loaded = load_champion(registry_root, ref)
    writer: Callable[[Loaded, Path], dict[str, Any]] = _writers()[fmt]
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        summary = writer(loaded, staging)
        staging.chmod(0o755)  # mkdtemp makes it private
        if out.exists():
            out.rmdir()  # empty, checked above
        os.rename(staging, out)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return {"champion": loaded.champion.ref, "format": fmt, "out": str(out), **summary}


def _refuse_a_folder(ref: str) -> None:
    """Exports are built from verified champions only (their weights checked, their manifest
    allowlisted): a run folder is registered first, and an export is already one."""
    from rlft.runs.layout import RunFolder

    path = Path(ref).expanduser()
    if not path.exists():
        return
    if RunFolder(path).metrics_file.is_file():
        raise ConfigError(
            f"{ref} is a run folder: register it first (rlft register {ref} name=NAME), then rlft export NAME"
        )
    raise ConfigError(f"{ref} is a path, not a champion: rlft export takes a registered champion NAME[@vN]")


def _writers() -> dict[str, Callable[[Loaded, Path], dict[str, Any]]]:
    from rlft.export import hf, onnx, sb3

    return {"sb3": sb3.write, "hf": hf.write, "onnx": onnx.write}
