"""The import graph keeps its layers (``tools/import_graph.py``): config imports no feature, no
part imports one above it, and no two parts import each other (lazy imports count)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FEATURES = {
    "envs",
    "algos",
    "policies",
    "training",
    "curriculum",
    "finetune",
    "champions",
    "traces",
    "sweep",
    "export",
    "assess",
    "runs",
    "evaluation",
    "scoring",
    "workflows",
    "schema",
}

# Upward edges still there, each with why (empty: none left).
ALLOWED_UPWARD: dict[str, str] = {}


def _graph():
    spec = importlib.util.spec_from_file_location("import_graph", REPO / "tools" / "import_graph.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, module.edges(REPO / "rlft")


def test_config_imports_no_feature() -> None:
    _, graph = _graph()
    imported = {target.split(".")[0] for source, target in graph if source == "config"}
    assert not imported & FEATURES, sorted(imported & FEATURES)
    assert imported <= {"errors", "io"}, sorted(imported)


def test_no_upward_edges_but_the_allowed() -> None:
    module, graph = _graph()
    found = {edge for edge, _, _ in module.upward(graph)}
    assert found <= set(ALLOWED_UPWARD), sorted(found - set(ALLOWED_UPWARD))


def test_no_import_cycle_between_parts() -> None:
    module, graph = _graph()
    assert module.cycles(graph) == []
