"""``python -m rlft.register <run dir> --name NAME``: bank a run's model as a champion.

Refuses (exit 2, one line with the figure) when the run's success rate is below the gate;
``--force`` registers anyway and the manifest records it. Registering an existing name creates
its next version (``NAME@v2``); nothing is ever overwritten.
"""

from __future__ import annotations

import argparse
import os

from rlft.cli import user_errors

DEFAULT_REGISTRY_ENV = "RLFT_REGISTRY"


def default_registry() -> str:
    """``$RLFT_REGISTRY``, else ``champions`` (the project root when run from there)."""
    return os.environ.get(DEFAULT_REGISTRY_ENV, "champions")


def main(argv: list[str] | None = None) -> None:
    from rlft.champions.registry import DEFAULT_GATE, Registry

    parser = argparse.ArgumentParser(prog="python -m rlft.register", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dir", help="a run folder (outputs/train/..., a curriculum folder or one of its stages)")
    parser.add_argument("--name", required=True, help="champion name: letters, digits, '_', '.', '-'")
    parser.add_argument("--min-success", type=float, default=DEFAULT_GATE, help="success gate (default 0.9)")
    parser.add_argument("--force", action="store_true", help="register below the gate (recorded)")
    parser.add_argument("--from", dest="source", choices=("best", "final"), default="best",
                        help="which model of the run (default best)")
    parser.add_argument("--registry", default=default_registry(), help="registry root (default $RLFT_REGISTRY or champions)")
    args = parser.parse_args(argv)
    with user_errors():
        champion = Registry(args.registry).register(args.run_dir, args.name, min_success=args.min_success,
                                                    force=args.force, source=args.source)
        success = champion.manifest["metrics"]["success_rate"]
        forced = " (forced below the gate)" if champion.manifest["gate"]["forced"] else ""
        print(f"registered {champion.ref} ({champion.manifest['architecture']}, success {success}){forced}: "
              f"{champion.folder}")


if __name__ == "__main__":
    main()
