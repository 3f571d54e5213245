"""best/ and final/ as atomically swapped symlinks to versioned folders, and their recovery."""

from __future__ import annotations

import os
from pathlib import Path

from rlft.runs import pointers
from rlft.runs.layout import RunFolder
from rlft.runs.recovery import recover


def _version(link: Path, text: str) -> Path:
    folder = pointers.next_version(link)
    folder.mkdir()
    (folder / "model.zip").write_text(text)
    return folder


def test_a_new_version_replaces_the_pointer_and_old_ones_go(tmp_path: Path) -> None:
    link = tmp_path / "final"
    pointers.point(link, _version(link, "one"))
    second = _version(link, "two")
    pointers.point(link, second)
    assert link.is_symlink() and os.readlink(link) == ".final.v2", "relative, so the run folder can move"
    assert (link / "model.zip").read_text() == "two"
    assert [p.name for p in pointers.prune(link, set())] == [".final.v1"]
    assert [n for n, _ in pointers.versions(link)] == [2]


def test_an_old_real_folder_is_migrated(tmp_path: Path) -> None:
    link = tmp_path / "best"
    link.mkdir()
    (link / "model.zip").write_text("old")
    pointers.point(link, _version(link, "new"))
    assert link.is_symlink() and (link / "model.zip").read_text() == "new"


def test_recover_repoints_a_missing_pointer_and_removes_leftovers(tmp_path: Path) -> None:
    run = RunFolder(tmp_path)
    _version(run.final_dir, "one")
    _version(run.final_dir, "two")  # killed after the version was complete, before the pointer existed
    (tmp_path / ".metrics.json.abc.tmp").write_text("{")
    (tmp_path / "..final.v3.xyz.tmp").mkdir()
    (run.checkpoints_dir / ".step_64.q.tmp").mkdir(parents=True)
    fixes = recover(run)
    assert os.readlink(run.final_dir) == ".final.v2"
    assert [n for n, _ in pointers.versions(run.final_dir)] == [2]
    assert not list(tmp_path.glob(".*.tmp")) and not list(run.checkpoints_dir.iterdir())
    assert len(fixes) == 5 and not (tmp_path / ".lock").exists()


def test_recover_adopts_the_old_layouts_best_new(tmp_path: Path) -> None:
    """Killed between the old two renames: best/ gone, best.new complete, .best.old the previous."""
    run = RunFolder(tmp_path)
    (tmp_path / "best.new").mkdir()
    (tmp_path / "best.new" / "model.zip").write_text("newest")
    (tmp_path / ".best.old").mkdir()
    recover(run)
    assert (run.best_dir / "model.zip").read_text() == "newest"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".best.v1", "best"]


def test_recover_leaves_a_dangling_pointer_without_versions_removed(tmp_path: Path) -> None:
    run = RunFolder(tmp_path)
    os.symlink(".best.v4", run.best_dir)
    recover(run)
    assert not os.path.lexists(run.best_dir)
