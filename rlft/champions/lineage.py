"""``rlft champions lineage NAME``: the family tree of a champion's versions.

Every version's manifest names its ``parent`` (the champion its source run was fine-tuned from)
and its ``gate`` (a registration's success gate, or a promotion's checks and baseline), so the tree
is read from the manifests alone: no model is loaded. Champions registered under other names from
a version of NAME appear as its children too.
"""

from __future__ import annotations

from typing import Any

from rlft.champions.storage import Champion, Storage


def gate_text(manifest: dict[str, Any]) -> str:
    """How a version got in: promoted (against what, which checks) or registered (its gate)."""
    gate = manifest["gate"]
    promotion = gate.get("promotion")
    if promotion is not None:
        passed = ", ".join(c["check"] for c in promotion.get("checks", []) if c.get("passed"))
        against = promotion.get("against", promotion.get("parent"))
        again = ", re-evaluated" if promotion.get("re_evaluated") else ""
        return f"promoted against {against} ({passed or 'no checks'}{again})"
    success = manifest["metrics"].get("success_rate")
    shown = "no success rate" if success is None else f"success {success:.3f}"
    if gate.get("forced"):
        return f"registered below the gate {gate.get('min_success')} ({shown}, forced)"
    return f"registered, gate {gate.get('min_success')} ({shown})"


def _line(champion: Champion) -> str:
    m = champion.manifest
    promotion = m["gate"].get("promotion") or {}
    source = promotion.get("fine_tune_run") or m.get("source_run", "?")
    return f"{champion.ref}  {m['created_at']}  {gate_text(m)}  run {source}"


def lineage_lines(storage: Storage, name: str) -> list[str]:
    """The tree of ``name``'s versions as text lines (roots first, children indented)."""
    storage.get(name)  # an unknown name is the usual one-line error listing the registered names
    everyone = storage.champions()
    children: dict[str, list[Champion]] = {}
    for champion in everyone:
        parent = champion.manifest.get("parent")
        if parent:
            children.setdefault(parent, []).append(champion)
    mine = [c for c in everyone if c.name == name]
    refs = {c.ref for c in mine}
    roots = [c for c in mine if c.manifest.get("parent") not in refs]
    lines: list[str] = []

    def walk(champion: Champion, prefix: str, last: bool, top: bool) -> None:
        if top:
            parent = champion.manifest.get("parent")
            lines.append(_line(champion) + (f"  (fine-tuned from {parent})" if parent else ""))
            inner = ""
        else:
            lines.append(f"{prefix}{'└─ ' if last else '├─ '}{_line(champion)}")
            inner = prefix + ("   " if last else "│  ")
        kids = children.get(champion.ref, [])
        for i, kid in enumerate(kids):
            walk(kid, inner, i == len(kids) - 1, False)

    for root in roots:
        walk(root, "", True, True)
    return lines
