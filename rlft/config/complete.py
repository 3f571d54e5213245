"""Complete a config from a model's own: the groups the user did not choose come from the model.

``python -m rlft.train champion=best_stop stage=11 hparams.lr=1e-6`` fine-tunes on the champion's
env with its hyperparameters; ``python -m rlft.evaluate <run> stages=[1,5]`` evaluates on the env
the run trained on. So each of the ``env``, ``stage`` and ``hparams`` groups comes from the model
unless the user chose an option for it (on the command line or in the ``experiment`` file's
defaults list); then every key the user set under them (``hparams.lr=...``) is put back on top. A
chosen env without a chosen stage does not inherit the model's stage (it may not exist there).
"""

from __future__ import annotations

from typing import Any, Sequence

from omegaconf import DictConfig, OmegaConf

from rlft.config.options import option_path
from rlft.config.schema import on_schema

FROM_MODEL = ("env", "stage", "hparams")


def _leaf_keys(node: Any, prefix: str) -> list[str]:
    if isinstance(node, dict) and node:
        return [k for key, value in node.items() for k in _leaf_keys(value, f"{prefix}.{key}")]
    return [prefix]


def user_choices(overrides: Sequence[str]) -> tuple[set[str], list[str]]:
    """(groups the user picked an option for, keys under env/stage/hparams the user set)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    groups: set[str] = set()
    keys: list[str] = []
    for override in OverridesParser.create().parse_overrides(list(overrides)):
        name = override.key_or_group
        if override.is_hydra_override() or override.is_delete():
            continue
        if name == "experiment":
            path = option_path("experiment", str(override.value()))
            experiment: Any = OmegaConf.to_container(OmegaConf.load(path)) if path else {}  # a YAML mapping
            for entry in experiment.pop("defaults", None) or []:
                if isinstance(entry, dict):
                    groups.update(k.split()[-1].strip("/") for k in entry)
            keys += [k for group in FROM_MODEL if group in experiment for k in _leaf_keys(experiment[group], group)]
        elif name in FROM_MODEL:
            groups.add(name)
        elif name.split(".")[0] in FROM_MODEL:
            keys.append(name)
    return groups, keys


def complete_from_model(cfg: DictConfig, overrides: Sequence[str], model: dict[str, Any]) -> DictConfig:
    """``cfg`` (composed from ``overrides``) with the groups the user left alone taken from
    ``model`` (``env``, ``stage``, ``stage_overrides``, ``hparams`` as plain dicts)."""
    groups, keys = user_choices(overrides)
    base = OmegaConf.to_container(OmegaConf.masked_copy(cfg, [str(k) for k in cfg if k != "hydra"]), resolve=True)
    assert isinstance(base, dict)
    for group in FROM_MODEL:
        if group not in groups and not (group == "stage" and "env" in groups):
            base[group] = model[group]
    if "stage" not in groups and "env" not in groups:
        base["stage_overrides"] = {**(model.get("stage_overrides") or {}), **base["stage_overrides"]}
    merged = on_schema(base)
    for key in keys:  # the user's own settings win over the model's
        OmegaConf.update(merged, key, OmegaConf.select(cfg, key), merge=False)
    return merged
