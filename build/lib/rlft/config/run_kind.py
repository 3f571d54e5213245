"""Which workflow a composed config asks for, and where its run folder goes."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

from omegaconf import DictConfig

from rlft.config.schema import NONE

TRAIN, CURRICULUM, FINETUNE, DISTILL = "train", "curriculum", "finetune", "distill"


def run_kind(cfg: DictConfig) -> str:
    """Dispatch rule: traces mean distill (from a champion, if given), a champion means fine-tune,
    a curriculum means curriculum, else train."""
    if cfg.distill.traces is not None:
        return DISTILL
    if cfg.champion.name != NONE:
        return FINETUNE
    if cfg.curriculum.name != NONE:
        return CURRICULUM
    return TRAIN


def run_folder_name(cfg: DictConfig, timestamp: datetime) -> str:
    prefix = {FINETUNE: "FT_", DISTILL: "BC_"}.get(run_kind(cfg), "")
    return f"{prefix}{cfg.experiment_name}_{timestamp:%Y-%m-%d_%H-%M-%S}"


def claim_new_run_dir(cfg: DictConfig) -> Path:
    """Create and return a fresh run folder ``<output_dir>/<kind>/<name>_<timestamp>``.

    ``os.mkdir`` is atomic, so two runs started in the same second (parallel sweep jobs) get
    distinct folders: the second one takes a ``-2`` suffix.
    """
    parent = Path(cfg.paths.output_dir) / run_kind(cfg)
    parent.mkdir(parents=True, exist_ok=True)
    base = run_folder_name(cfg, datetime.now())
    for attempt in range(1, 1000):
        candidate = parent / (base if attempt == 1 else f"{base}-{attempt}")
        try:
            os.mkdir(candidate)
            return candidate
        except FileExistsError:
            continue
    raise RuntimeError(f"could not create a unique run folder under {parent}")
