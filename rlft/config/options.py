"""Where config options live: the built-in ones shipped in the package, and a user project's own.

The built-in tree is ``rlft/conf`` (Hydra source ``pkg://rlft.conf``). A user project keeps its own
``conf/<group>/<name>.yaml`` files beside it; they are layered over the built-ins, so
``experiment=my_fix`` works exactly like ``experiment=finetune_noisy_stage3``. The project folder is,
in this order: ``--config-dir DIR`` (Hydra's own flag, passed on through ``RLFT_CONFIG_DIR``),
``$RLFT_CONFIG_DIR``, or ``./conf`` when it exists.

A user option may not have a built-in option's name: one of the two would be silently replaced, so
it is refused with one line. Reading one option here (a curriculum names its stages by option and
needs each stage's config while it runs) searches the same folders in the same order as Hydra,
and composes an option's own ``defaults`` list as Hydra does when it names other options of the
same group (``defaults: [calm, _self_]`` in ``stage/icy.yaml``); other entries are refused.
"""

from __future__ import annotations

import os
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from rlft.errors import ConfigError

BUILTIN_CONF_DIR = Path(__file__).resolve().parents[1] / "conf"
CONFIG_DIR_ENV = "RLFT_CONFIG_DIR"
# groups whose options are rlft's; a project folder may add options to each of them
GROUPS = ("env", "stage", "hparams", "champion", "curriculum", "experiment", "hparams_search")


def project_config_dir() -> Path | None:
    """The user's project ``conf/`` folder, or None; a named folder that is not there is an error."""
    named = os.environ.get(CONFIG_DIR_ENV)
    if named:
        folder = Path(named).expanduser().resolve()
        if not folder.is_dir():
            raise ConfigError(
                f"{CONFIG_DIR_ENV}={named!r} is not a folder: point it at your project's conf/ "
                "(rlft init DIR writes one)"
            )
        return folder
    local = Path.cwd() / "conf"
    if local.is_dir() and local.resolve() != BUILTIN_CONF_DIR:
        return local.resolve()
    return None


def check_project_dir(folder: Path | None) -> None:
    """A project folder may add options, never replace a built-in one or the primary config."""
    if folder is None:
        return
    if (folder / "config.yaml").is_file():
        raise ConfigError(
            f"{folder / 'config.yaml'}: a project folder adds options to rlft's groups; the primary "
            "config is built in. Move its settings into conf/experiment/<name>.yaml (experiment=<name>)"
        )
    for group in GROUPS:
        for path in sorted((folder / group).glob("*.yaml")):
            if (BUILTIN_CONF_DIR / group / path.name).is_file():
                raise ConfigError(
                    f"{path} has the name of the built-in option {group}={path.stem}, which it would "
                    f"silently replace: rename it (e.g. {group}/my_{path.stem}.yaml)"
                )


def config_dirs() -> list[Path]:
    """The folders options are read from, first match wins: the project's, then the built-ins."""
    project = project_config_dir()
    return [project, BUILTIN_CONF_DIR] if project else [BUILTIN_CONF_DIR]


def option_path(group: str, name: str) -> Path | None:
    return next((p for d in config_dirs() if (p := d / group / f"{name}.yaml").is_file()), None)


def has_option(group: str, name: str) -> bool:
    return option_path(group, name) is not None


def option_names(group: str) -> list[str]:
    return sorted({p.stem for d in config_dirs() for p in (d / group).glob("*.yaml")})


def load_option(group: str, name: str, where: str, _within: tuple[str, ...] = ()) -> DictConfig:
    """The config of ``<group>=<name>`` (its defaults list composed); ``where`` names the config key
    that asked, for the error."""
    path = option_path(group, name)
    if path is None:
        names = option_names(group)
        listed = ", ".join(sorted(names, key=lambda n: (len(n), n))) or "none"
        raise ConfigError(f"{where}={name!r} is not a {group} option: use one of {listed}")
    node = OmegaConf.load(path)
    if not isinstance(node, DictConfig):
        raise ConfigError(f"{path} must be a mapping")
    if "defaults" not in node:
        return node
    return _with_defaults(group, path, node, (*_within, name))


def _with_defaults(group: str, path: Path, node: DictConfig, within: tuple[str, ...]) -> DictConfig:
    """``node``'s defaults list merged in order, ``_self_`` (the file's own keys) last unless listed."""
    entries = list(node.defaults) if OmegaConf.is_list(node.defaults) else [node.defaults]
    own = OmegaConf.masked_copy(node, [str(k) for k in node if k != "defaults"])
    parts = []
    for entry in entries if "_self_" in entries else [*entries, "_self_"]:
        if entry == "_self_":
            parts.append(own)
        elif isinstance(entry, str) and "/" not in entry and " " not in entry and entry not in within:
            parts.append(load_option(group, entry, f"{path} defaults", within))
        else:
            raise ConfigError(
                f"{path}: defaults entry {entry!r} cannot be read here: list other {group} options "
                f"by name (no loops) and _self_"
            )
    merged = OmegaConf.merge(*parts)
    assert isinstance(merged, DictConfig)
    return merged


def searchpath() -> list[str]:
    """``hydra.searchpath`` entries for the project folder (the ``rlft_searchpath`` resolver)."""
    project = project_config_dir()
    return [f"file://{project}"] if project else []
