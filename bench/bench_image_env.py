"""rlft vs bare stable-baselines3 on channel-last image envs: PPO ``CnnPolicy`` training steps/s.

The envs are what a user brings (``env._target_``, observations ``(H, W, C)`` uint8 that SB3
transposes for the CNN): ``image_chase`` (``bench/envs.py``: 64x64x3 drawn with numpy, always run)
and, when ``minigrid`` is installed, ``minigrid_empty_8x8`` (its 64x64x3 RGB image). Both sides use
8 DummyVecEnv envs, the PPO settings below (SB3's Atari-style PPO), seed 0 and one torch thread;
see ``bench/versus_sb3.py`` for how one measurement is made (own interpreter, warm-up excluded,
variants alternated). Target: rlft / bare >= 0.97 with periodic evaluation and checkpoints off;
``rlft_default`` (evaluation every 10k steps, checkpoints every 50k) is reported for information.

    python bench/bench_image_env.py [--quick] [--rounds N] [--envs image_chase,minigrid_empty_8x8]
    python bench/bench_image_env.py --profile DIR   # cProfile one rlft and one bare run instead
"""

from __future__ import annotations

import argparse
import importlib.util
import shlex
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.versus_sb3 import NOTES, Setup, add_arguments, alternate, figures, profile_pair

NAME = "image_env"
TARGET_RATIO = 0.97
ROLLOUTS = 12  # 12 x 1024 steps: past rlft's default eval.every=10000, so rlft_default evaluates once
PPO = {
    "n_steps": 128,
    "batch_size": 256,
    "n_epochs": 4,
    "learning_rate": 2.5e-4,
    "clip_range": 0.1,
    "ent_coef": 0.01,
    "vf_coef": 0.5,
    "gamma": 0.99,
    "gae_lambda": 0.95,
    "max_grad_norm": 0.5,
}
QUICK = {"n_steps": 32, "batch_size": 64}  # 2 rollouts of 256 steps
ENVS = {"image_chase": "bench.envs.ImageChase", "minigrid_empty_8x8": "bench.envs.minigrid_rgb"}
NEEDS = {"minigrid_empty_8x8": "minigrid"}  # env -> the package it needs


def setups(names: list[str], quick: bool) -> tuple[list[Setup], dict[str, str]]:
    """The setups to measure, and the envs skipped with why."""
    ppo = {**PPO, **(QUICK if quick else {})}
    chosen, skipped = [], {}
    for name in names:
        needed = NEEDS.get(name)
        if needed and importlib.util.find_spec(needed) is None:
            skipped[name] = f"{needed} is not installed (pip install {needed})"
            continue
        chosen.append(Setup(name=name, policy="CnnPolicy", ppo=ppo, env_target=ENVS[name]))
    return chosen, skipped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    parser.add_argument("--envs", default=",".join(ENVS), help=f"comma-separated, from {', '.join(ENVS)}")
    args = parser.parse_args(argv)
    names = [n for n in args.envs.split(",") if n]
    unknown = [n for n in names if n not in ENVS]
    if unknown or not names:
        parser.error(f"unknown env {', '.join(unknown) or '(none given)'}; choose from {', '.join(ENVS)}")

    from bench.common import machine_info, print_table, row, write_result

    chosen, skipped = setups(names, args.quick)
    for name, reason in skipped.items():
        print(f"[{name}] skipped: {reason}", flush=True)
    rollouts = 2 if args.quick else ROLLOUTS
    if args.profile:
        for setup in chosen:
            profile_pair(setup, rollouts * setup.rollout, args.profile)
        return 0

    rounds = args.rounds or (1 if args.quick else 3)
    load_before = machine_info()["loadavg_1m"]
    rows, per_env = [], {}
    for setup in chosen:
        steps = rollouts * setup.rollout
        env_rows, details = figures(alternate(setup, steps, rounds), TARGET_RATIO, prefix=f"{setup.name}: ")
        rows += env_rows
        per_env[setup.name] = {"env_target": setup.env_target, "steps_per_run": steps, **details}
    rows += [row(f"{name}: skipped ({reason})", None) for name, reason in skipped.items()]
    details = {
        "command": shlex.join([sys.executable, "bench/bench_image_env.py", *(sys.argv[1:] if argv is None else argv)]),
        "rounds": rounds,
        "n_envs": chosen[0].n_envs if chosen else None,
        "seed": chosen[0].seed if chosen else None,
        "torch_threads": chosen[0].threads if chosen else None,
        "policy": "CnnPolicy",
        "ppo_kwargs": chosen[0].ppo if chosen else None,
        "envs": per_env,
        "skipped": skipped,
        "loadavg_1m_before": load_before,
        "loadavg_1m_after": machine_info()["loadavg_1m"],
        "notes": NOTES,
    }
    write_result(NAME, rows, details, quick=args.quick)
    print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
