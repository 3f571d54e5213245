"""Env step rate with random actions on one core: CurveTraceEnv, CurveTraceVecEnv, CartPole-v1.

Run: ``python bench/bench_env_speed.py [--quick]``. Writes ``bench/results/env_speed.json`` and
prints a table with targets. Episode-generation cost per stage is reported too.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

TARGETS = {"single": 50_000, "vec64": 200_000}


def _timed(step, budget: float) -> float:
    """Steps per second of ``step()`` (which returns how many env steps it made) over ``budget`` s."""
    n, t0 = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - t0) < budget:
        for _ in range(20):
            n += step()
    return n / elapsed


def _random_action_rate(env, n_actions: int, budget: float) -> float:
    """Steps/s of one (already reset) gymnasium env under uniform random actions, resetting when an
    episode ends."""
    actions = np.random.default_rng(0).integers(0, n_actions, 1 << 16).tolist()
    i = 0

    def step() -> int:
        nonlocal i
        i += 1
        _, _, term, trunc, _ = env.step(actions[i & 0xFFFF])
        if term or trunc:
            env.reset()
        return 1

    return _timed(step, budget)


def bench_single(stage: int, budget: float, **kwargs) -> float:
    from rlft.envs.curve_trace import CurveTraceEnv

    env = CurveTraceEnv(stage=stage, **kwargs)
    env.reset(seed=0)
    env.reset()  # fills the episode pool before timing
    return _random_action_rate(env, 9, budget)


def bench_vec(n_envs: int, stage: int, budget: float, **kwargs) -> float:
    from rlft.envs.curve_trace.vec_env import CurveTraceVecEnv

    venv = CurveTraceVecEnv(n_envs, stage=stage, seed=0, **kwargs)
    venv.reset()
    actions = np.random.default_rng(0).integers(0, 9, (256, n_envs))
    i = 0

    def step() -> int:
        nonlocal i
        i += 1
        venv.step(actions[i & 0xFF])
        return n_envs

    return _timed(step, budget)


def bench_cartpole(budget: float) -> float:
    import gymnasium

    env = gymnasium.make("CartPole-v1").unwrapped
    env.reset(seed=0)
    return _random_action_rate(env, 2, budget)


def bench_generation(stages: list[int], n: int) -> dict[str, float]:
    from rlft.envs.curve_trace.generator import generate_episode
    from rlft.envs.curve_trace.params import stage_params

    out = {}
    for s in stages:
        p, rng = stage_params(s), np.random.default_rng(0)
        t0 = time.perf_counter()
        for _ in range(n):
            generate_episode(p, rng)
        out[f"stage{s}"] = (time.perf_counter() - t0) / n * 1e3
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="~1 s per measurement instead of ~2.5 s")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "env_speed.json"))
    args = parser.parse_args()
    budget = 1.0 if args.quick else 2.5

    rows = []  # (name, steps/s, target or None)
    rows.append(("single stage 1", bench_single(1, budget), TARGETS["single"]))
    rows.append(("single stage 12", bench_single(12, budget), None))
    for n in (8, 64, 1024):
        rows.append((f"vec{n} stage 1", bench_vec(n, 1, budget), TARGETS["vec64"] if n == 64 else None))
    rows.append(("vec64 stage 12", bench_vec(64, 12, budget), None))
    rows.append(("vec64 stage 1, pool_refresh=0", bench_vec(64, 1, budget, pool_refresh=0.0), None))
    rows.append(("vec64 stage 1, pool_refresh=1", bench_vec(64, 1, budget, pool_refresh=1.0), None))
    rows.append(("CartPole-v1 (raw, reference)", bench_cartpole(budget), None))
    gen_ms = bench_generation([1, 6, 12], 10 if args.quick else 30)

    print(f"{'measurement':34s} {'steps/s':>10s} {'target':>9s}  result")
    for name, rate, target in rows:
        verdict = "" if target is None else ("PASS" if rate >= target else "FAIL")
        print(f"{name:34s} {rate:10,.0f} {'' if target is None else f'{target:,}':>9s}  {verdict}")
    print("episode generation (ms): " + ", ".join(f"{k} {v:.1f}" for k, v in gen_ms.items()))

    result = {
        "steps_per_s": {name: round(rate) for name, rate, _ in rows},
        "targets": {name: target for name, _, target in rows if target is not None},
        "passed": all(rate >= target for _, rate, target in rows if target is not None),
        "generation_ms": {k: round(v, 2) for k, v in gen_ms.items()},
        "actions": "uniform random (short episodes: a reset every ~9 steps, the worst case for the pool)",
        "budget_s": budget,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
