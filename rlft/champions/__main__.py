"""``rlft champions list | show NAME | lineage NAME | verify NAME [paths.registry=DIR]`` (or ``python -m rlft.champions``):
browse and check the registry.

``lineage`` prints the tree of a name's versions (parents, source runs, gates, dates) from the
manifests alone (:mod:`rlft.champions.lineage`).

``verify`` prints one line per check (checksums, allowlist, signature) and fails (one ``error:``
line, exit 2) when a check fails, or when a signing key is configured and the champion is unsigned
or wrongly signed. Trusted packages come from ``$RLFT_TRUSTED_MODULES=a,b``, the key from
``$RLFT_SIGNING_KEY`` / ``$RLFT_SIGNING_KEY_FILE``."""

from __future__ import annotations

import json
import sys
from typing import Sequence

from rlft.arguments import Command, Group, Positional, registry_option
from rlft.cli import user_errors

REF = Positional("NAME", "a champion: NAME (its latest version) or NAME@vN")

GROUP = Group(
    "champions",
    "Browse and check the champion registry.",
    {
        "list": Command(
            "champions list",
            "Every champion version with its architecture, success and lineage.",
            options=(registry_option(),),
        ),
        "show": Command(
            "champions show", "One champion's manifest (JSON).", positionals=(REF,), options=(registry_option(),)
        ),
        "lineage": Command(
            "champions lineage",
            "The tree of a champion's versions: parents, source runs, gates, dates.",
            positionals=(Positional("NAME", "a champion name"),),
            options=(registry_option(),),
        ),
        "verify": Command(
            "champions verify",
            "Check one champion: files against their sha256, the code its manifest "
            "names against the allowlist, its signature.",
            positionals=(REF,),
            options=(registry_option(),),
        ),
    },
)


def main(argv: Sequence[str] | None = None) -> None:
    with user_errors():
        command, args = GROUP.parse(sys.argv[1:] if argv is None else argv)
        from rlft.champions.registry import Registry

        registry = Registry(args.paths_registry)
        if command == "list":
            champions = registry.champions()
            if not champions:
                print(f"no champions in {registry.root}")
            for c in champions:
                m = c.manifest
                origin = (
                    f"  promoted from {m['parent']}"
                    if "promotion" in m["gate"]
                    else (f"  fine-tuned from {m['parent']}" if m.get("parent") else "")
                )
                gate = m["gate"]
                figure = (
                    f"{gate['rule']} ({gate['value']:.4g})"
                    if "rule" in gate
                    else f"success {m['metrics']['success_rate']}"
                )
                print(
                    f"{c.ref:<28} {m['architecture']:<10} {figure}  "
                    f"{m['stage'].get('name', '')!s:<6} {m['created_at']}{'  (forced)' if m['gate']['forced'] else ''}"
                    f"{origin}"
                )
        elif command == "lineage":
            from rlft.champions.lineage import lineage_lines
            from rlft.champions.names import parse_ref

            print("\n".join(lineage_lines(registry.storage, parse_ref(args.name)[0])))
        elif command == "show":
            print(json.dumps(registry.storage.get(args.name).manifest, indent=2))  # shown, never loaded
        else:
            from rlft.champions.signing import require_signed

            champion, state = registry.check(args.name)
            print(f"{champion.ref}: checksums ok ({len(champion.manifest['files'])} files match their sha256)")
            print(f"{champion.ref}: allowlist ok (every module its manifest names is trusted)")
            print(f"{champion.ref}: signature: {state}")
            if registry.key() is not None:
                require_signed(state, f"champion {champion.ref}")


if __name__ == "__main__":
    main()
