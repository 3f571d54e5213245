"""(c) Learning check: RL Zoo's tuned PPO (``hparams=ppo_zoo_cartpole``, 1e5 steps) must reach an
evaluation mean reward of 500 on CartPole-v1. Reports whether and at how many steps it got there
(early stop on the first evaluation at 500), the wall time and the final 100-episode mean reward.

    python bench/bench_cartpole_zoo.py [--quick]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import print_table, read_json, row, run_folder, run_python, write_result

NAME = "cartpole_zoo"
TARGET_REWARD = 500.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1e4 steps, 5 final episodes (smoke run)")
    args = parser.parse_args(argv)
    budget, eval_every, final_episodes = (10_000, 5_000, 5) if args.quick else (100_000, 10_000, 100)

    with tempfile.TemporaryDirectory(prefix="rlft-bench-zoo-") as tmp:
        command = [
            "-m",
            "rlft.train",
            "env=cartpole",
            "hparams=ppo_zoo_cartpole",
            f"hparams.total_timesteps={budget}",
            f"eval.every={eval_every}",
            "eval.episodes=10",
            f"eval.final_episodes={final_episodes}",
            "early_stop.metric=mean_reward",
            f"early_stop.target={TARGET_REWARD}",
            "progress=log",
            f"paths.output_dir={tmp}",
        ]
        _, process_s = run_python(command, timeout=1800)
        metrics = read_json(run_folder(Path(tmp)) / "metrics.json")

    periodic = metrics["eval"][:-1]  # the last entry is the final evaluation
    reached_at = next((e["timesteps"] for e in periodic if e["mean_reward"] >= TARGET_REWARD), None)
    final = metrics["final"]
    rows = [
        row("reached_500", reached_at is not None, "", "== True"),
        row("steps_to_500", reached_at, "steps"),
        row("wall_time", metrics["wall_time_s"], "s"),
        row(f"final_{final['episodes']}ep_mean_reward", round(final["mean_reward"], 2)),
    ]
    details = {
        "command": "python -m rlft.train " + " ".join(a for a in command[2:] if not a.startswith("paths.")),
        "status": metrics["status"],
        "message": metrics["message"],
        "total_timesteps": metrics["total_timesteps"],
        "wall_time_s": metrics["wall_time_s"],
        "process_s": round(process_s, 2),
        "curve_steps_reward_evaltime": [[e["timesteps"], e["mean_reward"], e.get("eval_time_s")] for e in periodic],
        "final": final,
    }
    write_result(NAME, rows, details, quick=args.quick)
    print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
