"""The workflow layer: one run builds and validates its config once; printing a config creates
nothing; the run folder is claimed atomically."""

from __future__ import annotations

import runpy
import sys
from datetime import datetime
from pathlib import Path

import pytest
from hydra.core.global_hydra import GlobalHydra

from rlft import workflows
from tests.conftest import TINY, compose_config, run_cli

QUIET = ["hydra/job_logging=none", "hydra/hydra_logging=none"]


def _train_in_process(monkeypatch: pytest.MonkeyPatch, args: list[str]) -> list[str]:
    """Run ``python -m rlft.train <args>`` in this process; the kinds validate() was called for."""
    calls: list[str] = []
    real = workflows.validate

    def counting(cfg):
        calls.append(workflows.run_kind(cfg))
        return real(cfg)

    monkeypatch.setattr(workflows, "validate", counting)
    monkeypatch.setattr(sys, "argv", ["rlft.train", *args])
    GlobalHydra.instance().clear()
    try:
        try:  # as ``python -m rlft.train`` (Hydra finds conf/ from there)
            runpy.run_module("rlft.train", run_name="__main__")
        except SystemExit as exc:
            assert exc.code in (0, None), exc
    finally:
        GlobalHydra.instance().clear()
    return calls


def test_one_run_validates_once(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls = _train_in_process(monkeypatch, [*TINY, *QUIET, f"paths.output_dir={tmp_path}"])
    assert calls == ["train"]
    (run,) = (tmp_path / "train").iterdir()
    assert (run / "metrics.json").is_file() and (run / ".hydra" / "config.yaml").is_file()
    assert not workflows._ready, "the prepared config was taken by the run"


def test_each_sweep_job_validates_once(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import importlib

    from rlft.sweep import isolation

    def in_this_process(work: str, cfg) -> float | None:  # the job's own process would not see the counter
        module, _, name = work.partition(":")
        getattr(importlib.import_module(module), name)(cfg)
        return None

    monkeypatch.setattr(isolation, "run_isolated", in_this_process)
    calls = _train_in_process(
        monkeypatch,
        [
            "-m",
            *TINY,
            *QUIET,
            "hparams.total_timesteps=128",
            "eval.every=0",
            "checkpoint.every=0",
            "seed=1,2",
            f"paths.output_dir={tmp_path}",
            f"paths.multirun_dir={tmp_path / 'multirun'}",
        ],
    )
    assert calls == ["train", "train"]


def test_printing_the_config_creates_no_folder(tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = run_cli(["env=cartpole", f"paths.output_dir={out}", "--cfg", "all", "--resolve"], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"dir: {out}/train/cartpole_ppo_" in done.stdout  # the path is shown, not made
    assert not out.exists()


def test_resolver_is_pure_and_claim_is_atomic(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    cfg = compose_config(["env=cartpole", f"paths.output_dir={tmp_path}"])
    planned = workflows.run_dir(_root_=cfg)
    assert not Path(planned).exists()

    class Frozen(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime(2030, 1, 2, 3, 4, 5)

    monkeypatch.setattr(workflows, "datetime", Frozen)
    first, second = workflows.claim_new_run_dir(cfg), workflows.claim_new_run_dir(cfg)
    assert first.name == "cartpole_ppo_2030-01-02_03-04-05"
    assert second.name == "cartpole_ppo_2030-01-02_03-04-05-2"
    assert first.is_dir() and second.is_dir()


def test_a_run_without_its_config_folder_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    result = run_cli([*TINY, "hydra.output_subdir=null", f"paths.output_dir={tmp_path / 'out'}"], cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.startswith("error: hydra.output_subdir=null")
    assert not (tmp_path / "out").exists()
