"""``champions/<name>/``: register a run's model behind a success gate, list, verify and load.

A champion folder is built in a temporary folder inside the registry and renamed into place
under a file lock, so concurrent registrations (sweep jobs) never see or make half a champion.
Folders are never overwritten: registering an existing name creates the next version
(``name@v2``, ``name@v3``, ...); ``name`` alone means the latest version.

Files: ``policy.safetensors`` (weights), ``optimizer.safetensors`` (the optimizer's moments, for a
fine-tune with ``finetune.optimizer=kept``), ``manifest.json`` (what to build and where it came from,
with the sha256 of every other file), ``manifest.sha256``, ``model.zip`` (for plain SB3 users;
never read by rlft) and ``vecnormalize.npz`` / ``.json`` when the run normalised observations.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from omegaconf import DictConfig, OmegaConf, open_dict

from rlft.champions import manifest as mf
from rlft.champions.names import check_name, folder_name, parse_ref
from rlft.config.schema import schema_node
from rlft.envs.normalization import SETTINGS_FILE, STATS_FILE
from rlft.errors import ConfigError, RlftError, RunFolderError
from rlft.io import atomic_write_json, atomic_write_text, read_json
from rlft.runs.layout import RunFolder

if TYPE_CHECKING:
    from stable_baselines3.common.base_class import BaseAlgorithm
    from stable_baselines3.common.vec_env import VecEnv

DEFAULT_GATE = 0.9
LOCK_FILE = ".registry.lock"


class TamperedChampion(RlftError):
    """A champion's files do not match the checksums of its manifest."""


@dataclass(frozen=True)
class Champion:
    name: str
    version: int
    folder: Path
    manifest: dict[str, Any]

    @property
    def ref(self) -> str:
        return f"{self.name}@v{self.version}"


def run_config(run: RunFolder) -> DictConfig:
    """The config a run was started with, typed by the schema (without Hydra's node)."""
    saved = OmegaConf.load(run.config_file)
    with open_dict(saved):
        saved.pop("hydra", None)
    return OmegaConf.merge(schema_node(), saved)


def manifest_config(manifest: dict[str, Any]) -> DictConfig:
    """The champion's own env, stage, stage overrides and hparams as a full (schema) config."""
    return OmegaConf.merge(schema_node(), {key: manifest[key] for key in ("env", "stage", "stage_overrides", "hparams")})


def resolve_run(path: Path) -> RunFolder:
    """A run folder with a model; a curriculum folder means its last finished stage."""
    from rlft.curriculum.handoff import last_stage_run

    if not RunFolder(path).metrics_file.is_file():
        raise RunFolderError(f"{path} is not an rlft run folder (no metrics.json): pass a folder under outputs/")
    run = last_stage_run(RunFolder(path))
    if not run.config_file.is_file():
        raise RunFolderError(f"{run.root} has no .hydra/config.yaml: it is not a complete rlft run")
    return run


def _gate_figure(metrics: dict[str, Any], source: str) -> float | None:
    """The success rate of the model that would be registered (best/ or final/)."""
    if source == "final":
        return (metrics.get("final") or {}).get("success_rate")
    best = metrics.get("best") or {}
    if best.get("metric") == "success_rate":
        return best.get("value")
    entry = next((e for e in metrics.get("eval", []) if e["timesteps"] == best.get("timesteps")), None)
    return (entry or metrics.get("final") or {}).get("success_rate")


class Registry:
    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    # -- lookup -------------------------------------------------------------------------------
    def versions(self, name: str) -> list[int]:
        if not self.root.is_dir():
            return []
        found = []
        for child in self.root.iterdir():
            base, _, suffix = child.name.partition("@v")
            if base == name and child.is_dir() and (child / mf.MANIFEST).is_file():
                found.append(int(suffix) if suffix.isdigit() else 1)
        return sorted(found)

    def champions(self) -> list[Champion]:
        """Every registered version, by name then version."""
        if not self.root.is_dir():
            return []
        names = sorted({c.name.partition("@v")[0] for c in self.root.iterdir()
                        if c.is_dir() and (c / mf.MANIFEST).is_file()})
        return [self.get(f"{n}@v{v}") for n in names for v in self.versions(n)]

    def get(self, ref: str) -> Champion:
        """``name`` (latest) or ``name@vN``; a clear error listing what exists otherwise."""
        name, version = parse_ref(ref)
        versions = self.versions(name)
        if not versions or (version is not None and version not in versions):
            known = sorted({c.name for c in self.champions()}) if self.root.is_dir() else []
            listed = ", ".join(known) if known else "none yet (register one with python -m rlft.register)"
            what = f"version {version} of champion {name!r}" if versions else f"champion {ref!r}"
            raise ConfigError(f"{what} is not in the registry {self.root}: registered: {listed}")
        version = version or versions[-1]
        folder = self.root / folder_name(name, version)
        return Champion(name, version, folder, read_json(folder / mf.MANIFEST))

    def verify(self, ref: str) -> Champion:
        """Check every file against the manifest (and the manifest against its checksum)."""
        champion = self.get(ref)
        folder = champion.folder
        expected = (folder / mf.MANIFEST_CHECKSUM).read_text(encoding="utf-8").strip() \
            if (folder / mf.MANIFEST_CHECKSUM).is_file() else None
        if expected != mf.sha256(folder / mf.MANIFEST):
            raise TamperedChampion(f"champion {champion.ref}: manifest.json does not match manifest.sha256")
        files = champion.manifest.get("files") or {}
        for name, digest in files.items():
            path = folder / name
            if not path.is_file():
                raise TamperedChampion(f"champion {champion.ref}: {name} is missing")
            if mf.sha256(path) != digest:
                raise TamperedChampion(f"champion {champion.ref}: {name} fails its sha256 check (tampered or corrupted)")
        extra = sorted({p.name for p in folder.iterdir()} - set(files) - {mf.MANIFEST, mf.MANIFEST_CHECKSUM})
        if extra:
            raise TamperedChampion(f"champion {champion.ref}: unexpected files {', '.join(extra)}")
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
        metrics = read_json(run.metrics_file)
        model_dir = run.best_dir if source == "best" else run.final_dir
        if not (model_dir / mf.SB3_ZIP).is_file():
            raise RunFolderError(f"{model_dir} holds no {mf.SB3_ZIP}: the run has no {source} model yet")
        success = _gate_figure(metrics, source)
        if promotion is None and not force and (success is None or success < min_success):
            shown = "no success rate recorded" if success is None else f"success rate {success:.3f}"
            raise ConfigError(f"{run.root} ({source}): {shown} is below the gate {min_success}: train further, "
                              "or register anyway with force=true (recorded in the manifest)")
        cfg = run_config(run)
        self.root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=self.root))
        try:
            manifest = self._fill(staging, run, cfg, metrics, model_dir, success, source, force, min_success)
            if promotion is not None:
                manifest.update(gate={"promotion": promotion, "forced": False})
            return self._publish(staging, name, manifest)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _fill(self, folder: Path, run: RunFolder, cfg: DictConfig, metrics: dict, model_dir: Path,
              success: float | None, source: str, force: bool, gate: float) -> dict[str, Any]:
        from safetensors.torch import save_model
        from stable_baselines3.common.save_util import load_from_zip_file

        from rlft.algos.factory import build_model
        from rlft.envs.factory import make_vec_env
        from rlft.runs.provenance import package_versions

        venv = make_vec_env(cfg, 1, cfg.seed)
        try:
            model = build_model(cfg.hparams, venv, seed=cfg.seed, device="cpu")
            _, params, _ = load_from_zip_file(model_dir / mf.SB3_ZIP, load_data=False, device="cpu")
            model.policy.load_state_dict(params["policy"])  # tensors only: nothing unpickled
            save_model(model.policy, str(folder / mf.WEIGHTS))
            if "policy.optimizer" in params:
                save_optimizer_state(params["policy.optimizer"], folder / mf.OPTIMIZER)
            observation, action = mf.space_spec(venv.observation_space), mf.space_spec(venv.action_space)
        finally:
            venv.close()
        shutil.copy2(model_dir / mf.SB3_ZIP, folder / mf.SB3_ZIP)
        for extra in (STATS_FILE, SETTINGS_FILE):
            if (model_dir / extra).is_file():
                shutil.copy2(model_dir / extra, folder / extra)
        final = metrics.get("final") or {}
        return {
            "format": mf.FORMAT,
            "hparams": OmegaConf.to_container(cfg.hparams, resolve=True),
            "architecture": mf.architecture(action),
            "observation_space": observation,
            "action_space": action,
            "env": OmegaConf.to_container(cfg.env, resolve=True),
            "stage": OmegaConf.to_container(cfg.stage, resolve=True),
            "stage_overrides": OmegaConf.to_container(cfg.stage_overrides, resolve=True),
            "metrics": {"success_rate": success, "source": source, "final": final,
                        "best": metrics.get("best"), "total_timesteps": metrics.get("total_timesteps")},
            "gate": {"min_success": gate, "forced": force},
            "source_run": str(run.root.resolve()),
            "parent": cfg.champion.name if cfg.champion.name != "none" else None,
            "seed": cfg.seed,
            "packages": package_versions(),
            "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "files": {p.name: mf.sha256(p) for p in sorted(folder.iterdir())},
        }

    def _publish(self, staging: Path, name: str, manifest: dict[str, Any]) -> Champion:
        from filelock import FileLock

        with FileLock(str(self.root / LOCK_FILE)):
            versions = self.versions(name)
            version = versions[-1] + 1 if versions else 1
            manifest = {**manifest, "name": name, "version": version}
            atomic_write_json(staging / mf.MANIFEST, manifest)
            atomic_write_text(staging / mf.MANIFEST_CHECKSUM, mf.sha256(staging / mf.MANIFEST) + "\n")
            for path in staging.iterdir():
                path.chmod(0o444)  # a champion is never edited in place
            staging.chmod(0o755)
            target = self.root / folder_name(name, version)
            os.rename(staging, target)  # atomic; the lock keeps two jobs off one version
        return Champion(name, version, target, manifest)

    # -- load ---------------------------------------------------------------------------------
    def load_model(self, ref: str, env: "VecEnv | None" = None, *,
                   device: str = "cpu") -> tuple["BaseAlgorithm", Champion]:
        """Verify, then build the champion's model for ``env`` (default: one env of its own config,
        closed again) from its manifest and safetensors (a fine-tune copies these weights into a
        model built with its own hyperparameters)."""
        from safetensors.torch import load_model

        from rlft.algos.factory import build_model

        champion = self.verify(ref)
        own_env = env is None
        if own_env:
            from rlft.envs.factory import make_vec_env

            env = make_vec_env(manifest_config(champion.manifest), 1, 0)
        try:
            check_fits(champion, env.observation_space, env.action_space)
            hparams = OmegaConf.merge(schema_node().hparams, champion.manifest["hparams"])
            model = build_model(hparams, env, seed=0, device=device)
        finally:
            if own_env:
                env.close()
        load_model(model.policy, str(champion.folder / mf.WEIGHTS), device=str(model.device))
        return model, champion


def save_optimizer_state(state_dict: dict[str, Any], path: Path) -> None:
    """The optimizer's tensors as safetensors (``<param index>.<name>``); hyperparameters are not
    kept: a fine-tune sets its own LR and betas."""
    import torch
    from safetensors.torch import save_file

    tensors = {f"{index}.{key}": (value if torch.is_tensor(value) else torch.tensor(float(value))).contiguous()
               for index, entry in state_dict["state"].items() for key, value in entry.items()}
    save_file(tensors, str(path))


def load_optimizer_state(champion: Champion, model: "BaseAlgorithm") -> None:
    """Start ``model``'s optimizer from the champion's moments (``finetune.optimizer=kept``)."""
    from safetensors.torch import load_file

    path = champion.folder / mf.OPTIMIZER
    if not path.is_file():
        raise ConfigError(f"champion {champion.ref} has no saved optimizer state: use finetune.optimizer=fresh")
    state: dict[int, dict[str, Any]] = {}
    for key, tensor in load_file(str(path), device=str(model.device)).items():
        index, _, name = key.partition(".")
        state.setdefault(int(index), {})[name] = tensor
    optimizer = model.policy.optimizer
    try:
        optimizer.load_state_dict({"state": state, "param_groups": optimizer.state_dict()["param_groups"]})
    except (ValueError, RuntimeError, KeyError) as exc:
        raise ConfigError(f"champion {champion.ref}'s optimizer state does not fit this optimizer ({exc}): "
                          "use finetune.optimizer=fresh") from None


def check_fits(champion: Champion, observation_space: Any, action_space: Any) -> None:
    """The env's spaces must be the champion's (e.g. a decoupled champion on a standard env fails)."""
    for key, space in (("observation_space", observation_space), ("action_space", action_space)):
        spec = mf.space_spec(space)
        if spec != champion.manifest[key]:
            raise ConfigError(f"champion {champion.ref} ({champion.manifest.get('architecture')}) was trained with "
                              f"{key} {champion.manifest[key]} but this env has {spec}: pick an env that fits it "
                              "(e.g. env=curve_trace_decoupled for a decoupled champion)")
