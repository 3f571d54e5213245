"""``rlft init DIR``: write a starter project, a ``conf/`` folder rlft layers over its built-ins.

The files are small, commented and runnable as they are (gymnasium's FrozenLake, no download),
so a user edits a working project instead of reading a schema: swap the env for their own
(``id: my_pkg:MyEnv-v0`` or ``_target_: my_pkg.make_env``), rename the stages, keep the layout.
Nothing existing is overwritten; the folder appears whole or not at all.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

from rlft.arguments import Command, Positional
from rlft.cli import user_errors
from rlft.errors import ConfigError

FILES = {
    "conf/env/my_env.yaml": """\
# Your environment. rlft train env=my_env picks it; hparams default to hparams/ppo_my_env.yaml.
# Use a registered gymnasium id (a module that registers it on import: id: my_pkg:MyEnv-v0)
# or a factory returning a gymnasium.Env: set id: null and _target_: my_pkg.envs.make_env.
# Wrappers, frame stacking, Atari preprocessing, the old gym API (api: gym): see
# rlft's docs/environments.md, e.g. wrappers: [{_target_: gymnasium.wrappers.FlattenObservation}].
name: my_env
id: FrozenLake-v1
kwargs:                 # passed to the constructor, under each stage's env_kwargs
  map_name: 4x4
n_envs: 8
vec_env: dummy          # dummy | subproc
""",
    "conf/hparams/ppo_my_env.yaml": """\
# The default hyperparameters of env=my_env (rlft's PPO preset with a few changes).
# Any key can still be set on the command line: rlft train env=my_env hparams.lr=1e-4
defaults:
  - ppo
  - _self_
total_timesteps: 50000
n_steps: 256
batch_size: 64
ent_coef: 0.01
""",
    "conf/stage/calm_lake.yaml": """\
# A stage is a named set of env kwargs (over env.kwargs): rlft train env=my_env stage=calm_lake
# Stages of one curriculum must keep the observation and action spaces (the model carries over).
name: calm_lake
env_kwargs:
  is_slippery: false
""",
    "conf/stage/slippery_lake.yaml": """\
name: slippery_lake
env_kwargs:
  is_slippery: true     # the agent slides sideways 2 times in 3: about 0.7-0.8 success at best
""",
    "conf/curriculum/my_curriculum.yaml": """\
# Stages in order; each starts from the previous stage's final model and moves on once the
# promotion rule holds: rlft train env=my_env curriculum=my_curriculum
# FrozenLake reports no is_success, so promotion reads the mean reward (1.0 = always reaches the goal).
# An entry names a stage option (stage: calm_lake, a file of conf/stage/) or an inline stage, a name
# and its env kwargs: - {name: icy_lake, env_kwargs: {is_slippery: true}, timesteps: 100000}
name: my_curriculum
handoff: final
on_fail: stop
promotion:
  metric: mean_reward
  threshold: 0.9
  episodes: 20
  early: true
stages:
  - {stage: calm_lake, timesteps: 30000}
  - {stage: slippery_lake, timesteps: 100000, hparams: {lr: 2.0e-4}, promotion: {threshold: 0.6}}
""",
    "conf/experiment/my_experiment.yaml": """\
# @package _global_
# A named experiment: groups and settings in one reviewable file. rlft train experiment=my_experiment
# Anything here can still be overridden: rlft train experiment=my_experiment seed=3
defaults:
  - override /env: my_env
  - override /curriculum: my_curriculum
experiment_name: lake_curriculum
seed: 0
eval:
  every: 5000
  episodes: 20
""",
    "README.md": """\
# My rlft project

`conf/` holds this project's options; rlft layers them over its built-in ones (`rlft train --help`
lists both). rlft finds this folder when you run it from here, or from anywhere with
`rlft train --config-dir /path/to/conf ...` or `RLFT_CONFIG_DIR=/path/to/conf`.

```bash
rlft train env=my_env stage=calm_lake             # one stage
rlft train env=my_env curriculum=my_curriculum     # the curriculum
rlft train experiment=my_experiment                # the same, as a named experiment
rlft train experiment=my_experiment --cfg job      # print the config that would run
```

A project option may not reuse a built-in option's name (e.g. `env/cartpole.yaml`): rlft refuses it
rather than silently replacing one of the two. Runs land in `outputs/`, champions in `champions/`.
""",
}


def write_project(folder: Path) -> list[Path]:
    """Write the starter files under ``folder``; refuses when any of them exists already."""
    folder = folder.expanduser()
    clashes = [name for name in FILES if (folder / name).exists()] + (["conf/"] if (folder / "conf").exists() else [])
    if clashes:
        raise ConfigError(
            f"{folder / clashes[0]} exists already: rlft init writes into a new project folder (pick another DIR)"
        )
    folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".rlft-init-", dir=folder))
    try:
        for name, text in FILES.items():
            path = staging / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        for entry in ("conf", "README.md"):  # each rename is atomic: a file is there whole or not at all
            os.replace(staging / entry, folder / entry)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return [folder / name for name in FILES]


COMMAND = Command(
    "init",
    "Write a starter project: a conf/ folder (an env, two stages, a curriculum, an experiment, "
    "commented) and a README, runnable as they are.",
    positionals=(Positional("DIR", "the project folder (created; nothing in it is overwritten)"),),
    description="rlft finds the project's conf/ when run from DIR, or through --config-dir / RLFT_CONFIG_DIR.",
)


def main(argv: list[str] | None = None) -> None:
    with user_errors():
        args = COMMAND.parse(sys.argv[1:] if argv is None else argv)
        written = write_project(Path(args.dir))
    print(f"wrote a starter project in {args.dir}:")
    for path in written:
        print(f"  {path}")
    print(f"next: cd {args.dir} && rlft train env=my_env stage=calm_lake")


if __name__ == "__main__":
    main()
