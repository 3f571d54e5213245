"""Command-line declarations shared by ``rlft evaluate``, ``rlft compare`` and ``rlft traces record``
(models as positionals, their options, every other ``key=value`` a config override) and the choice
of the output folder."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from rlft.arguments import Arguments, Option, Positional, registry_option, source_options
from rlft.errors import ConfigError

if TYPE_CHECKING:
    from rlft.assess.sources import Source

MODEL_HELP = (
    "a run folder (its final/ model; which=best for best/, checkpoint=STEP), a curriculum folder (its last "
    "stage), a model folder, a champion (NAME or NAME@vN), an exported HF folder, an SB3 zip (trust_pickle=true) "
    "or oracle (oracle:greedy: the greedy one)"
)
OVERRIDES_HELP = (
    "compose the env config as in training: env=..., stage=3, stage_overrides.noise_sigma=0.1, "
    "paths.output_dir=DIR (the root of the dated output folder); the env defaults to the model's own"
)


def model(at_least: int = 1, at_most: int | None = 1, hint: str = "") -> Positional:
    return Positional("MODEL", MODEL_HELP, at_least=at_least, at_most=at_most, hint=hint)


def judge_options(command: str) -> tuple[Option, ...]:
    """The options of evaluate and compare."""
    return (
        Option(
            "stages",
            "list",
            metavar="[1,5,11]",
            help="stages to evaluate on: [1,5,11], 3 or all",
            default_text="the first model's own stage",
        ),
        Option("episodes", "int", default=100, minimum=1, help="episodes per stage, the same seeds for every model"),
        Option(
            "deterministic",
            "bool",
            help="deterministic actions (false: sampled)",
            default_text="the models' own eval.deterministic (true when unknown)",
        ),
        *source_options("final"),
        Option(
            "out",
            "path",
            metavar="DIR",
            help="the exact output folder (new or empty)",
            default_text=f"<paths.output_dir>/{command}/<name>_<time>",
        ),
        registry_option(),
    )


def deterministic(args: Arguments, sources: Sequence["Source"]) -> bool:
    """``deterministic=`` as given, else how the models' runs evaluated (true when unknown); models
    that evaluated differently need it said, so a comparison never mixes the two silently."""
    if args.deterministic is not None:
        return bool(args.deterministic)
    own = {s.deterministic for s in sources if s.deterministic is not None}
    if len(own) > 1:
        raise ConfigError(
            "the models were evaluated with different eval.deterministic settings: say deterministic=true or false"
        )
    return own.pop() if own else True


def output_folder(args: Arguments, command: str, name: str, output_dir: str) -> Path:
    """``out=`` or ``<paths.output_dir>/<command>/<name>_<time>``; refuses to mix into a used folder."""
    folder = args.out or Path(output_dir) / command / f"{name}_{datetime.now():%Y-%m-%d_%H-%M-%S}"
    if folder.exists() and any(folder.iterdir()):
        raise ConfigError(f"out={folder} is not empty: pick a new folder")
    return folder
