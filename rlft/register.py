"""``rlft register RUN name=NAME`` (or ``python -m rlft.register``): bank a run's model as a champion.

Refuses (exit 2, one line with the figure) when the model misses its gate: its success rate below
``min_success=0.9``, or ``gate='<metric><op><number>'`` on any metric the run reports
(``gate='mean_reward>=200'``, ``gate='info/ess>=0.8'``; an env that reports no success needs
one); ``force=true`` registers anyway and the manifest records it. Registering an
existing name creates its next version (``NAME@v2``); nothing is ever overwritten.
"""

from __future__ import annotations

import sys
from typing import Sequence

from rlft.arguments import REGISTRY_ENV, Command, Option, Positional, default_registry, registry_option, which_option
from rlft.cli import user_errors
from rlft.config.metrics import parse_gate
from rlft.errors import ConfigError

DEFAULT_REGISTRY_ENV = REGISTRY_ENV  # kept for importers; the registry default lives in rlft.arguments
__all__ = ["COMMAND", "DEFAULT_REGISTRY_ENV", "default_registry", "main"]

COMMAND = Command(
    "register",
    "Bank a run's model as a champion, behind a gate (success rate, or any metric with gate=).",
    positionals=(Positional("RUN", "a run folder (outputs/train/..., a curriculum folder or one of its stages)"),),
    options=(
        Option("name", "str", required=True, metavar="NAME", help="champion name: letters, digits, '_', '.', '-'"),
        Option("min_success", "float", default=0.9, minimum=0.0, maximum=1.0, help="the success gate"),
        Option(
            "gate",
            "str",
            metavar="METRIC>=X",
            help="a gate on any metric instead, e.g. gate='mean_reward>=200' or 'info/ess>=0.8'",
        ),
        Option("force", "bool", default=False, help="register below the gate (recorded in the manifest)"),
        which_option("best"),
        registry_option(),
    ),
    description="Registering an existing name creates its next version (NAME@v2); nothing is ever overwritten.",
)


def main(argv: Sequence[str] | None = None) -> None:
    with user_errors():
        args = COMMAND.parse(sys.argv[1:] if argv is None else argv)
        gate = None if args.gate is None else parse_gate(args.gate)
        if gate is not None and "min_success" in args.given:
            raise ConfigError("give min_success= (the success gate) or gate= (any metric), not both")
        from rlft.champions.registry import Registry

        champion = Registry(args.paths_registry).register(
            args.run, args.name, min_success=args.min_success, force=args.force, source=args.which, gate=gate
        )
        gate = champion.manifest["gate"]
        figure = (
            f"{gate['rule']}: {gate['value']:.4g}"
            if "rule" in gate
            else f"success {champion.manifest['metrics']['success_rate']}"
        )
        forced = " (forced below the gate)" if gate["forced"] else ""
        print(f"registered {champion.ref} ({champion.manifest['architecture']}, {figure}){forced}: {champion.folder}")


if __name__ == "__main__":
    main()
