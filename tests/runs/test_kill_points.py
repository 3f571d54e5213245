"""Killed at every write, rename and delete, a run resumes and a registration retries cleanly.

Each command is first run whole in counting mode (how many fault points it passes), then once per
point, killed there with SIGKILL; the next command must finish as if nothing had happened. The
training runs after the counting one are forked from the test process (see tests/faults.py).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from stable_baselines3 import PPO

from rlft.champions.registry import Registry
from rlft.runs.layout import RunFolder
from tests.conftest import TINY
from tests.faults import count_points, run_clean, run_killed

pytestmark = pytest.mark.slow

RUN = [*TINY, "checkpoint.keep=1"]
REPORT_ENV = "RLFT_FAULT_REPORT"  # optional: a file that receives the outcome of every kill point


def _report(line: str) -> None:
    if os.environ.get(REPORT_ENV):
        with open(os.environ[REPORT_ENV], "a", encoding="utf-8") as handle:
            handle.write(line + "\n")


def _short(point: str) -> str:
    """``kind path`` with the path inside its run folder or registry."""
    kind, path = point.split(" ", 1)
    inside = path.split("/outputs/train/")[-1].split("/", 1)[-1] if "/outputs/train/" in path else Path(path).name
    return f"{kind} {inside}"


def _only_run(outputs: Path) -> RunFolder:
    (folder,) = list((outputs / "train").iterdir())
    return RunFolder(folder)


def _assert_complete(run: RunFolder) -> None:
    metrics = json.loads(run.metrics_file.read_text())
    assert metrics["status"] == "completed" and metrics["total_timesteps"] == 512
    assert [e["timesteps"] for e in metrics["eval"]] == [256, 512]
    assert PPO.load(run.final_dir / "model.zip").num_timesteps == 512
    assert PPO.load(run.best_dir / "model.zip").num_timesteps in (256, 512)
    leftovers = [p.name for p in run.root.iterdir() if p.name.endswith((".tmp", ".new", ".old")) or p.name == ".lock"]
    assert leftovers == []


def test_a_run_killed_at_any_point_resumes_to_the_same_end(tmp_path: Path) -> None:
    reference = tmp_path / "reference"
    reference.mkdir()
    done, points = count_points(
        [*RUN, f"paths.output_dir={reference}/outputs"], reference, "rlft.train", tmp_path / "points.txt"
    )
    assert done.returncode == 0, done.stderr
    _assert_complete(_only_run(reference / "outputs"))
    assert len(points) > 20
    _report(f"train: {len(points)} kill points")
    for n, point in enumerate(points, start=1):
        work = tmp_path / f"kill{n}"
        work.mkdir()
        run_killed([*RUN, f"paths.output_dir={work}/outputs"], work, "rlft.train", n, forked=True)
        run = _only_run(work / "outputs")
        resumed = run_clean([f"resume={run.root}"], work, "rlft.train", forked=True)
        assert "Traceback" not in resumed.stderr, f"point {n} ({point}):\n{resumed.stderr[-3000:]}"
        if not run.metrics_file.is_file():  # killed before the run had begun: nothing to resume
            assert resumed.returncode == 2 and "is not an rlft run folder" in resumed.stderr
            _report(f"train point {n}: {_short(point)} -> nothing to resume (one-line error)")
            continue
        assert resumed.returncode == 0, f"point {n} ({point}):\n{resumed.stderr[-3000:]}"
        _assert_complete(run)
        logged = resumed.stdout + resumed.stderr  # Hydra's job logging writes to stdout
        assert "took over the lock" in logged, "the killed process's lock is stale"
        fixes = logged.count("recovered after a crash")
        _report(f"train point {n}: {_short(point)} -> resumed, completed at 512{f' ({fixes} fixes)' if fixes else ''}")


def test_a_registration_killed_at_any_point_leaves_the_registry_usable(tmp_path: Path) -> None:
    outputs = tmp_path / "outputs"
    done = run_clean([*RUN, f"paths.output_dir={outputs}"], tmp_path, "rlft.train")
    assert done.returncode == 0, done.stderr
    run = _only_run(outputs)
    register = [str(run.root), "name=champ", "force=true"]
    counting = tmp_path / "counting"
    done, points = count_points(
        [*register, f"paths.registry={counting}"], tmp_path, "rlft.register", tmp_path / "points.txt"
    )
    assert done.returncode == 0, done.stderr
    assert len(points) >= 3
    _report(f"register: {len(points)} kill points")
    for n, point in enumerate(points, start=1):
        registry = tmp_path / f"registry{n}"
        run_killed([*register, f"paths.registry={registry}"], tmp_path, "rlft.register", n)
        listed = run_clean(["list", f"paths.registry={registry}"], tmp_path, "rlft.champions")
        assert listed.returncode == 0 and "Traceback" not in listed.stderr, listed.stderr
        published = "champ@v1" in listed.stdout  # killed after its rename
        again = run_clean([*register, f"paths.registry={registry}"], tmp_path, "rlft.register")
        assert again.returncode == 0, f"point {n} ({point}):\n{again.stderr[-3000:]}"
        champions = Registry(registry).champions()
        for champion in champions:
            Registry(registry).verify(champion.ref)
        expected = ["champ@v1", "champ@v2"] if published else ["champ@v1"]
        assert [c.ref for c in champions] == expected, f"point {n} ({point})"
        assert not [p for p in registry.iterdir() if p.name.startswith(".staging-")]
        _report(f"register point {n}: {_short(point)} -> list ok, registered again ({', '.join(expected)})")
