"""Compose ``python -m rlft.train``'s config outside a Hydra app (evaluate, compare, tests), and the
command-line fix-ups every rlft CLI shares."""

from __future__ import annotations

from typing import Sequence

from omegaconf import DictConfig, OmegaConf

from rlft.config.options import CONF_DIR

NUMERIC_GROUPS = ("stage",)


def quote_numeric_group_choices(argv: list[str]) -> list[str]:
    """``stage=3`` -> ``stage='3'`` (also in sweeps: ``stage=1,2``).

    Hydra parses ``3`` as an int and refuses an int as a config group choice; stage options are
    named by number, so users type numbers.
    """
    fixed = []
    for arg in argv:
        key, sep, value = arg.partition("=")
        if sep and key.lstrip("+~") in NUMERIC_GROUPS and value and all(v.isdigit() for v in value.split(",")):
            arg = f"{key}=" + ",".join(f"'{v}'" for v in value.split(","))
        fixed.append(arg)
    return fixed


def compose_config(overrides: Sequence[str] = ()) -> DictConfig:
    """The config ``python -m rlft.train <overrides>`` would run with (without the hydra node)."""
    from hydra import compose, initialize_config_dir

    from rlft.config.resolvers import register_resolvers
    from rlft.config.schema import register_configs

    register_configs()
    register_resolvers()
    with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name="config", overrides=quote_numeric_group_choices(list(overrides)))
    cfg = OmegaConf.masked_copy(cfg, [k for k in cfg if k != "hydra"])
    OmegaConf.set_struct(cfg, True)
    return cfg
