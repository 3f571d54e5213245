"""rlft champions lineage: the tree of a name's versions, read from the manifests alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rlft.champions.lineage import lineage_lines
from rlft.champions.names import folder_name
from rlft.champions.storage import Storage
from rlft.errors import ConfigError


def _bank(root: Path, name: str, version: int, parent: str | None, gate: dict, day: int) -> None:
    folder = root / folder_name(name, version)
    folder.mkdir(parents=True)
    manifest = {
        "name": name,
        "version": version,
        "parent": parent,
        "gate": gate,
        "metrics": {"success_rate": 0.9},
        "source_run": f"/runs/{name}{version}",
        "created_at": f"2026-01-0{day}T00:00:00+00:00",
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))


def _promotion(parent: str, against: str, run: str) -> dict:
    checks = [{"check": "improved", "passed": True}, {"check": "kept", "passed": True}]
    return {
        "promotion": {"parent": parent, "against": against, "checks": checks, "fine_tune_run": run},
        "forced": False,
    }


def test_the_tree_shows_versions_under_their_parents_with_gates_runs_and_dates(tmp_path: Path) -> None:
    _bank(tmp_path, "base", 1, None, {"min_success": 0.9, "forced": False}, 1)
    _bank(tmp_path, "base", 2, "base@v1", _promotion("base@v1", "base@v1", "/ft/a"), 2)
    _bank(tmp_path, "base", 3, "base@v1", _promotion("base@v1", "base@v2", "/ft/b"), 3)
    _bank(tmp_path, "other", 1, "base@v2", {"min_success": 0.9, "forced": True}, 4)
    lines = lineage_lines(Storage(tmp_path), "base")
    assert lines[0].startswith("base@v1  2026-01-01") and "registered, gate 0.9" in lines[0]
    assert lines[1].startswith("├─ base@v2  2026-01-02") and "promoted against base@v1 (improved, kept)" in lines[1]
    assert "run /ft/a" in lines[1]
    assert lines[2].startswith("│  └─ other@v1") and "forced" in lines[2] and "run /runs/other1" in lines[2]
    assert lines[3].startswith("└─ base@v3") and "promoted against base@v2" in lines[3]
    assert len(lines) == 4


def test_a_name_fine_tuned_from_another_says_where_it_came_from(tmp_path: Path) -> None:
    _bank(tmp_path, "base", 1, None, {"min_success": 0.9, "forced": False}, 1)
    _bank(tmp_path, "other", 1, "base@v1", {"min_success": 0.9, "forced": False}, 2)
    (line,) = lineage_lines(Storage(tmp_path), "other")
    assert line.startswith("other@v1") and line.endswith("(fine-tuned from base@v1)")


def test_an_unknown_name_lists_the_registered_ones(tmp_path: Path) -> None:
    _bank(tmp_path, "base", 1, None, {"min_success": 0.9, "forced": False}, 1)
    with pytest.raises(ConfigError, match="registered: base"):
        lineage_lines(Storage(tmp_path), "nobody")
