"""The benchmark runner works end to end (its cheapest benchmark, in quick mode)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_run_all_quick_startup_writes_result(tmp_path: Path) -> None:
    env = {**os.environ, "RLFT_BENCH_RESULTS": str(tmp_path)}  # leave bench/results/ to real runs
    done = subprocess.run(
        [sys.executable, "bench/run_all.py", "--quick", "--only", "startup"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "summary" in done.stdout

    data = json.loads((tmp_path / "startup.json").read_text(encoding="utf-8"))
    assert {"name", "machine", "quick", "rows", "details"} <= data.keys()
    assert data["name"] == "startup" and data["quick"] is True
    assert {"python", "torch", "stable_baselines3", "cpu_count", "git", "timestamp"} <= data["machine"].keys()
    metrics = {r["metric"]: r for r in data["rows"]}
    assert {"cfg_job_wall_median", "no_torch_or_sb3_import"} <= metrics.keys()
    assert all({"value", "unit", "target", "passed"} <= r.keys() for r in data["rows"])


@pytest.mark.slow
def test_finetune_benchmark_plumbing_quick(tmp_path: Path) -> None:
    """Champion -> scratch -> two recipes at tiny budgets: the result rows are all there."""
    env = {**os.environ, "RLFT_BENCH_RESULTS": str(tmp_path), "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.bench_finetune",
            "--quick",
            "--recipes",
            "naive",
            "ewc",
            "--workdir",
            str(tmp_path / "work"),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    data = json.loads((tmp_path / "finetune.json").read_text())
    assert [r["recipe"] for r in data["details"]["recipes"]] == ["naive", "ewc"]
    assert any(r["metric"].startswith("ewc: retention") for r in data["rows"])


@pytest.mark.slow
def test_image_env_benchmark_quick_compares_rlft_with_bare_sb3(tmp_path: Path) -> None:
    """rlft and bare SB3 both train CnnPolicy on the channel-last image env; the rows hold the ratio."""
    env = {**os.environ, "RLFT_BENCH_RESULTS": str(tmp_path), "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "bench/bench_image_env.py", "--quick", "--envs", "image_chase"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    data = json.loads((tmp_path / "image_env.json").read_text(encoding="utf-8"))
    assert data["quick"] is True and "bench_image_env.py --quick" in data["details"]["command"]
    rows = {r["metric"]: r for r in data["rows"]}
    ratio = rows["image_chase: ratio_rlft_over_bare"]
    assert ratio["target"] == ">= 0.97" and ratio["passed"] is (ratio["value"] >= 0.97)
    runs = data["details"]["envs"]["image_chase"]["runs"]
    assert set(runs) == {"rlft", "bare", "rlft_default"}
    # every variant trained the same number of env steps, and rlft's fair variant evaluated nothing on the way
    assert {r["steps"] for rs in runs.values() for r in rs} == {data["details"]["envs"]["image_chase"]["steps_per_run"]}
    assert runs["rlft"][0]["periodic_evals"] == 0
    expected = runs["rlft"][0]["steps_per_s"] / runs["bare"][0]["steps_per_s"]
    assert abs(ratio["value"] - expected) < 1e-3
    # both sides timed on SB3's learn call: wall and CPU seconds, the CPU ratio reported beside
    assert all(0 < r["learn_cpu_s"] and 0 < r["learn_s"] for rs in runs.values() for r in rs)
    cpu = runs["rlft"][0]["steps_per_cpu_s"] / runs["bare"][0]["steps_per_cpu_s"]
    assert abs(rows["image_chase: ratio_cpu_time_rlft_over_bare"]["value"] - cpu) < 1e-3


def test_image_chase_env_is_channel_last_uint8_and_reaches_its_target() -> None:
    """The bench's own env: (64, 64, 3) uint8 images; walking straight to the target ends the episode."""
    import numpy as np

    from bench.envs import ImageChase

    env = ImageChase()
    obs, _ = env.reset(seed=3)
    assert obs.shape == (64, 64, 3) and obs.dtype == np.uint8 and env.observation_space.contains(obs)
    (ar, ac), (tr, tc) = env._agent, env._target
    moves = [2 if tr > ar else 1] * abs(tr - ar) + [4 if tc > ac else 3] * abs(tc - ac)
    rewards, terminated, info = [], False, {}
    for action in moves:
        obs, reward, terminated, truncated, info = env.step(action)
        rewards.append(reward)
        assert not truncated
    assert terminated and info["is_success"] and rewards[-1] > 0.9
    assert all(r < 0 for r in rewards[:-1])
    # the agent's red cell is drawn where it stands
    assert tuple(obs[tr * 8, tc * 8]) == (220, 0, 0)


@pytest.mark.slow
def test_image_env_profile_accounts_for_the_learn_phase(tmp_path: Path) -> None:
    """--profile writes one cProfile per side and splits each learn phase into SB3's parts and rlft's."""
    from bench.versus_sb3 import loop_accounting

    env = {**os.environ, "RLFT_BENCH_RESULTS": str(tmp_path), "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "bench/bench_image_env.py", "--quick", "--envs", "image_chase", "--profile", str(tmp_path)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    assert not (tmp_path / "image_env.json").exists()  # profiling measures nothing
    rlft = loop_accounting(tmp_path / "image_chase_rlft.prof")
    bare = loop_accounting(tmp_path / "image_chase_bare.prof")
    for parts in (rlft, bare):
        assert parts["rollouts"] + parts["updates"] <= parts["learn"]
    assert rlft["log dumps"] > 0 and rlft["callback hooks"] > 0  # rlft's TensorBoard scalars and callback
    assert "[image_chase] rlft learn phase: learn" in done.stdout and "of learn)" in done.stdout


@pytest.mark.parametrize("bench_module", ["bench.bench_image_env", "bench.bench_train_speed"])
def test_rlft_side_gets_the_bare_sides_ppo_arguments(bench_module: str, tmp_path: Path) -> None:
    """The options given to `rlft train` compose into the SB3 arguments the bare script gets."""
    import importlib

    from bench.versus_sb3 import Setup, rlft_args
    from rlft.algos.factory import model_kwargs
    from rlft.config.compose import compose_config

    module = importlib.import_module(bench_module)
    if bench_module.endswith("image_env"):
        setup = module.setups(["image_chase"], quick=False)[0][0]
    else:
        setup = Setup(name="cartpole", policy="MlpPolicy", ppo=module.ppo_kwargs(None), env_id="CartPole-v1")
    for defaults in (False, True):
        cfg = compose_config(rlft_args(setup, 4 * setup.rollout, tmp_path, defaults))
        kwargs = model_kwargs(cfg.hparams)
        assert {k: kwargs[k] for k in setup.ppo} == setup.ppo
        assert kwargs["policy_kwargs"] == {} and cfg.hparams.policy == setup.policy
        assert (cfg.env.id, cfg.env._target_, cfg.env.n_envs) == (setup.env_id, setup.env_target, setup.n_envs)
        assert (cfg.seed, cfg.torch_threads, cfg.env.normalize.obs, cfg.env.normalize.reward) == (0, 1, False, False)
        assert (cfg.eval.every, cfg.checkpoint.every) == ((10_000, 50_000) if defaults else (0, 0))
