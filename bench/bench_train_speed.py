"""(a) Framework overhead: PPO training steps/s of ``rlft train`` vs a bare SB3 script.

Same env (CartPole-v1, 8 envs, DummyVecEnv + VecMonitor), the PPO hyperparameters of
``rlft/conf/hparams/ppo.yaml``, seed 0, one torch thread; see ``bench/versus_sb3.py`` for how one
measurement is made (own interpreter, warm-up excluded, variants alternated, only the learn phase
timed).

Variants: ``rlft`` (periodic evaluation and checkpoints off: the framework-overhead ratio, target
>= 0.97), ``bare``, and ``rlft_default`` (``eval.every`` / ``checkpoint.every`` at their defaults,
for information).

    python bench/bench_train_speed.py [--quick] [--rounds N]
    python bench/bench_train_speed.py --profile DIR   # cProfile one rlft and one bare run instead
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.versus_sb3 import NOTES, RLFT_NAMES, Setup, add_arguments, alternate, figures, profile_pair

NAME = "train_speed"
TARGET_RATIO = 0.97
ROLLOUTS = 3
# the ppo.yaml fields that select the algorithm or a schedule, not an SB3 PPO argument
NOT_SB3 = {"algo", "policy", "total_timesteps", "lr_schedule", "lr_end", "clip_schedule", "policy_kwargs"}


def ppo_kwargs(n_steps: int | None) -> dict[str, Any]:
    """SB3 PPO kwargs equal to ``rlft/conf/hparams/ppo.yaml`` (constant schedules), ``n_steps`` overridable."""
    from omegaconf import OmegaConf

    from bench.common import REPO

    hp = OmegaConf.to_container(OmegaConf.load(REPO / "rlft" / "conf" / "hparams" / "ppo.yaml"))
    if hp.get("lr_schedule", "constant") != "constant" or hp.get("clip_schedule", "constant") != "constant":
        raise RuntimeError("bench_train_speed assumes constant lr/clip schedules in rlft/conf/hparams/ppo.yaml")
    sb3_names = {rlft: sb3 for sb3, rlft in RLFT_NAMES.items()}
    kwargs = {sb3_names.get(k, k): v for k, v in hp.items() if k not in NOT_SB3}
    if n_steps is not None:
        kwargs["n_steps"] = n_steps
    return kwargs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    args = parser.parse_args(argv)

    from bench.common import machine_info, print_table, write_result

    setup = Setup(
        name="cartpole", policy="MlpPolicy", ppo=ppo_kwargs(128 if args.quick else None), env_id="CartPole-v1"
    )
    steps = ROLLOUTS * setup.rollout
    if args.profile:
        profile_pair(setup, steps, args.profile)
        return 0
    rounds = args.rounds or (1 if args.quick else 3)
    load_before = machine_info()["loadavg_1m"]
    rows, details = figures(alternate(setup, steps, rounds), TARGET_RATIO)
    details = {
        "steps_per_run": steps,
        "rounds": rounds,
        "n_envs": setup.n_envs,
        "seed": setup.seed,
        "ppo_kwargs": setup.ppo,
        **details,
        "loadavg_1m_before": load_before,
        "loadavg_1m_after": machine_info()["loadavg_1m"],
        "notes": NOTES,
    }
    write_result(NAME, rows, details, quick=args.quick)
    print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
