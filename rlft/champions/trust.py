"""The one allowlist of what a champion may make rlft import.

A manifest names code: ``env._target_`` (and any nested ``_target_``, e.g. wrappers),
``env.vec_env``, the module of an ``env.id`` written ``module:Id``, a dotted ``hparams.policy`` and
the ``policy_kwargs`` class paths. Anyone who can write the registry folder can rewrite a manifest
(its ``manifest.sha256`` is a plain hash), so every such path is checked *before anything is
imported*: it must lie under rlft, gymnasium, stable_baselines3, sb3_contrib (and ``torch.nn`` /
``torch.optim`` for policy classes) or a package the user trusts (``paths.trusted_modules``,
``$RLFT_TRUSTED_MODULES=a,b``), or a path the user's own project config names (``conf/env/*.yaml``
of the project folder: its ``_target_``s and ``module:Id`` modules, exactly those paths). Under the built-in roots a path must also name a *class*: those
packages hold functions that unpickle or import by name (``load_from_pkl``, ``gymnasium.make``),
which a manifest must not be able to call; a user-trusted package may name factories too.

The user's own training config (``rlft train env._target_=my_pkg.make_env``) is the user's own
command and is not checked; what comes from a champion's manifest, or a run config banked as a
champion, is.
"""

from __future__ import annotations

import os
from typing import Any, Iterator, Sequence

from rlft.errors import ConfigError

BUILT_IN = ("rlft", "gymnasium", "stable_baselines3", "sb3_contrib", "torch.nn", "torch.optim")
ENV_VAR = "RLFT_TRUSTED_MODULES"
PLAIN_VEC_ENVS = ("dummy", "subproc")
SHOWN = "rlft, gymnasium, stable_baselines3, sb3_contrib, + paths.trusted_modules"


def trusted_roots(extra: Sequence[str] = ()) -> tuple[str, ...]:
    """The built-in roots, ``$RLFT_TRUSTED_MODULES``, ``extra`` (``paths.trusted_modules``) and the
    paths the project's own env options name."""
    from_env = [p.strip() for p in os.environ.get(ENV_VAR, "").split(",") if p.strip()]
    return (*BUILT_IN, *from_env, *(str(p) for p in extra), *project_env_paths())


def project_env_paths() -> tuple[str, ...]:
    """The code paths the project's ``conf/env/*.yaml`` name: the user wrote them (like their own
    command line), so a champion of their own env loads in every command without also listing its
    package in ``paths.trusted_modules``. Exact paths only: a wrapper the project does not use is
    still refused. An unreadable file adds nothing (the train command reports it)."""
    from omegaconf import OmegaConf

    from rlft.config.options import project_config_dir

    folder = project_config_dir()
    if folder is None or not (folder / "env").is_dir():
        return ()
    paths: list[str] = []
    for file in sorted((folder / "env").glob("*.yaml")):
        try:
            env = OmegaConf.to_container(OmegaConf.load(file))
        except Exception:  # a broken option file is the train command's error to report
            continue
        if isinstance(env, dict):
            paths.extend(path for _, path in named_paths({"env": env}))
    return tuple(paths)


def _under(path: str, roots: Sequence[str]) -> bool:
    return any(path == root or path.startswith((root + ".", root + ":")) for root in roots)


def named_paths(config: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """``(key, dotted path)`` for every path a champion's env / hparams make rlft import."""
    env = config.get("env") or {}
    yield from _targets(env, "env")
    if env.get("vec_env") not in (None, *PLAIN_VEC_ENVS):
        yield "env.vec_env", str(env["vec_env"])
    env_id = env.get("id")
    if isinstance(env_id, str) and ":" in env_id:
        yield "env.id", env_id.rpartition(":")[0]
    hparams = config.get("hparams") or {}
    if isinstance(hparams.get("policy"), str) and "." in hparams["policy"]:
        yield "hparams.policy", hparams["policy"]
    yield from _class_paths(hparams.get("policy_kwargs") or {}, "hparams.policy_kwargs")


def _targets(node: Any, key: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for name, value in node.items():
            if name == "_target_" and value is not None:
                yield f"{key}._target_", str(value)
            else:
                yield from _targets(value, f"{key}.{name}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _targets(value, f"{key}[{index}]")


def _class_paths(node: Any, key: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for name, value in node.items():
            if isinstance(value, str) and (name.endswith("_class") or name == "activation_fn"):
                yield f"{key}.{name}", value
            else:
                yield from _class_paths(value, f"{key}.{name}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _class_paths(value, f"{key}[{index}]")


def check_trusted(config: dict[str, Any], where: str, extra: Sequence[str] = ()) -> None:
    """Refuse (one line, nothing imported) a path outside the trusted roots."""
    roots = trusted_roots(extra)
    for key, path in named_paths(config):
        if not _under(path, roots):
            raise ConfigError(
                f"{where}: {key}={path!r} is not an allowed module (allowed: {SHOWN}): "
                "add its package to paths.trusted_modules if you trust it"
            )


def check_classes(config: dict[str, Any], where: str, extra: Sequence[str] = ()) -> None:
    """After :func:`check_trusted`: a path under a built-in root must name a class (importing
    the trusted module to see). Paths in a user-trusted package may name anything."""
    import importlib

    user = trusted_roots(extra)[len(BUILT_IN) :]
    for key, path in named_paths(config):
        if key == "env.id" or _under(path, user):
            continue
        module, _, attr = path.replace(":", ".").rpartition(".")
        try:
            target = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError, ValueError) as exc:
            raise ConfigError(f"{where}: {key}={path!r} cannot be imported ({exc})") from None
        if not isinstance(target, type):
            raise ConfigError(
                f"{where}: {key}={path!r} is not a class: a champion may name only classes from "
                f"{', '.join(BUILT_IN)} (factories only from paths.trusted_modules)"
            )
