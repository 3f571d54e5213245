"""Atomic writes: the old file survives a failed write and no temporary file is left."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from rlft.io import atomic_dir, atomic_path, atomic_write_json, read_json


def test_json_round_trip_with_numpy_values(tmp_path: Path) -> None:
    target = tmp_path / "m.json"
    atomic_write_json(target, {"a": np.float32(0.5), "b": np.arange(3), "c": np.int64(4)})
    assert read_json(target) == {"a": 0.5, "b": [0, 1, 2], "c": 4}


def test_failed_write_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "m.json"
    atomic_write_json(target, {"v": 1})
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("{half")
            raise RuntimeError("crash mid-write")
    assert read_json(target) == {"v": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json"]


def test_atomic_dir_appears_whole_or_not_at_all(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError):
        with atomic_dir(tmp_path / "ckpt") as tmp:
            (tmp / "model.zip").write_bytes(b"x")
            raise RuntimeError("killed")
    assert list(tmp_path.iterdir()) == []
    with atomic_dir(tmp_path / "ckpt") as tmp:
        (tmp / "model.zip").write_bytes(b"x")
    assert (tmp_path / "ckpt" / "model.zip").read_bytes() == b"x"


def test_atomic_files_get_a_normal_mode_not_mkstemps_private_one(tmp_path: Path) -> None:
    import os

    from rlft.io import atomic_write_text

    mask = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "metrics.json", "{}")
        assert (tmp_path / "metrics.json").stat().st_mode & 0o777 == 0o644
    finally:
        os.umask(mask)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), np.float32("nan"), [1.0, -np.inf]])
def test_json_is_strict_and_a_refused_value_keeps_the_old_file(tmp_path: Path, value: object) -> None:
    target = tmp_path / "m.json"
    atomic_write_json(target, {"ok": 1})
    with pytest.raises(ValueError, match="JSON compliant"):
        atomic_write_json(target, {"metric": value})
    assert read_json(target) == {"ok": 1} and [p.name for p in tmp_path.iterdir()] == ["m.json"]
