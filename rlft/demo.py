"""``rlft demo`` (``make demo``, ``python -m rlft.demo``): the whole rlft loop on CurveTrace, at small scale.

1. a curriculum, stages 1 -> 2 (each promoted at 0.9 success);
2. its last stage registered as a champion (success gate 0.9);
3. a fine-tune of that champion on a harder stage (stage 3 with stage overrides), with rehearsal of
   its original stage, EWC anchoring and a decaying LR, evaluated before and after on both stages;
4. promoted to the champion's next version only if it improved and kept stage 2, else kept apart;
5. champion and fine-tune compared on plain stages 2 and 3 (paired episodes, a markdown report);
6. the resulting champion exported (Hugging Face folder and ONNX).

Each step is the command a user would type, printed before it runs. About 10 minutes on 2 CPU
cores; ``quick=true`` shrinks every budget to check the plumbing in about a minute (its numbers mean
nothing, and its champion is registered with force=true under the name ``demo_quick``).
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

from rlft.arguments import Command, Option, registry_option
from rlft.cli import user_errors

QUICK_NETWORK = [
    "env.n_envs=2",
    "hparams.n_steps=64",
    "hparams.batch_size=64",
    "hparams.n_epochs=1",
    "hparams.policy_kwargs.features_extractor_kwargs.features_dim=16",
    "hparams.policy_kwargs.features_extractor_kwargs.channels=[4,4]",
    "hparams.policy_kwargs.net_arch=[8]",
    "eval.every=512",
    "eval.episodes=4",
    "eval.final_episodes=8",
]


class DemoFailed(RuntimeError):
    pass


def _run(args: list[str], *, allow: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess:
    """Run ``rlft <args>`` (as ``python -m rlft``), streaming its output (indented) as it comes."""
    shown = " ".join(shlex.quote(a) for a in args)
    print(f"\n$ rlft {shown}", flush=True)
    lines = []
    with subprocess.Popen(
        [sys.executable, "-m", "rlft", *args],
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    ) as child:
        assert child.stdout is not None
        for line in child.stdout:
            lines.append(line)
            print(f"  {line}", end="", flush=True)
    if child.returncode not in allow:
        raise DemoFailed(f"step failed (exit {child.returncode}): rlft {shown}")
    return subprocess.CompletedProcess(args, child.returncode, "".join(lines))


def _new_folder(parent: Path, before: set[Path]) -> Path:
    created = sorted(set(parent.glob("*")) - before) if parent.is_dir() else []
    if len(created) != 1:
        raise DemoFailed(f"expected one new folder under {parent}, found {len(created)}")
    return created[0]


def _folders(parent: Path) -> set[Path]:
    return set(parent.glob("*")) if parent.is_dir() else set()


COMMAND = Command(
    "demo",
    "The whole rlft loop on CurveTrace at small scale: curriculum, champion, fine-tune, promotion, "
    "comparison, export (about 10 minutes on 2 CPU cores).",
    options=(
        Option("quick", "bool", default=False, help="tiny budgets: checks the plumbing in about a minute"),
        Option("paths.output_dir", "path", default="outputs", help="where every step writes its folders"),
        registry_option(),
    ),
    description="Each step is the command a user would type, printed before it runs.",
)


def main(argv: list[str] | None = None) -> None:
    with user_errors():
        args = COMMAND.parse(sys.argv[1:] if argv is None else argv)
    registry = str(args.paths_registry)
    out = Path(args.paths_output_dir)
    name = "demo_quick" if args.quick else "demo"
    stamp = f"{datetime.now():%Y-%m-%d_%H-%M-%S}"
    reports = out / "demo" / f"{name}_{stamp}"
    small = QUICK_NETWORK if args.quick else []
    common = [f"paths.output_dir={out}", f"paths.registry={registry}", "progress=log", "progress_every_s=60"]
    t0 = time.monotonic()
    try:
        before = _folders(out / "curriculum")
        budget = ["curriculum.max_timesteps_per_stage=1024", "curriculum.on_fail=continue"] if args.quick else []
        _run(
            [
                "train",
                "curriculum=curve_trace_short",
                "curriculum.stop=2",
                f"experiment_name={name}",
                *budget,
                *small,
                *common,
            ]
        )
        curriculum = _new_folder(out / "curriculum", before)
        gate = ["force=true"] if args.quick else []
        done = _run(["register", str(curriculum), f"name={name}", f"paths.registry={registry}", *gate])
        champion = done.stdout.split("registered ", 1)[1].split(" ", 1)[0]

        before = _folders(out / "finetune")
        ft_budget = "hparams.total_timesteps=2048" if args.quick else "hparams.total_timesteps=60000"
        _run(
            [
                "train",
                f"champion={champion}",
                "stage=3",
                "stage_overrides.noise_sigma=0.07",
                "stage_overrides.min_intensity=0.5",
                ft_budget,
                "hparams.lr=1e-4",
                "hparams.lr_schedule=linear",
                "hparams.lr_end=1e-5",
                "finetune.rehearsal=0.25",
                "finetune.anchor=ewc",
                "finetune.anchor_coef=1.0",
                f"experiment_name={name}_noisy3",
                *common,
                *(
                    ["eval.every=1024", "eval.episodes=4", "eval.final_episodes=8"]
                    if args.quick
                    else ["eval.every=10000", "eval.episodes=50"]
                ),
            ]
        )
        fine_tune = _new_folder(out / "finetune", before)

        promoted = _run(["promote", str(fine_tune), f"paths.registry={registry}"], allow=(0, 1)).returncode == 0
        episodes = "episodes=8" if args.quick else "episodes=100"
        _run(
            [
                "compare",
                champion,
                str(fine_tune),
                "stages=[2,3]",
                episodes,
                f"paths.registry={registry}",
                f"out={reports / 'compare'}",
                f"paths.output_dir={out}",
            ]
        )
        _run(["export", name, "format=hf", f"out={reports / 'export_hf'}", f"paths.registry={registry}"])
        _run(["export", name, "format=onnx", f"out={reports / 'export_onnx'}", f"paths.registry={registry}"])
    except DemoFailed as exc:
        print(f"\ndemo stopped: {exc}", file=sys.stderr)
        sys.exit(1)
    _summary(name, registry, champion, curriculum, fine_tune, promoted, reports, time.monotonic() - t0)


def _summary(
    name: str,
    registry: str,
    champion: str,
    curriculum: Path,
    fine_tune: Path,
    promoted: bool,
    reports: Path,
    seconds: float,
) -> None:
    from rlft.champions.registry import Registry

    registry_ = Registry(registry)
    base, current = registry_.get(champion), registry_.get(name)
    metrics = json.loads((fine_tune / "metrics.json").read_text())
    pre_post = metrics["pre_post"]
    lines = [
        "",
        f"demo finished in {seconds / 60:.1f} min",
        f"  curriculum (stages 1-2):  {curriculum}  (plots/curriculum.png)",
        f"  champion registered:      {champion}, success {base.manifest['metrics']['success_rate']} on stage 2",
        f"  fine-tune on noisy stage 3: {fine_tune}  (plots/pre_post.png)",
        f"    target 3+overrides: {pre_post['target']['before']['success_rate']:.2f} -> "
        f"{pre_post['target']['after']['success_rate']:.2f};  original 2: "
        f"{pre_post['original']['before']['success_rate']:.2f} -> {pre_post['original']['after']['success_rate']:.2f}",
        f"    {pre_post['verdict']['summary']}",
        f"  promotion: {'promoted to ' + current.ref if promoted else 'not promoted; ' + champion + ' stays the champion'}",
        f"  comparison report:        {reports / 'compare' / 'report.md'}",
        f"  exports:                  {reports / 'export_hf'}  and  {reports / 'export_onnx'}",
        f"  the champion now: {current.ref} (success {current.manifest['metrics']['success_rate']} on "
        f"{current.manifest['stage']['name']}{'+overrides' if current.manifest['stage_overrides'] else ''})",
    ]
    print("\n".join(lines))


if __name__ == "__main__":
    main()
