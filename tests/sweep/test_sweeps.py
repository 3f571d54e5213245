"""Sweeps: failed jobs are isolated and summarised, seeds differ per job, search spaces are checked,
Optuna searches store their study in the sweep folder, joblib runs jobs in parallel."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from rlft.errors import ConfigError
from rlft.sweep.space import check_sweep
from rlft.sweep.summary import write_summary
from tests.conftest import TINY, run_cli

FAST = [*TINY, "eval.every=0", "checkpoint.every=0"]


def _sweep(tmp_path: Path, *args: str):
    swept = {a.split("=", 1)[0] for a in args}
    fixed = [a for a in FAST if a.split("=", 1)[0] not in swept]
    return run_cli(
        ["-m", *fixed, *args, f"paths.output_dir={tmp_path / 'outputs'}", f"hydra.sweep.dir={tmp_path / 'sweep'}"],
        cwd=tmp_path,
    )


def _rows(tmp_path: Path) -> list[dict[str, str]]:
    with open(tmp_path / "sweep" / "summary.csv", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_a_bad_job_is_recorded_and_the_others_finish(tmp_path: Path) -> None:
    done = _sweep(tmp_path, "hparams.batch_size=7,64", "hparams.lr=1e-3,3e-4")
    assert done.returncode == 0, done.stderr[-2000:]
    rows = _rows(tmp_path)
    assert [r["status"] for r in rows] == ["failed", "failed", "completed", "completed"]
    assert "does not divide" in rows[0]["error"] and rows[2]["hparams.batch_size"] == "64"
    assert [r["seed"] for r in rows] == ["0", "1", "2", "3"], "distinct seeds per job"
    job = json.loads((tmp_path / "sweep" / "0" / "job.json").read_text())
    assert job["status"] == "failed" and job["error"].startswith("ConfigError")
    text = (tmp_path / "sweep" / "summary.md").read_text()
    assert "4 jobs: 2 finished, 2 failed" in text and "## Failed jobs" in text and "summary.png" in text
    assert (tmp_path / "sweep" / "summary.png").is_file()
    assert (tmp_path / "sweep" / "2" / "tb" / "hparams").is_dir(), "TensorBoard HParams entry"
    config = (tmp_path / "sweep" / "3" / ".hydra" / "config.yaml").read_text()
    assert "seed: 3" in config, "the job's config records the seed it ran with"


def test_a_fixed_seed_is_kept_and_a_sweep_where_every_job_fails_exits_non_zero(tmp_path: Path) -> None:
    done = _sweep(tmp_path, "hparams.batch_size=7,9", "seed=5")
    assert done.returncode == 2 and "every job of the sweep failed (2)" in done.stderr
    assert [r["seed"] for r in _rows(tmp_path)] == ["5", "5"]


@pytest.mark.slow  # end to end, ~30-50 s: in make test-slow (CI runs it)
def test_summary_is_rebuilt_from_the_folder(tmp_path: Path) -> None:
    assert _sweep(tmp_path, "hparams.lr=1e-3,3e-4").returncode == 0
    (tmp_path / "sweep" / "summary.csv").unlink()
    done = run_cli(["summarize", str(tmp_path / "sweep")], cwd=tmp_path, module="rlft.sweep")
    assert done.returncode == 0 and "2 jobs, 0 failed" in done.stdout and len(_rows(tmp_path)) == 2
    missing = run_cli(["summarize", str(tmp_path)], cwd=tmp_path, module="rlft.sweep")
    assert missing.returncode == 2 and "holds no sweep jobs" in missing.stderr


@pytest.mark.parametrize(
    "key,text,message",
    [
        ("hparams.lr", "interval(1e-3, 1e-5)", "must be below its end"),
        ("hparams.lr", "tag(log, interval(0, 1e-3))", "log interval needs a start > 0"),
        ("hparams.n_steps", "range(64, 32)", "is empty"),
        ("hparams.lr", "interval(1e-3", "search space"),
    ],
)
def test_bad_search_spaces_are_one_line(key: str, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        check_sweep(key, text)
    check_sweep("hparams.lr", "tag(log, interval(1e-5, 1e-3))")  # a good one passes


def test_bad_sweep_settings_fail_before_any_job(tmp_path: Path) -> None:
    own = tmp_path / "conf" / "hparams_search"
    own.mkdir(parents=True)
    shipped = (Path(__file__).resolve().parents[2] / "rlft" / "conf" / "hparams_search" / "lr_ent.yaml").read_text()
    (own / "bad.yaml").write_text(shipped.replace("interval(0.0, 0.05)", "interval(0.05, 0.0)"))
    for args, message in (
        (["hydra/launcher=jobli", "seed=1,2"], "unknown option 'jobli'"),
        (
            ["hparams_search=bad", f"hydra.searchpath=[file://{tmp_path / 'conf'}]"],
            "hparams.ent_coef=interval(0.05, 0.0): interval start 0.05 must be below its end",
        ),
    ):
        done = _sweep(tmp_path, *args)
        assert done.returncode == 2 and message in done.stderr and len(done.stderr.strip().splitlines()) == 1
        assert not (tmp_path / "sweep" / "0").exists()


@pytest.mark.slow  # end to end, ~30-50 s: in make test-slow (CI runs it)
def test_optuna_search_keeps_its_study_in_the_sweep_folder_and_continues(tmp_path: Path) -> None:
    args = [
        "hparams_search=lr_ent",
        "hydra.sweeper.n_trials=2",
        "hydra.sweeper.sampler.n_startup_trials=2",
        "optimized_metric=mean_reward",
    ]
    assert _sweep(tmp_path, *args).returncode == 0
    assert (tmp_path / "sweep" / "optuna.db").is_file() and len(_rows(tmp_path)) == 2
    assert _sweep(tmp_path, *args).returncode == 0, "a second run continues the same study"
    import optuna

    study = optuna.load_study(study_name="lr_ent", storage=f"sqlite:///{tmp_path / 'sweep' / 'optuna.db'}")
    assert len(study.trials) == 4 and len(_rows(tmp_path)) == 4, "no trial folder reused"


@pytest.mark.slow  # end to end, ~30-50 s: in make test-slow (CI runs it)
def test_joblib_launcher_runs_the_grid(tmp_path: Path) -> None:
    done = _sweep(tmp_path, "hydra/launcher=joblib", "hydra.launcher.n_jobs=2", "hparams.lr=1e-3,3e-4")
    assert done.returncode == 0, done.stderr[-2000:]
    assert [r["status"] for r in _rows(tmp_path)] == ["completed", "completed"]


def test_write_summary_needs_job_folders(tmp_path: Path) -> None:
    from rlft.errors import RunFolderError

    with pytest.raises(RunFolderError, match="holds no sweep jobs"):
        write_summary(tmp_path)


@pytest.mark.slow
def test_ray_launcher_against_a_local_ray_cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAY_USAGE_STATS_ENABLED", "0")
    done = _sweep(tmp_path, "hydra/launcher=ray_local", "hparams.batch_size=7,64")
    assert done.returncode == 0, done.stderr[-3000:]
    assert [r["status"] for r in _rows(tmp_path)] == ["failed", "completed"], "a bad job is isolated on Ray too"


@pytest.mark.slow  # end to end, ~30-50 s: in make test-slow (CI runs it)
def test_slurm_preset_composes_and_runs_locally_through_submitit(tmp_path: Path) -> None:
    shown = run_cli(["hydra/launcher=slurm", "--cfg", "hydra", "-p", "hydra.launcher"], cwd=tmp_path)
    assert shown.returncode == 0 and "SlurmLauncher" in shown.stdout and "cpus_per_task: 2" in shown.stdout
    done = _sweep(tmp_path, "hydra/launcher=slurm_local", "hparams.lr=1e-3,3e-4")
    assert done.returncode == 0, done.stderr[-3000:]
    assert [r["status"] for r in _rows(tmp_path)] == ["completed", "completed"]


def test_summary_columns_are_own_metrics_and_every_info_metric_the_jobs_report(tmp_path: Path) -> None:
    from rlft.sweep.summary import job_rows

    for job, final in (("0", {"mean_reward": 1.0, "info/ess": 0.5}), ("1", {"mean_reward": 2.0, "info/rough": 3.0})):
        (tmp_path / job / ".hydra").mkdir(parents=True)
        (tmp_path / job / ".hydra" / "overrides.yaml").write_text(f"- seed={job}\n")
        (tmp_path / job / "metrics.json").write_text(json.dumps({"status": "completed", "final": final}))
    rows, _ = job_rows(tmp_path)
    assert (rows[0]["info/ess"], rows[0]["info/rough"], rows[1]["info/rough"]) == (0.5, None, 3.0)
    assert "mean_coverage" not in rows[0]


def test_optimized_metric_may_be_an_info_metric_and_a_missing_one_is_one_line() -> None:
    from rlft.train import _objective

    assert _objective({"final": {"mean_reward": 1.0, "info/ess": 0.5}}, "info/ess") == 0.5
    with pytest.raises(ConfigError, match="optimized_metric: metric 'info/esss' is not reported.*info/ess"):
        _objective({"final": {"mean_reward": 1.0, "info/ess": 0.5}}, "info/esss")
