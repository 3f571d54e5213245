"""The configuration a resumed run continues with.

``resume=<run dir>`` continues the run with the config it was started with (``.hydra/config.yaml``),
plus the plain ``key=value`` overrides given alongside (e.g. a larger ``hparams.total_timesteps``
or a new ``hparams.lr``). Switching a config group on resume would make a different run, so it
is refused.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from omegaconf import DictConfig, OmegaConf, open_dict

from rlft.config.schema import schema_node
from rlft.errors import ConfigError, RunFolderError
from rlft.runs.layout import RunFolder

CONFIG_GROUPS = ("env", "stage", "hparams", "champion", "curriculum", "experiment", "finetune", "hparams_search")


def _structured(saved: DictConfig) -> DictConfig:
    merged = OmegaConf.merge(schema_node(), saved)
    OmegaConf.set_struct(merged, True)
    return merged


def resume_config(cfg: DictConfig, overrides: Sequence[str]) -> DictConfig:
    from hydra.core.override_parser.overrides_parser import OverridesParser

    run = RunFolder(Path(cfg.resume))
    if not run.config_file.is_file():
        raise RunFolderError(f"resume={cfg.resume!r} is not an rlft run folder (no .hydra/config.yaml)")
    saved = OmegaConf.load(run.config_file)
    with open_dict(saved):
        saved.pop("hydra", None)
    merged = _structured(saved)
    for override in OverridesParser.create().parse_overrides(list(overrides)):
        key = override.key_or_group
        if key == "resume" or override.is_hydra_override():
            continue
        if key in CONFIG_GROUPS or override.package is not None:
            raise ConfigError(f"{override.input_line}: a config group cannot change on resume; "
                              f"start a new run instead, or override single keys (e.g. {key}.<field>=...)")
        if override.is_delete() or override.is_sweep_override():
            raise ConfigError(f"{override.input_line}: only plain key=value overrides work with resume=")
        OmegaConf.update(merged, key, override.value(), merge=True)
    merged.resume = cfg.resume
    return merged


def effective_config(cfg: DictConfig, overrides: Sequence[str]) -> DictConfig:
    """The config a run will use: the resumed run's config plus overrides, a fine-tune's
    (completed from its champion), or the composed one."""
    if cfg.resume:
        return resume_config(cfg, overrides)
    if cfg.champion.name != "none":
        from rlft.finetune.config import finetune_config

        return finetune_config(cfg, overrides)
    return cfg
