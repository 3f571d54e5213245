"""``champions/<name>/``: register a run's model behind a success gate, list, verify and load.

The registry puts together three parts: :mod:`~rlft.champions.storage` (folders, versions, the
lock and the atomic publication, checksums), :mod:`~rlft.champions.conversion` (a run's model as
champion files) and :mod:`~rlft.champions.loading` (champion files back as a model, never
unpickled). Run folders are read through :mod:`rlft.runs.reading`.

Files: ``policy.safetensors`` (weights), ``optimizer.safetensors`` (the optimizer's moments, for a
fine-tune with ``finetune.optimizer=kept``), ``manifest.json`` (what to build and where it came from,
with the sha256 of every other file), ``manifest.sha256``, ``model.zip`` (for plain SB3 users;
never read by rlft), ``vecnormalize.npz`` / ``.json`` when the run normalised observations and
``signature.json`` when a signing key was configured (:mod:`~rlft.champions.signing`).

Trust: a lookup refuses a symlinked or renamed version folder and a manifest naming code outside
the trusted roots (:mod:`~rlft.champions.trust`) before anything is imported; loading also checks
the checksums and, with a signing key configured, the signature.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

from omegaconf import DictConfig, OmegaConf

from rlft.champions import manifest as mf
from rlft.champions import signing
from rlft.champions.conversion import (
    DEFAULT_GATE,
    gate_figure,
    model_summary,
    save_optimizer_state,
    write_champion_files,
)
from rlft.champions.loading import build_champion_model, check_fits, load_optimizer_state, manifest_config
from rlft.champions.names import check_name
from rlft.champions.storage import LOCK_FILE, Champion, Storage, TamperedChampion
from rlft.champions.trust import check_classes, check_trusted
from rlft.config.metrics import OWN_METRICS, Gate, is_info_metric, metric_value, missing_metric, parse_gate
from rlft.errors import ConfigError, RunFolderError
from rlft.runs.reading import check_model_zip, read_metrics, resolve_run, run_config

if TYPE_CHECKING:
    from stable_baselines3.common.base_class import BaseAlgorithm
    from stable_baselines3.common.vec_env import VecEnv

__all__ = [
    "DEFAULT_GATE",
    "LOCK_FILE",
    "Champion",
    "Registry",
    "TamperedChampion",
    "check_fits",
    "load_optimizer_state",
    "manifest_config",
    "save_optimizer_state",
]


class Registry:
    """``trusted_modules``: the user's ``paths.trusted_modules`` (``$RLFT_TRUSTED_MODULES`` is always
    added); ``signing_key``: a key file (``paths.signing_key``; ``$RLFT_SIGNING_KEY[_FILE]`` win)."""

    def __init__(
        self, root: str | os.PathLike[str], *, trusted_modules: Sequence[str] = (), signing_key: str | None = None
    ) -> None:
        self.root = Path(root)
        self.storage = Storage(self.root)
        self.trusted_modules = tuple(trusted_modules)
        self.signing_key = signing_key

    @classmethod
    def for_config(cls, cfg: DictConfig) -> "Registry":
        """The registry of a run's config, with its trusted modules and signing key."""
        paths = cfg.paths
        return cls(
            paths.registry,
            trusted_modules=list(OmegaConf.select(paths, "trusted_modules", default=[]) or []),
            signing_key=OmegaConf.select(paths, "signing_key", default=None),
        )

    # -- lookup -------------------------------------------------------------------------------
    def versions(self, name: str) -> list[int]:
        return self.storage.versions(name)

    def champions(self) -> list[Champion]:
        """Every registered version, by name then version."""
        return self.storage.champions()

    def get(self, ref: str) -> Champion:
        """``name`` (latest) or ``name@vN``, refused (importing nothing) when its manifest names
        code outside the trusted roots; a clear error listing what exists otherwise."""
        champion = self.storage.get(ref)
        mf.check_loadable(champion.manifest, f"champion {champion.ref}", self.trusted_modules)
        return champion

    def check(self, ref: str) -> tuple[Champion, str]:
        """Everything but the signature's verdict: the lookup, every file against the manifest
        (and the manifest against its checksum), the named classes; and the signature's state
        (:mod:`~rlft.champions.signing`)."""
        champion = self.storage.get(ref)
        self.storage.check_files(champion)
        mf.check_loadable(champion.manifest, f"champion {champion.ref}", self.trusted_modules)
        check_classes(champion.manifest, f"champion {champion.ref}", self.trusted_modules)
        return champion, signing.status(champion.manifest, champion.folder, self.key())

    def verify(self, ref: str) -> Champion:
        """:meth:`check`, and with a signing key configured a valid signature."""
        champion, state = self.check(ref)
        if self.key() is not None:
            signing.require_signed(state, f"champion {champion.ref}")
        return champion

    def key(self) -> bytes | None:
        return signing.signing_key(self.signing_key)

    # -- register -----------------------------------------------------------------------------
    def register(
        self,
        run_dir: str | os.PathLike[str],
        name: str,
        *,
        min_success: float = DEFAULT_GATE,
        force: bool = False,
        source: str = "best",
        promotion: dict[str, Any] | None = None,
        gate: Gate | str | None = None,
    ) -> Champion:
        """Bank a run's model. ``gate``: what the model must reach instead of ``min_success``
        (``mean_reward>=200``, ``info/ess>=0.8``); ``promotion``: the checks a fine-tune passed to
        become the next version of its parent (``rlft.promote``); they replace the gate and are recorded."""
        check_name(name)
        if source not in ("best", "final"):
            raise ConfigError(f"which={source} is not valid: use best or final")
        rule = parse_gate(gate) if isinstance(gate, str) else gate
        run = resolve_run(Path(run_dir))
        metrics = read_metrics(run)
        model_dir = run.best_dir if source == "best" else run.final_dir
        if not (model_dir / mf.SB3_ZIP).is_file():
            raise RunFolderError(f"{model_dir} holds no {mf.SB3_ZIP}: the run has no {source} model yet")
        check_model_zip(model_dir / mf.SB3_ZIP)
        success = gate_figure(metrics, source)
        passed = _gate_record(run.root, source, model_summary(metrics, source), success, min_success, rule)
        if promotion is None and not force and not passed["passed"]:
            raise ConfigError(passed["why"])
        manifest_gate = {k: v for k, v in passed.items() if k not in ("passed", "why")}
        cfg = run_config(run)
        self._check_bankable(cfg, run.root)
        key = self.key()
        with self.storage.staging() as staging:
            manifest = write_champion_files(
                staging, run, cfg, metrics, model_dir, success, source, force, manifest_gate
            )
            if promotion is not None:
                manifest.update(gate={"promotion": promotion, "forced": False})
            if key is None:
                return self.storage.publish(staging, name, manifest)
            return self.storage.publish(staging, name, manifest, sign=lambda m: signing.signature(m, key))

    def _check_bankable(self, cfg: DictConfig, where: Path) -> None:
        """Refuse to bank what could not be loaded back: the code the run's env and hparams name
        must be trusted (the run's own ``paths.trusted_modules`` count: the user trained it)."""
        named = {key: OmegaConf.to_container(cfg[key], resolve=True) for key in ("env", "hparams")}
        trusted = (*self.trusted_modules, *(OmegaConf.select(cfg, "paths.trusted_modules", default=[]) or []))
        check_trusted(named, f"run {where}", trusted)
        check_classes(named, f"run {where}", trusted)

    # -- load ---------------------------------------------------------------------------------
    def load_model(
        self, ref: str, env: "VecEnv | None" = None, *, device: str = "cpu"
    ) -> tuple["BaseAlgorithm", Champion]:
        """Verify, then build the champion's model for ``env`` (default: one env of its own config,
        closed again) from its manifest and safetensors (a fine-tune copies these weights into a
        model built with its own hyperparameters)."""
        champion = self.verify(ref)
        return build_champion_model(champion, env, device=device), champion


def _gate_record(
    where: Path, source: str, summary: dict[str, Any], success: float | None, min_success: float, gate: Gate | None
) -> dict[str, Any]:
    """Whether the model passes its gate (``gate``, else success rate >= ``min_success``), why not
    (one line), and what the manifest records of it."""
    retry = "train further, or register anyway with force=true (recorded in the manifest)"
    if gate is None:
        if success is None:
            reported = ", ".join(
                n for n, v in summary.items() if v is not None and (n in OWN_METRICS or is_info_metric(n))
            )
            why = (
                f"{where} ({source}): the env reports no success rate, so the default gate "
                f"(success_rate>={min_success}) cannot pass: give gate= on a metric it reports "
                f"(e.g. gate='mean_reward>=200'; it reports {reported or 'nothing'}), or force=true"
            )
            return {"passed": False, "why": why, "min_success": min_success}
        why = f"{where} ({source}): success rate {success:.3f} is below the gate {min_success}: {retry}"
        return {"passed": success >= min_success, "why": why, "min_success": min_success}
    value = metric_value(summary, gate.metric, f"gate={gate}")
    if value is None:  # success_rate of an env that reports none
        raise missing_metric(gate.metric, (n for n, v in summary.items() if v is not None), f"gate={gate}")
    why = f"{where} ({source}): {gate.metric}={value:.4g} does not pass the gate {gate}: {retry}"
    return {"passed": gate.passes(value), "why": why, "rule": str(gate), "value": value}
