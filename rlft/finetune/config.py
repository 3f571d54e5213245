"""The config of a fine-tune: what the user chose, the rest from the champion.

``python -m rlft.train champion=best_stop stage=11 hparams.lr=1e-6`` should fine-tune the
champion on the env it was trained on, with its hyperparameters, on stage 11, with a smaller LR.
So each of the ``env``, ``stage`` and ``hparams`` groups comes from the champion's manifest
unless the user chose an option for it (on the command line or in the ``experiment`` file's
defaults list); then every key the user set under them (``hparams.lr=...`` on the command line,
``hparams: {lr: ...}`` in the experiment file) is put back on top. A chosen env without a chosen
stage does not inherit the champion's stage (it may not exist there). The network (``algo``,
``policy``, ``policy_kwargs``) is always the champion's. The resolved version (``name@vN``) is
pinned in ``champion.name`` so a resume loads the same one. With ``finetune.phases`` the budget
(``hparams.total_timesteps``) is the phases' sum.
"""

from __future__ import annotations

from typing import Any, Sequence

from omegaconf import DictConfig, OmegaConf

from rlft.config.options import CONF_DIR
from rlft.config.schema import schema_node

FROM_CHAMPION = ("env", "stage", "hparams")
NETWORK_KEYS = ("algo", "policy", "policy_kwargs")


def _leaf_keys(node: Any, prefix: str) -> list[str]:
    if isinstance(node, dict) and node:
        return [k for key, value in node.items() for k in _leaf_keys(value, f"{prefix}.{key}")]
    return [prefix]


def _user_choices(overrides: Sequence[str]) -> tuple[set[str], list[str]]:
    """(groups the user picked an option for, keys under env/stage/hparams the user set)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    groups: set[str] = set()
    keys: list[str] = []
    for override in OverridesParser.create().parse_overrides(list(overrides)):
        name = override.key_or_group
        if override.is_hydra_override() or override.is_delete():
            continue
        if name == "experiment":
            path = CONF_DIR / "experiment" / f"{override.value()}.yaml"
            experiment = OmegaConf.to_container(OmegaConf.load(path)) if path.is_file() else {}
            for entry in experiment.pop("defaults", None) or []:
                if isinstance(entry, dict):
                    groups.update(k.split()[-1].strip("/") for k in entry)
            keys += [k for group in FROM_CHAMPION if group in experiment
                     for k in _leaf_keys(experiment[group], group)]
        elif name in FROM_CHAMPION:
            groups.add(name)
        elif name.split(".")[0] in FROM_CHAMPION:
            keys.append(name)
    return groups, keys


def finetune_config(cfg: DictConfig, overrides: Sequence[str]) -> DictConfig:
    from rlft.champions.registry import Registry

    champion = Registry(cfg.paths.registry).get(cfg.champion.name)
    manifest = champion.manifest
    groups, keys = _user_choices(overrides)
    base = OmegaConf.to_container(OmegaConf.masked_copy(cfg, [k for k in cfg if k != "hydra"]), resolve=True)
    for group in FROM_CHAMPION:
        if group not in groups and not (group == "stage" and "env" in groups):
            base[group] = manifest[group]
    if "stage" not in groups and "env" not in groups:
        base["stage_overrides"] = {**manifest.get("stage_overrides", {}), **base["stage_overrides"]}
    base["champion"]["name"] = champion.ref
    merged = OmegaConf.merge(schema_node(), base)
    for key in keys:  # the user's own settings win over the champion's
        OmegaConf.update(merged, key, OmegaConf.select(cfg, key), merge=False)
    for key in NETWORK_KEYS:
        merged.hparams[key] = manifest["hparams"][key]
    if merged.finetune.phases:  # a progressive fine-tune's budget is its phases' sum
        from rlft.finetune.phases import parse_phases

        merged.hparams.total_timesteps = sum(phase.timesteps for phase in parse_phases(merged))
    OmegaConf.set_struct(merged, True)
    return merged
