"""``rlft register RUN name=NAME`` (or ``python -m rlft.register``): bank a run's model as a champion.

Refuses (exit 2, one line with the figure) when the run's success rate is below the gate
(``min_success=0.9``); ``force=true`` registers anyway and the manifest records it. Registering an
existing name creates its next version (``NAME@v2``); nothing is ever overwritten.
"""

from __future__ import annotations

import sys
from typing import Sequence

from rlft.arguments import REGISTRY_ENV, Command, Option, Positional, default_registry, registry_option, which_option
from rlft.cli import user_errors

DEFAULT_REGISTRY_ENV = REGISTRY_ENV  # kept for importers; the registry default lives in rlft.arguments
__all__ = ["COMMAND", "DEFAULT_REGISTRY_ENV", "default_registry", "main"]

COMMAND = Command(
    "register",
    "Bank a run's model as a champion, behind a success gate.",
    positionals=(Positional("RUN", "a run folder (outputs/train/..., a curriculum folder or one of its stages)"),),
    options=(
        Option("name", "str", required=True, metavar="NAME", help="champion name: letters, digits, '_', '.', '-'"),
        Option("min_success", "float", default=0.9, minimum=0.0, maximum=1.0, help="the success gate"),
        Option("force", "bool", default=False, help="register below the gate (recorded in the manifest)"),
        which_option("best"),
        registry_option(),
    ),
    description="Registering an existing name creates its next version (NAME@v2); nothing is ever overwritten.",
)


def main(argv: Sequence[str] | None = None) -> None:
    with user_errors():
        args = COMMAND.parse(sys.argv[1:] if argv is None else argv)
        from rlft.champions.registry import Registry

        champion = Registry(args.paths_registry).register(
            args.run, args.name, min_success=args.min_success, force=args.force, source=args.which
        )
        success = champion.manifest["metrics"]["success_rate"]
        forced = " (forced below the gate)" if champion.manifest["gate"]["forced"] else ""
        print(
            f"registered {champion.ref} ({champion.manifest['architecture']}, success {success}){forced}: "
            f"{champion.folder}"
        )


if __name__ == "__main__":
    main()
