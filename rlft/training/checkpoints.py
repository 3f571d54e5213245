"""Model folders (checkpoints, best/, final/) written whole or not at all.

A model folder holds ``model.zip`` (an SB3 zip with optimizer state, loadable by plain
stable-baselines3), the normalisation stats when used, and ``state.json`` (counters and callback
state needed to resume). It is built in a temporary folder and renamed into place, so a run killed
at any moment leaves only complete folders behind (and ``.tmp`` leftovers that recovery removes).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from rlft.envs.normalization import save_normalization
from rlft.io import atomic_dir, atomic_write_json, remove_dir
from rlft.runs import pointers
from rlft.runs.layout import MODEL_FILE, REPLAY_FILE, STATE_FILE, RunFolder
from rlft.runs.recovery import prune_versions

if TYPE_CHECKING:
    from stable_baselines3.common.base_class import BaseAlgorithm
    from stable_baselines3.common.vec_env import VecEnv


def _fill_model_folder(
    folder: Path, model: "BaseAlgorithm", venv: "VecEnv", state: dict[str, Any], replay_buffer: bool = False
) -> None:
    from stable_baselines3.common.off_policy_algorithm import OffPolicyAlgorithm

    model.save(folder / MODEL_FILE)
    save_normalization(venv, folder)
    if replay_buffer and isinstance(model, OffPolicyAlgorithm):
        model.save_replay_buffer(folder / REPLAY_FILE)
    atomic_write_json(folder / STATE_FILE, state)


def write_model_folder(
    run: RunFolder, target: Path, model: "BaseAlgorithm", venv: "VecEnv", state: dict[str, Any]
) -> None:
    """Write or replace ``target`` (best/, final/) as one unit: the next version written whole,
    then the pointer swapped (:mod:`rlft.runs.pointers`)."""
    version = pointers.next_version(target)
    with atomic_dir(version) as tmp:
        _fill_model_folder(tmp, model, venv, state)
    pointers.point(target, version)
    prune_versions(run)


def save_checkpoint(
    run: RunFolder,
    model: "BaseAlgorithm",
    venv: "VecEnv",
    state: dict[str, Any],
    keep: int,
    replay_buffer: bool = False,
) -> Path:
    """Write ``checkpoints/step_<N>`` and delete all but the newest ``keep`` checkpoints."""
    target = run.checkpoint_dir(model.num_timesteps)
    if target.exists():
        return target
    with atomic_dir(target) as tmp:
        _fill_model_folder(tmp, model, venv, state, replay_buffer)
    for _, old in run.checkpoints()[:-keep]:
        remove_dir(old)
    prune_versions(run)
    return target
