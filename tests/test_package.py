"""rlft installs as a normal wheel: configs inside, the ``rlft`` script, usable from an empty folder."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from tests.conftest import REPO


def _run(args: list[str], cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(cwd), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow
def test_the_wheel_installs_into_a_fresh_venv_and_runs_from_an_empty_folder(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    built = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", str(REPO), "-w", str(wheels)], tmp_path)
    assert built.returncode == 0, built.stderr[-2000:]
    wheel = next(wheels.glob("rlft-*.whl"))

    venv = tmp_path / "venv"
    assert _run([sys.executable, "-m", "venv", str(venv)], tmp_path).returncode == 0
    # the dependencies come from this interpreter's site-packages (no multi-GB download in a test);
    # a plain path line, so the editable rlft of the checkout is not on it
    site = Path(next(venv.glob("lib/python3*/site-packages")))
    (site / "_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    installed = _run([str(venv / "bin" / "python"), "-m", "pip", "install", "--no-deps", "-q", str(wheel)], tmp_path)
    assert installed.returncode == 0, installed.stderr[-2000:]

    empty = tmp_path / "empty"
    empty.mkdir()
    where = _run([str(venv / "bin" / "python"), "-c", "import rlft.conf, rlft; print(rlft.__file__)"], empty)
    assert where.returncode == 0 and str(site) in where.stdout, where.stdout + where.stderr

    rlft = str(venv / "bin" / "rlft")
    helped = _run([rlft, "--help"], empty)
    assert helped.returncode == 0 and "train" in helped.stdout and "champions" in helped.stdout

    trained = _run(
        [
            rlft,
            "train",
            "env=cartpole",
            "env.n_envs=2",
            "hparams.n_steps=64",
            "hparams.batch_size=64",
            "hparams.n_epochs=1",
            "hparams.total_timesteps=128",
            "eval.every=0",
            "eval.final_episodes=2",
            "eval.n_envs=2",
            "checkpoint.every=0",
            "progress=none",
        ],
        empty,
    )
    assert trained.returncode == 0, trained.stderr[-2000:]
    runs = list((empty / "outputs" / "train").iterdir())
    assert len(runs) == 1 and (runs[0] / "final" / "model.zip").is_file()

    started = _run([rlft, "init", "proj"], empty)
    assert started.returncode == 0, started.stderr
    shown = _run([rlft, "train", "experiment=my_experiment", "--cfg", "job"], empty / "proj")
    assert shown.returncode == 0 and "name: my_env" in shown.stdout, shown.stderr
