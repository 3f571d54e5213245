"""(a) Framework overhead: PPO training steps/s of ``python -m rlft.train`` vs a bare SB3 script.

Same env (CartPole-v1, 8 envs, DummyVecEnv + VecMonitor), the PPO hyperparameters of
``rlft/conf/hparams/ppo.yaml``, seed 0, one torch thread. Every measurement is its own interpreter and the
variants alternate round by round, so drift (other load, thermal) hits them alike. Only the learn
phase is timed: for rlft the ``train_time_s`` of ``metrics.json`` (the training loop incl. its
callback, before the final evaluation and saves), for the bare script ``model.learn`` alone.

Variants: ``rlft`` (periodic evaluation and checkpoints off: the framework-overhead ratio, target
>= 0.97), ``bare``, and ``rlft_default`` (``eval.every`` / ``checkpoint.every`` at their defaults,
for information).

    python bench/bench_train_speed.py [--quick] [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

NAME = "train_speed"
TARGET_RATIO = 0.97
N_ENVS = 8
ROLLOUTS = 3
SEED = 0
RESULT_PREFIX = "BARE_RESULT "
# ppo.yaml field -> SB3 PPO argument; the remaining fields select the algorithm, not its settings
SB3_NAMES = {"lr": "learning_rate"}
NOT_SB3 = {"algo", "policy", "total_timesteps", "lr_schedule", "lr_end", "clip_schedule", "policy_kwargs"}


def ppo_kwargs(n_steps: int | None) -> dict[str, Any]:
    """SB3 PPO kwargs equal to ``rlft/conf/hparams/ppo.yaml`` (constant schedules), ``n_steps`` overridable."""
    from omegaconf import OmegaConf

    from bench.common import REPO

    hp = OmegaConf.to_container(OmegaConf.load(REPO / "rlft" / "conf" / "hparams" / "ppo.yaml"))
    if hp.get("lr_schedule", "constant") != "constant" or hp.get("clip_schedule", "constant") != "constant":
        raise RuntimeError("bench_train_speed assumes constant lr/clip schedules in rlft/conf/hparams/ppo.yaml")
    kwargs = {SB3_NAMES.get(k, k): v for k, v in hp.items() if k not in NOT_SB3}
    if n_steps is not None:
        kwargs["n_steps"] = n_steps
    return kwargs


def bare_worker(spec: dict[str, Any]) -> None:
    """The bare SB3 script (runs in its own interpreter): build, then time ``model.learn`` only."""
    import gymnasium
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import DummyVecEnv, VecMonitor

    torch.set_num_threads(1)
    venv = VecMonitor(DummyVecEnv([lambda: gymnasium.make("CartPole-v1") for _ in range(N_ENVS)]))
    venv.seed(spec["seed"])
    model = PPO("MlpPolicy", venv, seed=spec["seed"], device="auto", verbose=0, **spec["kwargs"])
    t0 = time.perf_counter()
    model.learn(spec["steps"])
    learn_s = time.perf_counter() - t0
    print(RESULT_PREFIX + json.dumps({"steps": model.num_timesteps, "learn_s": learn_s}))


def measure_bare(steps: int, kwargs: dict[str, Any]) -> dict[str, Any]:
    from bench.common import run_python

    spec = json.dumps({"steps": steps, "kwargs": kwargs, "seed": SEED})
    done, total_s = run_python([__file__, "--bare-worker", spec], timeout=900)
    line = next(out for out in done.stdout.splitlines() if out.startswith(RESULT_PREFIX))
    result = json.loads(line[len(RESULT_PREFIX) :])
    return {"steps": result["steps"], "learn_s": result["learn_s"], "process_s": total_s}


def measure_rlft(steps: int, n_steps: int | None, defaults: bool) -> dict[str, Any]:
    from bench.common import read_json, run_folder, run_python

    with tempfile.TemporaryDirectory(prefix="rlft-bench-train-") as tmp:
        args = [
            "-m",
            "rlft.train",
            "env=cartpole",
            "hparams=ppo",
            f"hparams.total_timesteps={steps}",
            f"seed={SEED}",
            "torch_threads=1",
            "eval.final_episodes=1",
            "progress=log",
            f"paths.output_dir={tmp}",
        ]
        if n_steps is not None:
            args.append(f"hparams.n_steps={n_steps}")
        if not defaults:
            args += ["eval.every=0", "checkpoint.every=0"]
        _, total_s = run_python(args, timeout=900)
        metrics = read_json(run_folder(Path(tmp)) / "metrics.json")
    periodic_evals = len(metrics["eval"]) - 1  # the last entry is the final evaluation
    return {
        "steps": metrics["total_timesteps"],
        "learn_s": metrics["train_time_s"],
        "process_s": total_s,
        "periodic_evals": periodic_evals,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 round of 3 tiny rollouts (smoke run)")
    parser.add_argument("--rounds", type=int, default=None, help="rounds of all variants (default 3)")
    parser.add_argument("--bare-worker", metavar="SPEC", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.bare_worker:
        bare_worker(json.loads(args.bare_worker))
        return 0

    from bench.common import machine_info, median, print_table, row, write_result

    n_steps = 128 if args.quick else None
    kwargs = ppo_kwargs(n_steps)
    steps = ROLLOUTS * kwargs["n_steps"] * N_ENVS
    rounds = args.rounds or (1 if args.quick else 3)
    runners = {
        "rlft": lambda: measure_rlft(steps, n_steps, defaults=False),
        "bare": lambda: measure_bare(steps, kwargs),
        "rlft_default": lambda: measure_rlft(steps, n_steps, defaults=True),
    }
    names = list(runners)
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
    load_before = machine_info()["loadavg_1m"]
    for r in range(rounds):
        # rlft and bare back to back, their order flipped each round (ABBA cancels a linear drift)
        order = ["rlft", "bare"] if r % 2 == 0 else ["bare", "rlft"]
        for name in order + ["rlft_default"]:
            result = runners[name]()
            result["steps_per_s"] = result["steps"] / result["learn_s"]
            result["loadavg_1m"] = round(os.getloadavg()[0], 2)
            runs[name].append(result)
            print(
                f"round {r + 1}/{rounds} {name:13s} {result['steps_per_s']:8.1f} steps/s "
                f"(learn {result['learn_s']:.2f} s, process {result['process_s']:.2f} s)",
                flush=True,
            )

    sps = {name: median([x["steps_per_s"] for x in runs[name]]) for name in names}
    paired = [a["steps_per_s"] / b["steps_per_s"] for a, b in zip(runs["rlft"], runs["bare"])]
    rows = [
        row("rlft_steps_per_s", round(sps["rlft"], 1), "steps/s"),
        row("bare_sb3_steps_per_s", round(sps["bare"], 1), "steps/s"),
        row("ratio_rlft_over_bare", round(sps["rlft"] / sps["bare"], 4), "", f">= {TARGET_RATIO}"),
        row("ratio_paired_round_median", round(median(paired), 4), ""),
        row("rlft_default_eval_ckpt_steps_per_s", round(sps["rlft_default"], 1), "steps/s"),
        row("ratio_default_over_bare", round(sps["rlft_default"] / sps["bare"], 4), ""),
    ]
    details = {
        "steps_per_run": steps,
        "rounds": rounds,
        "n_envs": N_ENVS,
        "seed": SEED,
        "ppo_kwargs": kwargs,
        "median_steps_per_s": {k: round(v, 1) for k, v in sps.items()},
        "paired_ratios": [round(x, 4) for x in paired],
        "runs": runs,
        "loadavg_1m_before": load_before,
        "loadavg_1m_after": machine_info()["loadavg_1m"],
        "notes": "rlft learn_s = metrics.json train_time_s (the training loop, like the bare model.learn); "
        "bare learn_s = model.learn only; process_s = whole interpreter incl. imports.",
    }
    write_result(NAME, rows, details, quick=args.quick)
    print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
