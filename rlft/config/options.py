"""Read one option of a config group (``conf/<group>/<name>.yaml``) outside Hydra's composition.

A curriculum names its stages by option (``stage: 3``) and needs each stage's config while it
runs; composing the whole tree again per stage would be slow and would re-apply the user's
overrides to the wrong place. Options with their own ``defaults`` list are not supported here.
"""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from rlft.errors import ConfigError

CONF_DIR = Path(__file__).resolve().parents[2] / "conf"


def has_option(group: str, name: str) -> bool:
    return (CONF_DIR / group / f"{name}.yaml").is_file()


def option_names(group: str) -> list[str]:
    folder = CONF_DIR / group
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []


def load_option(group: str, name: str, where: str) -> DictConfig:
    """The YAML of ``<group>=<name>``; ``where`` names the config key that asked, for the error."""
    if not has_option(group, name):
        names = option_names(group)
        listed = ", ".join(sorted(names, key=lambda n: (len(n), n))) or "none"
        raise ConfigError(f"{where}={name!r} is not a {group} option (conf/{group}/): use one of {listed}")
    node = OmegaConf.load(CONF_DIR / group / f"{name}.yaml")
    if not isinstance(node, DictConfig) or "defaults" in node:
        raise ConfigError(f"conf/{group}/{name}.yaml must be a plain mapping without a defaults list")
    return node
