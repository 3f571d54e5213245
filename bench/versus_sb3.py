"""rlft's training loop against a bare stable-baselines3 script: same env, PPO settings, seed, number
of envs (DummyVecEnv + VecMonitor) and torch threads. Shared by ``bench_train_speed.py`` (CartPole)
and ``bench_image_env.py`` (channel-last image envs with ``CnnPolicy``).

Every measurement is a worker interpreter of its own (``python bench/versus_sb3.py --worker SPEC``)
that first trains one untimed warm-up rollout the same way (imports, first kernels, lazy imports
inside rlft), then the timed run, timing SB3's ``learn`` call on both sides (wall and CPU time;
rlft's callback, progress log and TensorBoard scalars all run inside it):

- ``bare``: ``PPO(policy, VecMonitor(DummyVecEnv(...)), seed=...).learn(steps)``;
- ``rlft``: ``rlft train`` in-process (``rlft.train.main``, the CLI's code path) with periodic
  evaluation and checkpoints off; ``rlft_default`` keeps rlft's defaults (for information).

Variants alternate round by round (``rlft``/``bare`` order flipped each round, so a linear drift of
other load cancels); the figures are medians with their range. With ``profile`` a worker also writes
a cProfile of its timed run (``python -m pstats FILE``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Iterator

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

RESULT_PREFIX = "WORKER_RESULT "
PAIRED = ("rlft", "bare")  # the ratio rlft / bare is measured on these two
DEFAULT_VARIANT = "rlft_default"  # rlft with its default periodic evaluation and checkpoints
RLFT_NAMES = {"learning_rate": "lr"}  # SB3 PPO argument -> rlft hparams field, where they differ
NOTES = (
    "steps/s = env steps / wall seconds of SB3's learn call (learn_cpu_s: its CPU seconds), timed alike on "
    "both sides after a warm-up rollout in the same worker interpreter; rlft = `rlft train` run in-process "
    "(train_time_s: what its metrics.json records); process_s = the whole worker interpreter. Timings "
    "beside other load are for finding overhead: re-run alone for figures to quote."
)


@dataclass(frozen=True)
class Setup:
    """One comparison. ``env_id`` (a gymnasium id) or ``env_target`` (a dotted env factory, what a
    user's own env is in rlft: ``env._target_``); ``ppo`` holds SB3 PPO arguments by SB3's names."""

    name: str
    policy: str
    ppo: dict[str, Any]
    env_id: str | None = None
    env_target: str | None = None
    n_envs: int = 8
    seed: int = 0
    threads: int = 1

    @property
    def rollout(self) -> int:
        return int(self.ppo["n_steps"]) * self.n_envs


def rlft_args(setup: Setup, steps: int, output_dir: Path, defaults: bool) -> list[str]:
    """``rlft train`` options that make the same run as the bare script."""

    def value(v: Any) -> str:
        return "null" if v is None else str(v)

    args = [
        "env=cartpole",  # a plain env block (DummyVecEnv, no kwargs); id / _target_ replaced below
        f"env.name={setup.name}",
        f"env.id={value(setup.env_id)}",
        f"env._target_={value(setup.env_target)}",
        f"env.n_envs={setup.n_envs}",
        "env.vec_env=dummy",
        "hparams=ppo",
        f"hparams.policy={setup.policy}",
        f"hparams.total_timesteps={steps}",
        *(f"hparams.{RLFT_NAMES.get(k, k)}={value(v)}" for k, v in setup.ppo.items()),
        f"seed={setup.seed}",
        f"torch_threads={setup.threads}",
        "device=auto",
        "eval.final_episodes=1",  # after the timed phase; kept short
        "progress=log",
        f"paths.output_dir={output_dir}",
    ]
    if not defaults:
        args += ["eval.every=0", "checkpoint.every=0"]
    return args


# -- workers (each in its own interpreter) -----------------------------------------------------


@contextmanager
def learn_clock() -> Iterator[list[tuple[float, float]]]:
    """Wall and CPU seconds of every on-policy SB3 ``learn`` call inside the block: the same
    boundaries for the bare script and for rlft, whose callback, progress and TensorBoard scalars
    all run inside ``learn``. CPU time moves much less than wall time with other load."""
    from stable_baselines3.common.on_policy_algorithm import OnPolicyAlgorithm

    spans: list[tuple[float, float]] = []
    original = OnPolicyAlgorithm.learn

    def timed(self, *args, **kwargs):
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return original(self, *args, **kwargs)
        finally:
            spans.append((time.perf_counter() - wall, time.process_time() - cpu))

    OnPolicyAlgorithm.learn = timed
    try:
        yield spans
    finally:
        OnPolicyAlgorithm.learn = original


def _bare_learn(setup: Setup, steps: int, _: Path) -> dict[str, Any]:
    import gymnasium
    from stable_baselines3 import PPO
    from stable_baselines3.common.vec_env import DummyVecEnv, VecMonitor

    def make() -> gymnasium.Env:
        if setup.env_id is not None:
            return gymnasium.make(setup.env_id)
        from rlft.envs.factory import import_object  # only resolves the dotted path

        return import_object(setup.env_target)()

    venv = VecMonitor(DummyVecEnv([make for _ in range(setup.n_envs)]))
    venv.seed(setup.seed)
    model = PPO(setup.policy, venv, seed=setup.seed, device="auto", verbose=0, **setup.ppo)
    model.learn(steps)
    venv.close()
    return {"steps": model.num_timesteps}


def _rlft_learn(setup: Setup, steps: int, output_dir: Path, defaults: bool) -> dict[str, Any]:
    from bench.common import read_json, run_folder
    from rlft.train import main as rlft_train

    t0 = time.perf_counter()
    rlft_train(rlft_args(setup, steps, output_dir, defaults))
    command_s = time.perf_counter() - t0
    metrics = read_json(run_folder(output_dir) / "metrics.json")
    return {
        "steps": metrics["total_timesteps"],
        "train_time_s": metrics["train_time_s"],  # what the run records: learn plus setting up its callback
        "command_s": command_s,  # the whole command: composing, building, final evaluation, saves
        "periodic_evals": len(metrics["eval"]) - 1,  # the last entry is the final evaluation
    }


def worker(spec: dict[str, Any]) -> dict[str, Any]:
    """One measurement: an untimed warm-up rollout, then the timed run (profiled when asked)."""
    import cProfile

    import torch

    setup = Setup(**spec["setup"])
    torch.set_num_threads(setup.threads)
    variant, steps = spec["variant"], spec["steps"]
    if variant == "bare":
        train = _bare_learn
    else:
        defaults = variant == DEFAULT_VARIANT

        def train(setup: Setup, steps: int, folder: Path) -> dict[str, Any]:
            return _rlft_learn(setup, steps, folder, defaults)

    profiler = cProfile.Profile() if spec.get("profile") else None
    with tempfile.TemporaryDirectory(prefix=f"rlft-bench-{variant}-") as tmp, learn_clock() as spans:
        train(setup, setup.rollout, Path(tmp) / "warmup")
        if profiler:
            profiler.enable()
        result = train(setup, steps, Path(tmp) / "timed")
        if profiler:
            profiler.disable()
            profiler.dump_stats(spec["profile"])
    result["learn_s"], result["learn_cpu_s"] = spans[-1]
    return result


def measure(setup: Setup, variant: str, steps: int, profile: Path | None = None) -> dict[str, Any]:
    """Run one worker interpreter; its result with steps/s and the load average after it."""
    from bench.common import run_python

    spec = {"setup": asdict(setup), "variant": variant, "steps": steps, "profile": str(profile) if profile else None}
    done, process_s = run_python([__file__, "--worker", json.dumps(spec)], timeout=1800)
    line = next(out for out in done.stdout.splitlines() if out.startswith(RESULT_PREFIX))
    result = json.loads(line[len(RESULT_PREFIX) :])
    result["process_s"] = process_s
    result["steps_per_s"] = result["steps"] / result["learn_s"]
    result["steps_per_cpu_s"] = result["steps"] / result["learn_cpu_s"]
    result["loadavg_1m"] = round(os.getloadavg()[0], 2)
    return result


# -- rounds and figures ------------------------------------------------------------------------


def alternate(
    setup: Setup, steps: int, rounds: int, variants: tuple[str, ...] = (*PAIRED, DEFAULT_VARIANT)
) -> dict[str, list[dict[str, Any]]]:
    """``rounds`` rounds of every variant; ``rlft`` and ``bare`` back to back, order flipped each round."""
    runs: dict[str, list[dict[str, Any]]] = {v: [] for v in variants}
    for r in range(rounds):
        paired = list(PAIRED) if r % 2 == 0 else list(reversed(PAIRED))
        for variant in paired + [v for v in variants if v not in PAIRED]:
            result = measure(setup, variant, steps)
            runs[variant].append(result)
            print(
                f"[{setup.name}] round {r + 1}/{rounds} {variant:13s} {result['steps_per_s']:8.1f} steps/s "
                f"(learn {result['learn_s']:.2f} s, cpu {result['learn_cpu_s']:.2f} s, process {result['process_s']:.2f} s, "
                f"load {result['loadavg_1m']})",
                flush=True,
            )
    return runs


def spread(values: list[float]) -> dict[str, float]:
    from bench.common import median

    return {"min": round(min(values), 4), "median": round(median(values), 4), "max": round(max(values), 4)}


def figures(
    runs: dict[str, list[dict[str, Any]]], target: float, prefix: str = ""
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Result rows (ratio of medians against ``target``; for information the paired per-round ratios,
    the ratio of steps per CPU second and the default variant) and their details (every run,
    medians and ranges)."""
    from bench.common import median, row

    sps = {v: median([x["steps_per_s"] for x in rs]) for v, rs in runs.items()}
    per_cpu_s = {v: median([x["steps_per_cpu_s"] for x in rs]) for v, rs in runs.items()}
    paired = [a["steps_per_s"] / b["steps_per_s"] for a, b in zip(runs["rlft"], runs["bare"])]
    rows = [
        row(f"{prefix}rlft_steps_per_s", round(sps["rlft"], 1), "steps/s"),
        row(f"{prefix}bare_sb3_steps_per_s", round(sps["bare"], 1), "steps/s"),
        row(f"{prefix}ratio_rlft_over_bare", round(sps["rlft"] / sps["bare"], 4), "", f">= {target}"),
        row(f"{prefix}ratio_paired_round_median", round(median(paired), 4), ""),
        row(f"{prefix}ratio_paired_range", f"{min(paired):.3f}..{max(paired):.3f}", ""),
        row(f"{prefix}ratio_cpu_time_rlft_over_bare", round(per_cpu_s["rlft"] / per_cpu_s["bare"], 4), ""),
    ]
    if DEFAULT_VARIANT in runs:
        rows += [
            row(f"{prefix}rlft_default_eval_ckpt_steps_per_s", round(sps[DEFAULT_VARIANT], 1), "steps/s"),
            row(f"{prefix}ratio_default_over_bare", round(sps[DEFAULT_VARIANT] / sps["bare"], 4), ""),
        ]
    details = {
        "median_steps_per_s": {v: round(x, 1) for v, x in sps.items()},
        "median_steps_per_cpu_s": {v: round(x, 1) for v, x in per_cpu_s.items()},
        "steps_per_s_spread": {v: spread([x["steps_per_s"] for x in rs]) for v, rs in runs.items()},
        "paired_ratios": [round(x, 4) for x in paired],
        "runs": runs,
    }
    return rows, details


# (file suffix, function) -> part of the learn phase, as cProfile names SB3's functions
_LOOP_PARTS = {
    ("on_policy_algorithm.py", "learn"): "learn",
    ("on_policy_algorithm.py", "collect_rollouts"): "rollouts",
    ("ppo/ppo.py", "train"): "updates",
    ("common/callbacks.py", "on_step"): "callback hooks",
    ("common/callbacks.py", "on_rollout_start"): "callback hooks",
    ("common/callbacks.py", "on_rollout_end"): "callback hooks",
    ("on_policy_algorithm.py", "dump_logs"): "log dumps",
}


def loop_accounting(path: Path) -> dict[str, float]:
    """Seconds of a profiled run's learn phase by part: what rlft adds to SB3's loop is its callback
    hooks and log dumps (TensorBoard), a share that other load on the machine barely moves."""
    import pstats

    parts: dict[str, float] = {}
    for (file, _, function), (_, _, _, cumulative, _) in pstats.Stats(str(path)).stats.items():
        part = next((p for (suffix, f), p in _LOOP_PARTS.items() if f == function and file.endswith(suffix)), None)
        if part is not None:
            parts[part] = parts.get(part, 0.0) + cumulative
    return {part: round(parts[part], 3) for part in dict.fromkeys(_LOOP_PARTS.values()) if part in parts}


def profile_pair(setup: Setup, steps: int, folder: Path, top: int = 25) -> dict[str, dict[str, float]]:
    """One profiled run of ``rlft`` and of ``bare``: prints each one's top functions by own time and
    its learn phase by part, leaves ``FOLDER/<env>_<variant>.prof`` (``python -m pstats``) and
    returns the parts."""
    import pstats

    folder.mkdir(parents=True, exist_ok=True)
    accounts = {}
    for variant in PAIRED:
        path = folder / f"{setup.name}_{variant}.prof"
        result = measure(setup, variant, steps, profile=path)
        print(f"\n=== profile [{setup.name}] {variant}: {result['steps_per_s']:.1f} steps/s under cProfile ({path})")
        pstats.Stats(str(path)).sort_stats("tottime").print_stats(top)
        accounts[variant] = loop_accounting(path)
    for variant, parts in accounts.items():
        added = parts.get("callback hooks", 0.0) + parts.get("log dumps", 0.0)
        share = added / parts["learn"] if parts.get("learn") else float("nan")
        shown = ", ".join(f"{part} {seconds:.3f} s" for part, seconds in parts.items())
        print(f"[{setup.name}] {variant} learn phase: {shown} (callback hooks + log dumps: {share:.2%} of learn)")
    return accounts


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options every rlft-vs-SB3 benchmark takes."""
    parser.add_argument("--quick", action="store_true", help="1 round of tiny runs (smoke run)")
    parser.add_argument("--rounds", type=int, default=None, help="rounds of all variants (default 3)")
    parser.add_argument(
        "--profile",
        metavar="DIR",
        type=Path,
        help="instead of measuring, profile one rlft and one bare run (cProfile files in DIR)",
    )


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "--worker":
        sys.exit("usage: python bench/versus_sb3.py --worker SPEC (the benchmarks run it, not people)")
    print(RESULT_PREFIX + json.dumps(worker(json.loads(sys.argv[2]))), flush=True)
