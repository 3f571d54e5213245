"""``python -m rlft.champions list | show NAME | verify NAME``: browse and check the registry."""

from __future__ import annotations

import argparse
import json

from rlft.cli import user_errors
from rlft.register import default_registry


def main(argv: list[str] | None = None) -> None:
    from rlft.champions.registry import Registry

    parser = argparse.ArgumentParser(prog="python -m rlft.champions", description=__doc__)
    parser.add_argument("--registry", default=default_registry(), help="registry root (default $RLFT_REGISTRY or champions)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("list", help="every champion version with its architecture and success")
    for name in ("show", "verify"):
        sub = commands.add_parser(name, help=f"{name} one champion (NAME = latest, NAME@vN = a version)")
        sub.add_argument("ref")
    args = parser.parse_args(argv)
    registry = Registry(args.registry)
    with user_errors():
        if args.command == "list":
            champions = registry.champions()
            if not champions:
                print(f"no champions in {registry.root}")
            for c in champions:
                m = c.manifest
                origin = f"  promoted from {m['parent']}" if "promotion" in m["gate"] else \
                    (f"  fine-tuned from {m['parent']}" if m.get("parent") else "")
                print(f"{c.ref:<28} {m['architecture']:<10} success {m['metrics']['success_rate']}  "
                      f"{m['stage'].get('name', '')!s:<6} {m['created_at']}{'  (forced)' if m['gate']['forced'] else ''}"
                      f"{origin}")
        elif args.command == "show":
            print(json.dumps(registry.get(args.ref).manifest, indent=2))
        else:
            champion = registry.verify(args.ref)
            print(f"{champion.ref}: {len(champion.manifest['files'])} files match their sha256; manifest is loadable")


if __name__ == "__main__":
    main()
