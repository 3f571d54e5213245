"""Bad input: one clear line naming the key, exit code 2, and no run folder written."""

from __future__ import annotations

from pathlib import Path

import pytest

from rlft.workflows import validate
from rlft.errors import ConfigError, RunFolderError
from tests.conftest import compose_config, run_cli

CASES = [
    (["hparams.lr=abc"], "hparams.lr"),
    (["hparams.lr=0"], "hparams.lr"),
    (["hparams.lr=-1e-3"], "hparams.lr"),
    (["hparams.total_timesteps=0"], "hparams.total_timesteps"),
    (["hparams.total_timesteps=-5"], "hparams.total_timesteps"),
    (["hparams.batch_size=100"], "hparams.batch_size"),
    (["env.id=CartPol-v1"], "env.id"),
    (["hparams=nonexistent"], "hparams"),
    (["env=nonexistent"], "env"),
    (["resume=/"], "resume"),
    (["no_such_key=1"], "no_such_key"),
    (["env.n_envs=many"], "env.n_envs"),
    (["hparams=dqn", "hparams.clip_range=0.1"], "hparams.clip_range"),
    (["env.id=Pendulum-v1", "hparams=dqn"], "hparams.algo"),
    (["env.id=Pendulum-v1", "hparams=ppo_stop"], "MultiDiscrete or Discrete"),
    (["env.kwargs={bogus: 1}"], "bogus"),
    (["device=tpu"], "device"),
    (["early_stop.metric=success_rate"], "early_stop"),
]

CURVE_TRACE_CASES = [
    (["stage=0"], "stage"),
    (["stage=13"], "stage"),
    (["stage=x"], "stage"),
    (["env.kwargs.stop_mode=decoupld"], "stop_mode"),
    (["stage_overrides.no_such_param=1"], "no_such_param"),
    (["stage_overrides.noise_sigma=-0.1"], "noise_sigma"),
    (["stage_overrides.min_intensity=1.5"], "min_intensity"),
    (["hparams.batch_size=100"], "hparams.batch_size"),
]

CURRICULUM_CASES = [
    (["curriculum=curve_trace", "curriculum.start=13"], "curriculum.start"),
    (["curriculum=curve_trace", "stage=13"], "stage"),
    (["curriculum=curve_trace", "curriculum.on_fail=retry"], "curriculum.on_fail"),
    (["curriculum=curve_trace", "curriculum.init=/no/such/run"], "curriculum.init"),
    (["curriculum=curve_trace", "curriculum.stages=[{stage: 2, timesteps: 100, hparams: {batch_size: 100}}]"],
     "hparams.batch_size"),
    (["curriculum=curve_trace", "curriculum.stages=[{stage: 2, timesteps: 100, env_kwargs: {noise_sigma: -1}}]"],
     "noise_sigma"),
    (["curriculum=nonexistent"], "curriculum"),
    (["env=cartpole", "stage=all"], "curriculum="),
]


ALL_CASES = ([(["env=cartpole", *o], k) for o, k in CASES] + [(["env=curve_trace", *o], k) for o, k in CURVE_TRACE_CASES]
             + CURRICULUM_CASES)


@pytest.mark.parametrize("overrides,key", ALL_CASES, ids=[" ".join(c[0]) for c in ALL_CASES])
def test_cli_rejects_bad_input_with_one_line(overrides: list[str], key: str, tmp_path: Path) -> None:
    out = tmp_path / "outputs"
    done = run_cli([*overrides, f"paths.output_dir={out}"], cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: ") and key in lines[0]
    assert "Traceback" not in done.stderr
    assert not out.exists(), "a bad config must not create a run folder"


def test_batch_size_message_suggests_divisors() -> None:
    cfg = compose_config(["hparams.batch_size=100", "hparams.n_steps=128", "env.n_envs=4"])
    with pytest.raises(ConfigError, match=r"128 \* 4 = 512.*64, 128, 256, 512"):
        validate(cfg)


def test_resume_of_a_folder_that_is_not_a_run(tmp_path: Path) -> None:
    (tmp_path / "somewhere").mkdir()
    cfg = compose_config([f"resume={tmp_path / 'somewhere'}"])
    with pytest.raises(RunFolderError, match="not an rlft run folder"):
        validate(cfg)
