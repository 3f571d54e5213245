"""``champions/<name>/``: register a run's model behind a success gate, list, verify and load.

The registry puts together three parts: :mod:`~rlft.champions.storage` (folders, versions, the
lock and the atomic publication, checksums), :mod:`~rlft.champions.conversion` (a run's model as
champion files) and :mod:`~rlft.champions.loading` (champion files back as a model, never
unpickled). Run folders are read through :mod:`rlft.runs.reading`.

Files: ``policy.safetensors`` (weights), ``optimizer.safetensors`` (the optimizer's moments, for a
fine-tune with ``finetune.optimizer=kept``), ``manifest.json`` (what to build and where it came from,
with the sha256 of every other file), ``manifest.sha256``, ``model.zip`` (for plain SB3 users;
never read by rlft) and ``vecnormalize.npz`` / ``.json`` when the run normalised observations.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rlft.champions import manifest as mf
from rlft.champions.conversion import DEFAULT_GATE, gate_figure, save_optimizer_state, write_champion_files
from rlft.champions.loading import build_champion_model, check_fits, load_optimizer_state, manifest_config
from rlft.champions.names import check_name
from rlft.champions.storage import LOCK_FILE, Champion, Storage, TamperedChampion
from rlft.errors import ConfigError, RunFolderError
from rlft.runs.reading import check_model_zip, read_metrics, resolve_run, run_config

if TYPE_CHECKING:
    from stable_baselines3.common.base_class import BaseAlgorithm
    from stable_baselines3.common.vec_env import VecEnv

__all__ = ["DEFAULT_GATE", "LOCK_FILE", "Champion", "Registry", "TamperedChampion", "check_fits",
           "load_optimizer_state", "manifest_config", "save_optimizer_state"]


class Registry:
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.storage = Storage(self.root)

    # -- lookup -------------------------------------------------------------------------------
    def versions(self, name: str) -> list[int]:
        return self.storage.versions(name)

    def champions(self) -> list[Champion]:
        """Every registered version, by name then version."""
        return self.storage.champions()

    def get(self, ref: str) -> Champion:
        """``name`` (latest) or ``name@vN``; a clear error listing what exists otherwise."""
        return self.storage.get(ref)

    def verify(self, ref: str) -> Champion:
        """Check every file against the manifest (and the manifest against its checksum), and that
        the manifest only asks for allowlisted classes."""
        champion = self.storage.get(ref)
        self.storage.check_files(champion)
        mf.check_loadable(champion.manifest, f"champion {champion.ref}")
        return champion

    # -- register -----------------------------------------------------------------------------
    def register(self, run_dir: str | os.PathLike[str], name: str, *, min_success: float = DEFAULT_GATE,
                 force: bool = False, source: str = "best", promotion: dict[str, Any] | None = None) -> Champion:
        """Bank a run's model. ``promotion``: the checks a fine-tune passed to become the next
        version of its parent (``rlft.promote``); they replace the success gate and are recorded."""
        check_name(name)
        if source not in ("best", "final"):
            raise ConfigError(f"which={source} is not valid: use best or final")
        run = resolve_run(Path(run_dir))
        metrics = read_metrics(run)
        model_dir = run.best_dir if source == "best" else run.final_dir
        if not (model_dir / mf.SB3_ZIP).is_file():
            raise RunFolderError(f"{model_dir} holds no {mf.SB3_ZIP}: the run has no {source} model yet")
        check_model_zip(model_dir / mf.SB3_ZIP)
        success = gate_figure(metrics, source)
        if promotion is None and not force and (success is None or success < min_success):
            shown = "no success rate recorded" if success is None else f"success rate {success:.3f}"
            raise ConfigError(f"{run.root} ({source}): {shown} is below the gate {min_success}: train further, "
                              "or register anyway with force=true (recorded in the manifest)")
        cfg = run_config(run)
        with self.storage.staging() as staging:
            manifest = write_champion_files(staging, run, cfg, metrics, model_dir, success, source, force, min_success)
            if promotion is not None:
                manifest.update(gate={"promotion": promotion, "forced": False})
            return self.storage.publish(staging, name, manifest)

    # -- load ---------------------------------------------------------------------------------
    def load_model(self, ref: str, env: "VecEnv | None" = None, *,
                   device: str = "cpu") -> tuple["BaseAlgorithm", Champion]:
        """Verify, then build the champion's model for ``env`` (default: one env of its own config,
        closed again) from its manifest and safetensors (a fine-tune copies these weights into a
        model built with its own hyperparameters)."""
        champion = self.verify(ref)
        return build_champion_model(champion, env, device=device), champion
