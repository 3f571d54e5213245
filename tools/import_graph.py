"""rlft's internal import graph between its top-level parts, checked against the layer order.

``python tools/import_graph.py`` lists every edge ``a -> b`` (part ``a`` imports from part ``b``,
with one ``file:line`` where it does), then the edges that go *up* the layer order and the import
cycles between parts. Every import counts: module level, inside functions (lazy imports are still
dependencies) and under ``TYPE_CHECKING``. Stdlib ``ast`` only, so it runs without rlft installed.

A part is a top-level subpackage (``rlft/champions/`` -> ``champions``) or top-level module
(``rlft/train.py`` -> ``train``). Command-line modules inside a package (``rlft/<pkg>/__main__.py``,
``rlft/assess/cli.py``, ``rlft/traces/cli.py``, ``rlft/traces/record.py``: ``python -m rlft.traces record``) are parts of their own (``champions.__main__``) on the entry level.

Layer order, bottom first (an import may go down or stay level, never up; the features on the
``features`` level must not import each other):

    base        errors, io, stats, plots, arguments
    config      config
    runs        runs
    components  envs, algos, policies, evaluation, scoring
    training    training
    champions   champions
    features    curriculum, finetune, traces, export, assess, sweep
    workflows   schema, workflows, hydra_callbacks
    entry       train, cli, console, init and the command-line modules

Exit status 0; ``--check`` exits 1 when an upward edge or a cycle is found.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from pathlib import Path

PACKAGE = "rlft"
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("base", ("errors", "io", "stats", "plots", "arguments")),
    ("config", ("config",)),
    ("runs", ("runs",)),
    ("components", ("envs", "algos", "policies", "evaluation", "scoring")),
    ("training", ("training",)),
    ("champions", ("champions",)),
    ("features", ("curriculum", "finetune", "traces", "export", "assess", "sweep")),
    ("workflows", ("schema", "workflows", "hydra_callbacks")),
    ("entry", ("train", "cli", "console", "init", "__main__", "evaluate", "compare", "register", "promote", "demo")),
]
SIDEWAYS_FORBIDDEN = ("features",)  # parts on these levels must not import each other
CLI_MODULES = (
    "assess.cli",
    "traces.record",
    "traces.cli",
)  # command-line modules inside a feature package, besides __main__
ENTRY = "entry"


def layer_of(part: str) -> str | None:
    if part.endswith(".__main__") or part in CLI_MODULES:
        return ENTRY
    return next((name for name, parts in LAYERS if part in parts), None)


def rank(layer: str) -> int:
    return [name for name, _ in LAYERS].index(layer)


def part_of(module: str) -> str | None:
    """``rlft.champions.registry`` -> ``champions``; ``rlft.champions.__main__`` -> itself."""
    pieces = module.split(".")
    if pieces[0] != PACKAGE or len(pieces) < 2:
        return None
    if len(pieces) >= 3 and (pieces[2] == "__main__" or ".".join(pieces[1:3]) in CLI_MODULES):
        return ".".join(pieces[1:3])
    return pieces[1]


def module_name(path: Path, root: Path) -> str:
    relative = path.relative_to(root.parent).with_suffix("")
    pieces = list(relative.parts)
    if pieces[-1] == "__init__":
        pieces.pop()
    return ".".join(pieces)


def imported_modules(tree: ast.AST, current: str, is_package: bool) -> list[tuple[str, int]]:
    """Every module an ``import`` / ``from ... import`` names, with its line."""
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = current.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            # ``from rlft.x import y`` may name the module rlft.x.y: keep both spellings
            found.append((module, node.lineno))
            found += [(f"{module}.{alias.name}", node.lineno) for alias in node.names]
    return found


def edges(root: Path) -> dict[tuple[str, str], str]:
    """``(importer part, imported part) -> "file:line"`` of the first place it happens."""
    result: dict[tuple[str, str], str] = {}
    for path in sorted(root.rglob("*.py")):
        current = module_name(path, root)
        source = part_of(current)
        if source is None:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for module, line in imported_modules(tree, current, path.name == "__init__.py"):
            target = part_of(module)
            if target is None or target == source:
                continue
            if "." in target and not (root / Path(*target.split("."))).with_suffix(".py").is_file():
                target = target.split(".")[0]  # ``from rlft.assess import cli`` names the module; else the package
            if target == source or (
                target.split(".")[0] == source.split(".")[0] and "." not in target and "." in source
            ):
                continue  # a package's own CLI module importing its package is internal
            result.setdefault((source, target), f"{path.relative_to(root.parent)}:{line}")
    return result


def upward(graph: dict[tuple[str, str], str]) -> list[tuple[str, str, str]]:
    """Edges against the layer order, with why."""
    flagged = []
    for (source, target), where in sorted(graph.items()):
        low, high = layer_of(source), layer_of(target)
        if low is None or high is None:
            flagged.append((f"{source} -> {target}", where, "part not in any layer"))
        elif rank(high) > rank(low):
            flagged.append((f"{source} -> {target}", where, f"{low} imports {high}"))
        elif high == low and low in SIDEWAYS_FORBIDDEN:
            flagged.append((f"{source} -> {target}", where, f"{low} import each other"))
    return flagged


def cycles(graph: dict[tuple[str, str], str]) -> list[list[str]]:
    """Strongly connected components of more than one part (Tarjan)."""
    nodes = sorted({n for edge in graph for n in edge})
    successors = {n: sorted(t for s, t in graph if s == n) for n in nodes}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in successors[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in nodes:
        if node not in index:
            visit(node)
    return sorted(found)


def report(root: Path) -> dict:
    graph = edges(root)
    return {
        "edges": [f"{s} -> {t}  ({w})" for (s, t), w in sorted(graph.items())],
        "upward": [f"{edge}  ({where}: {why})" for edge, where, why in upward(graph)],
        "cycles": [" <-> ".join(c) for c in cycles(graph)],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", default=str(Path(__file__).resolve().parents[1] / PACKAGE), help="the rlft package")
    parser.add_argument("--edges", action="store_true", help="also list every edge")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--check", action="store_true", help="exit 1 on an upward edge or a cycle")
    args = parser.parse_args(argv)
    result = report(Path(args.root))
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        if args.edges:
            print(f"edges ({len(result['edges'])}):")
            print("\n".join(f"  {e}" for e in result["edges"]))
        print(f"upward edges ({len(result['upward'])}):")
        print("\n".join(f"  {e}" for e in result["upward"]) or "  none")
        print(f"cycles ({len(result['cycles'])}):")
        print("\n".join(f"  {c}" for c in result["cycles"]) or "  none")
    return 1 if args.check and (result["upward"] or result["cycles"]) else 0


if __name__ == "__main__":
    sys.exit(main())
