"""Command-line plumbing shared by ``rlft.evaluate`` and ``rlft.compare``: split the arguments into
models, their own options and config overrides, and pick the output folder."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Sequence

from rlft.errors import ConfigError
from rlft.register import default_registry

OPTIONS = {
    "stages": "stages to evaluate on: [1,5,11], 3 or all (default: the model's own stage)",
    "episodes": "episodes per stage (default 100), the same seeds for every model",
    "deterministic": "true (default) or false",
    "which": "final (default) or best: which model of a run folder",
    "out": "output folder (default outputs/<command>/<name>_<time>/)",
    "registry": "champion registry (default $RLFT_REGISTRY or champions)",
}


@dataclass
class Arguments:
    models: list[str]
    overrides: list[str]
    stages: str | None = None
    episodes: int | None = None  # None: the command's default (evaluate/compare 100, record 1000)
    deterministic: bool | None = None  # None: the command's default (evaluate/compare true, record false)
    which: str = "final"
    out: Path | None = None
    registry: str = field(default_factory=default_registry)
    extra: dict[str, str] = field(default_factory=dict)  # a command's own further options


def _boolean(key: str, value: str) -> bool:
    lowered = value.lower()
    if lowered not in ("true", "false", "1", "0", "yes", "no"):
        raise ConfigError(f"{key}={value} is not valid: use true or false")
    return lowered in ("true", "1", "yes")


def parse(argv: Sequence[str], command: str, extra: Sequence[str] = ()) -> Arguments:
    """``MODEL [MODEL ...] [option=value ...] [config override ...]``: the first arguments without
    ``=`` are models; ``stages``, ``episodes``, ``deterministic``, ``which``, ``out`` and
    ``registry`` are this command's; everything else composes the env config as in training."""
    models = []
    rest = list(argv)
    while rest and "=" not in rest[0]:
        models.append(rest.pop(0))
    if not models:
        raise ConfigError(f"python -m rlft.{command}: give a model first (a run folder, a model folder, a champion "
                          "name or oracle)")
    args = Arguments(models, [])
    for item in rest:
        key, _, value = item.partition("=")
        if key in extra:
            args.extra[key] = value
        elif key not in OPTIONS:
            args.overrides.append(item)
        elif key == "episodes":
            if not value.isdigit() or int(value) <= 0:
                raise ConfigError(f"episodes={value} must be a positive integer")
            args.episodes = int(value)
        elif key == "deterministic":
            args.deterministic = _boolean(key, value)
        elif key == "out":
            args.out = Path(value)
        else:
            setattr(args, key, value)
    return args


def output_folder(args: Arguments, command: str, name: str, output_dir: str) -> Path:
    """``out=`` or ``<paths.output_dir>/<command>/<name>_<time>``; refuses to mix into a used folder."""
    folder = args.out or Path(output_dir) / command / f"{name}_{datetime.now():%Y-%m-%d_%H-%M-%S}"
    if folder.exists() and any(folder.iterdir()):
        raise ConfigError(f"out={folder} is not empty: pick a new folder")
    return folder


def usage(command: str, doc: str) -> str:
    options = "\n".join(f"  {key:<14}{text}" for key, text in OPTIONS.items())
    return f"{doc}\noptions (key=value):\n{options}\n"
