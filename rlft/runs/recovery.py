"""Repairing a run folder after a crash, before anything reads or continues it.

Every write in a run folder is atomic (temporary name, then rename), so a killed process leaves
complete files plus leftovers: ``.tmp`` files and folders, a version written but not yet pointed
to, or (runs from before versioned model folders) ``best.new`` / ``.best.old``. :func:`recover`
removes the leftovers, re-points a missing ``best`` / ``final`` to its newest complete version and
warns about each fix. It only touches a folder no living process holds.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from rlft.io import read_json, remove_dir
from rlft.runs import lock, pointers
from rlft.runs.layout import STATE_FILE, RunFolder

log = logging.getLogger("rlft")

BEST_FOLDER = "best_folder"  # a checkpoint state's key: the best/ version as of that checkpoint


def checkpoint_states(run: RunFolder) -> list[dict[str, Any]]:
    states = []
    for _, folder in run.checkpoints():
        try:
            state = read_json(folder / STATE_FILE)
        except (OSError, ValueError):
            continue
        if isinstance(state, dict):
            states.append(state)
    return states


def prune_versions(run: RunFolder) -> list[Path]:
    """Remove ``best`` / ``final`` versions nothing points to and no kept checkpoint names."""
    keep = {str(named) for s in checkpoint_states(run) if (named := s.get(BEST_FOLDER)) is not None}
    return [*pointers.prune(run.best_dir, keep), *pointers.prune(run.final_dir, set())]


def _adopt(folder: Path, link: Path, fixes: list[str]) -> None:
    """Turn a complete model folder of the old layout into the newest version of ``link``."""
    version = pointers.next_version(link)
    os.rename(folder, version)
    fixes.append(f"{folder.name} (saved just before a crash) becomes {link.name}")


def _recover_pointer(link: Path, fixes: list[str]) -> None:
    new, old = link.with_name(link.name + ".new"), link.with_name(f".{link.name}.old")
    adopted = False
    if new.is_dir():  # old layout, killed once best.new was complete: the newest model
        _adopt(new, link, fixes)
        adopted = True
    elif old.is_dir() and not os.path.lexists(link):  # old layout, killed between its two renames
        _adopt(old, link, fixes)
        adopted = True
    found = pointers.versions(link)
    if found and (adopted or not link.exists()):  # missing, dangling, or a newer model adopted
        pointers.point(link, found[-1][1])
        fixes.append(f"{link.name} points to {found[-1][1].name}")
    elif link.is_symlink() and not link.exists():
        link.unlink()
        fixes.append(f"removed {link.name}, which pointed to a missing folder")


def _leftovers(run: RunFolder) -> list[Path]:
    found: list[Path] = []
    for folder in (run.root, run.checkpoints_dir, run.hydra_dir, *run.hydra_dir.glob("resume_*")):
        if folder.is_dir():
            found += [
                p
                for p in folder.iterdir()
                if p.name.startswith(".") and (p.name.endswith(".tmp") or p.name.endswith(".old"))
            ]
    return found


def recover(run: RunFolder) -> list[str]:
    """Repair ``run`` after a crash (see the module); the fixes made, each also logged as a warning.
    A folder a living process holds is left alone."""
    if not run.root.is_dir():
        return []
    fixes: list[str] = []
    with lock.hold(run) as living:
        if living is not None:
            return []
        for link in (run.best_dir, run.final_dir):
            _recover_pointer(link, fixes)
        for leftover in _leftovers(run):
            if leftover.is_dir() and not leftover.is_symlink():
                remove_dir(leftover)
            else:
                leftover.unlink()
            fixes.append(f"removed the leftover {leftover.relative_to(run.root)}")
        fixes += [f"removed the unused {p.name}" for p in prune_versions(run)]
    for fix in fixes:
        log.warning("%s: recovered after a crash: %s", run.root, fix)
    return fixes


def rewind_best(run: RunFolder, state: dict[str, Any]) -> dict[str, Any] | None:
    """On resume from a checkpoint's ``state``, ``best/`` as it was at that checkpoint (a best saved
    later belongs to the discarded timeline; ``{}``, a restart from step 0, has none); returns the
    checkpoint's best record. An old run's real ``best/`` folder (no versions) is left as it is."""
    if run.best_dir.is_dir() and not run.best_dir.is_symlink():
        return state.get("best")
    folder = state.get(BEST_FOLDER)
    if pointers.current(run.best_dir) != folder:
        if folder is None:
            remove_dir(run.best_dir)
        elif (run.root / folder).is_dir():
            pointers.point(run.best_dir, run.root / folder)
        else:
            log.warning("%s: %s (the best model at the checkpoint) is gone: best/ stays", run.root, folder)
            return state.get("best")
        log.warning(
            "%s: best/ goes back to %s, the best model as of the resumed checkpoint", run.root, folder or "none"
        )
    return state.get("best")
