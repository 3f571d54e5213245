"""A run's model as champion files: the policy's weights (and optimizer moments) as safetensors,
the SB3 zip for plain SB3 users, the normalisation statistics, and the manifest saying what to
build and where it came from (with the sha256 of every file)."""

from __future__ import annotations

import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from rlft.champions import manifest as mf
from rlft.runs.layout import RunFolder

DEFAULT_GATE = 0.9


def model_summary(metrics: dict[str, Any], source: str) -> dict[str, Any]:
    """The evaluation of the model that would be registered (best/ or final/): its entry in the
    learning curve, or the final evaluation."""
    final = metrics.get("final") or {}
    if source == "final":
        return final
    best = metrics.get("best") or {}
    entry = next((e for e in metrics.get("eval", []) if e["timesteps"] == best.get("timesteps")), None)
    return entry or final


def gate_figure(metrics: dict[str, Any], source: str) -> float | None:
    """The success rate of the model that would be registered (best/ or final/)."""
    best = metrics.get("best") or {}
    if source == "best" and best.get("metric") == "success_rate":
        return best.get("value")
    return model_summary(metrics, source).get("success_rate")


def write_champion_files(
    folder: Path,
    run: RunFolder,
    cfg: DictConfig,
    metrics: dict,
    model_dir: Path,
    success: float | None,
    source: str,
    force: bool,
    gate: dict[str, Any],
) -> dict[str, Any]:
    """Fill ``folder`` from ``model_dir`` (a model of ``run``, trained with ``cfg``); returns the
    manifest (without name and version, which publication adds)."""
    from safetensors.torch import save_model
    from stable_baselines3.common.save_util import load_from_zip_file

    from rlft.algos.factory import build_model
    from rlft.envs.factory import make_vec_env
    from rlft.envs.normalization import SETTINGS_FILE, STATS_FILE
    from rlft.envs.spaces import space_spec
    from rlft.runs.provenance import package_versions

    venv = make_vec_env(cfg, 1, cfg.seed)
    try:
        model = build_model(cfg.hparams, venv, seed=cfg.seed, device="cpu")
        # name -> state dict (SB3's stubs say name -> tensor)
        params: dict[str, Any] = load_from_zip_file(model_dir / mf.SB3_ZIP, load_data=False, device="cpu")[1]
        model.policy.load_state_dict(params["policy"])  # tensors only: nothing unpickled
        save_model(model.policy, str(folder / mf.WEIGHTS))
        if "policy.optimizer" in params:
            save_optimizer_state(params["policy.optimizer"], folder / mf.OPTIMIZER)
        observation, action = space_spec(venv.observation_space), space_spec(venv.action_space)  # the env's layout
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
        "metrics": {
            "success_rate": success,
            "source": source,
            "final": final,
            "best": metrics.get("best"),
            "total_timesteps": metrics.get("total_timesteps"),
        },
        "gate": {**gate, "forced": force},
        "source_run": str(run.root.resolve()),
        "parent": cfg.champion.name if cfg.champion.name != "none" else (metrics.get("init") or {}).get("champion"),
        "init": metrics.get("init"),  # an init= run's source: path and sha256 of its weights
        "seed": cfg.seed,
        "packages": package_versions(),
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "files": {p.name: mf.sha256(p) for p in sorted(folder.iterdir())},
    }


def save_optimizer_state(state_dict: dict[str, Any], path: Path) -> None:
    """The optimizer's tensors as safetensors (``<param index>.<name>``); hyperparameters are not
    kept: a fine-tune sets its own LR and betas."""
    import torch
    from safetensors.torch import save_file

    tensors = {
        f"{index}.{key}": (value if torch.is_tensor(value) else torch.tensor(float(value))).contiguous()
        for index, entry in state_dict["state"].items()
        for key, value in entry.items()
    }
    save_file(tensors, str(path))
