"""Bad input, at every entrypoint: exit code 2, one line ``error: ...`` on stderr naming what is
wrong, and nothing written (no run or output folder, the registry unchanged).

Each case runs in-process (the entrypoint's ``main`` or, for ``rlft train``, the same composition,
validation and run-folder claim Hydra's callback does); a handful of ``rlft train`` cases also go
through the real command line in a subprocess.
"""

from __future__ import annotations

import errno
import functools
import os
from pathlib import Path
from typing import Callable, Sequence

import pytest

from rlft.cli import user_errors
from rlft.config.compose import compose_config
from rlft.errors import ConfigError, RunFolderError
from rlft.workflows import prepare_run, validate
from tests.conftest import run_cli

# -- rlft train ----------------------------------------------------------------------------------
CARTPOLE = [
    (["hparams.lr=abc"], "hparams.lr"),
    (["hparams.lr=0"], "hparams.lr"),
    (["hparams.lr=-1e-3"], "hparams.lr"),
    (["hparams.lr=inf"], "hparams.lr=inf"),
    (["hparams.lr=-inf"], "hparams.lr=-inf"),
    (["hparams.lr=nan"], "hparams.lr=nan"),
    (["hparams.lr_end=inf"], "hparams.lr_end"),
    (["hparams.vf_coef=inf"], "hparams.vf_coef"),
    (["hparams.ent_coef=nan"], "hparams.ent_coef"),
    (["hparams.gamma=nan"], "hparams.gamma"),
    (["hparams.clip_range=inf"], "hparams.clip_range"),
    (["hparams.max_grad_norm=inf"], "hparams.max_grad_norm"),
    (["hparams.weight_decay=nan"], "hparams.weight_decay"),
    (["hparams.target_kl=-1"], "hparams.target_kl"),
    (["hparams.target_kl=0"], "hparams.target_kl"),
    (["hparams.total_timesteps=0"], "hparams.total_timesteps"),
    (["hparams.total_timesteps=-5"], "hparams.total_timesteps"),
    (["hparams.episodes=0"], "hparams.episodes"),
    (["hparams.batch_size=100"], "hparams.batch_size"),
    (["hparams.policy=Foo"], "hparams.policy"),
    (["hparams.policy=no_such_module.Policy"], "hparams.policy"),
    (["hparams.policy_kwargs.net_arch=[-5]"], "net_arch"),
    (["hparams.policy_kwargs.net_arch=[64,0.5]"], "net_arch"),
    (["hparams.policy_kwargs.net_arch={pi: [64], vf: [0]}"], "net_arch.vf"),
    (["hparams.policy_kwargs.net_arch={pi: [64], critic: [64]}"], "net_arch"),
    (["hparams.policy_kwargs.optimizer_kwargs={eps: inf}"], "hparams.policy_kwargs.optimizer_kwargs.eps"),
    (["hparams=dqn", "hparams.clip_range=0.1"], "hparams.clip_range"),
    (["hparams=dqn", "hparams.exploration_fraction=nan"], "hparams.exploration_fraction"),
    (["hparams=nonexistent"], "hparams"),
    (["env=nonexistent"], "env"),
    (["env.id=CartPol-v1"], "env.id"),
    (["env.n_envs=many"], "env.n_envs"),
    (["env.max_episode_steps=0"], "env.max_episode_steps"),
    (["env.normalize.clip_obs=-1"], "env.normalize.clip_obs"),
    (["env.normalize.clip_obs=0"], "env.normalize.clip_obs"),
    (["env.normalize.clip_reward=-1"], "env.normalize.clip_reward"),
    (["env.kwargs={bogus: 1}"], "bogus"),
    (["env.id=ALE/NoSuchGame-v5"], "env.id=ale_py:ALE/NoSuchGame-v5"),
    (["env.wrappers=[{_target_: no_such_pkg.Wrapper}]"], "env.wrappers[0]._target_"),
    (["env.wrappers=[{_target_: gymnasium.wrappers.ClipReward, bogus: 1}]"], "bogus"),
    (
        ["env.wrappers=[{_target_: minigrid.wrappers.ImgObsWrapper}]"],
        "env.wrappers[0] (minigrid.wrappers.ImgObsWrapper)",
    ),
    (["env.wrappers=[{min_r: 1}]"], "env.wrappers[0] has no _target_"),
    (["env.wrappers=[ImgObsWrapper]"], "env.wrappers"),
    (["env.frame_stack=0"], "env.frame_stack"),
    (["env.atari=true"], "env.atari"),
    (["env.api=bogus"], "env.api"),
    (["env.api=gym"], "env._target_"),
    (["env.id=Pendulum-v1", "hparams=dqn"], "hparams.algo"),
    (["env.id=Pendulum-v1", "hparams=ppo_stop"], "MultiDiscrete or Discrete"),
    # algorithms (hparams.algo): one that does not exist, does not fit the spaces, or a setting it does not use
    (["hparams.algo=sacc"], "hparams.algo='sacc'"),
    (["hparams=sac"], "hparams.algo=sac needs a Box action space"),
    (["hparams=td3"], "hparams.algo=td3 needs a Box action space"),
    (["env.id=Pendulum-v1", "hparams=qrdqn"], "hparams.algo=qrdqn needs a Discrete action space"),
    (["hparams=maskable_ppo"], "action_masks()"),
    (["env.id=Pendulum-v1", "hparams=sac", "hparams.n_epochs=3"], "hparams.n_epochs=3 is not used by algo sac"),
    (["env.id=Pendulum-v1", "hparams=sac", "hparams.ent_coef=autox"], "hparams.ent_coef='autox'"),
    (["env.id=Pendulum-v1", "hparams=sac", "hparams.ent_coef=auto_-1"], "hparams.ent_coef='auto_-1'"),
    (["hparams.ent_coef=auto"], "hparams.ent_coef='auto' is not valid for algo ppo"),
    (["env.id=Pendulum-v1", "hparams=td3", "hparams.action_noise=pink"], "hparams.action_noise"),
    (["env.id=Pendulum-v1", "hparams=sac", "hparams.action_noise_sigma=0.2"], "needs hparams.action_noise"),
    (["hparams=recurrent_ppo", "hparams.policy=MlpPolicy"], "MlpLstmPolicy"),
    (["hparams.policy=MlpLstmPolicy"], "hparams.policy='MlpLstmPolicy' is not valid for algo ppo"),
    (["hparams.use_sde=true"], "hparams.use_sde"),
    (["env.id=Pendulum-v1", "hparams=ars", "hparams.n_top=20"], "hparams.n_top"),
    (["env.id=Pendulum-v1", "hparams=ars", "hparams.weight_decay=0.01"], "hparams.weight_decay"),
    # freeze by meaning: a name the algorithm's policy lacks, or one covering no weights
    (["hparams.freeze=[encoder]"], "'encoder' is not a part of algo ppo's policy"),
    (["hparams=dqn", "hparams.freeze=[value_head]"], "use logical names features_extractor, policy_head;"),
    (["hparams=dqn", "hparams.freeze=[features_extractor]"], "'features_extractor' matches no parameter"),
    (["env.id=Pendulum-v1", "hparams=ars", "hparams.freeze=[policy_head]"], "not used by algo ars"),
    (["seed=-1"], "seed=-1"),
    (["eval.seed=-5"], "eval.seed"),
    (["eval.every=-1"], "eval.every"),
    (["checkpoint.every=-1"], "checkpoint.every"),
    (["torch_threads=0"], "torch_threads"),
    (["progress_every_s=nan"], "progress_every_s"),
    (["progress_every_s=0"], "progress_every_s"),
    (["device=tpu"], "device"),
    (["early_stop.metric=success_rate"], "early_stop"),
    (["early_stop.metric=success_rate", "early_stop.target=nan"], "early_stop.target"),
    (["early_stop.metric=success_rate", "early_stop.patience=3", "early_stop.min_delta=inf"], "early_stop.min_delta"),
    (["early_stop.metric=mean_coverage", "early_stop.target=1"], "early_stop.metric='mean_coverage'"),
    (["eval.metric=reward"], "eval.metric='reward'"),
    (["optimized_metric=info/"], "optimized_metric='info/'"),
    (["env.metrics=[ess]"], "env.metrics[0]='ess'"),
    (["finetune.anchor_coef=inf"], "finetune.anchor_coef"),
    (["finetune.continue_steps=true"], "finetune.continue_steps"),
    (["distill.lr=inf"], "distill.lr"),
    (["no_such_key=1"], "no_such_key"),
    (["+foo=1"], "foo"),
    (["+hparams.foo=1"], "hparams.foo"),
    (["experiment_name=../../escape"], "experiment_name"),
    (["experiment_name=a/b"], "experiment_name"),
    (["experiment_name=.hidden"], "experiment_name"),
    (["experiment_name="], "experiment_name"),
    (["champion=Ünï"], "champion=Ünï"),
    (["champion.name=../x"], "champion name"),
    (["resume=/"], "resume"),
    (["init=/no/such/run"], "init: /no/such/run does not exist"),
    (["init=nobody"], "nobody"),
    (["init=/no/such/run", "init_which=middle"], "which='middle'"),
    (["curriculum.init=/no/such/run"], "no curriculum is enabled"),
    (["paths.output_dir=/etc/passwd/x"], "paths.output_dir"),
]

CURVE_TRACE = [
    (["stage=0"], "stage"),
    (["stage=13"], "stage"),
    (["stage=x"], "stage"),
    (["env.kwargs.stop_mode=decoupld"], "stop_mode"),
    (["env.frame_stack=2"], "env.vec_env"),
    (["stage_overrides.no_such_param=1"], "no_such_param"),
    (["stage_overrides.noise_sigma=-0.1"], "noise_sigma"),
    (["stage_overrides.noise_sigma=nan"], "noise_sigma"),
    (["stage_overrides.min_intensity=1.5"], "min_intensity"),
    (["hparams.batch_size=100"], "hparams.batch_size"),
]

# a curriculum over a user env (FrozenLake: its kwargs change the map or the ice, not always the spaces)
LAKE = ["env=cartpole", "env.id=FrozenLake-v1", "curriculum.name=lakes"]

CURRICULUM = [
    (["curriculum=curve_trace", "curriculum.start=13"], "curriculum.start"),
    (["curriculum=curve_trace", "stage=13"], "stage"),
    (["curriculum=curve_trace", "curriculum.on_fail=retry"], "curriculum.on_fail"),
    (["curriculum=curve_trace", "curriculum.init=/no/such/run"], "curriculum.init: /no/such/run does not exist"),
    (["curriculum=curve_trace", "init=/no/such/run"], "init: /no/such/run does not exist"),
    (["curriculum=curve_trace", "init=/a/run", "curriculum.init=/b/run"], "give one (init=)"),
    (["curriculum=curve_trace", "curriculum.promotion.threshold=nan"], "curriculum.promotion.threshold"),
    (["curriculum=curve_trace", "curriculum.promotion.metric=coverage"], "promotion.metric='coverage' is not a metric"),
    (
        ["curriculum=curve_trace", "curriculum.stages=[{stage: 2, timesteps: 100, hparams: {batch_size: 100}}]"],
        "hparams.batch_size",
    ),
    (
        ["curriculum=curve_trace", "curriculum.stages=[{stage: 2, timesteps: 100, env_kwargs: {noise_sigma: -1}}]"],
        "noise_sigma",
    ),
    (["curriculum=curve_trace", "curriculum.stages=[{stage: 2, timesteps: inf}]"], "timesteps"),
    (["curriculum=nonexistent"], "curriculum"),
    (["env=cartpole", "stage=all"], "curriculum="),
    (
        ["env=cartpole", "curriculum.stages=[{name: a, env_kwargs: {}, timesteps: 100}]"],
        "sets curriculum stages without enabling a curriculum",
    ),
    (["curriculum=curve_trace", "curriculum.stages=[{name: 2, stage: 2, total_timesteps: 100}]"], "either name"),
    (
        ["curriculum=curve_trace", "curriculum.stages=[{env_kwargs: {noise_sigma: 0.1}, timesteps: 100}]"],
        "names no stage",
    ),
    (
        [
            *LAKE,
            "curriculum.stages=[{name: small, env_kwargs: {map_name: 4x4}, timesteps: 100}, "
            "{name: big, env_kwargs: {map_name: 8x8}, timesteps: 100}]",
        ],
        "curriculum stages small and big have different observation spaces (Discrete(16) vs Discrete(64))",
    ),
    (
        [*LAKE, "curriculum.stages=[{name: calm, environment: {stage: easy}, total_timesteps: 100}]"],
        "both name the stage",
    ),
]

TRAIN = (
    [(["env=cartpole", *o], k) for o, k in CARTPOLE]
    + [(["env=curve_trace", *o], k) for o, k in CURVE_TRACE]
    + CURRICULUM
)

# through the real command line (Hydra's main, its callback and the CLI's error handler)
TRAIN_SUBPROCESS = [
    (["hparams.lr=inf"], "hparams.lr"),
    (["seed=-1"], "seed"),
    (["+foo=1"], "foo"),
    (["experiment_name=../../escape"], "experiment_name"),
    (["champion=Ünï"], "champion=Ünï"),
    (["hparams=nonexistent"], "hparams"),
]


def _train(argv: Sequence[str]) -> None:
    """What ``rlft train`` does before its run starts: compose (as Hydra does, with its node),
    prepare and validate, claim the run folder; under the CLI's error handler."""
    with user_errors():
        prepare_run(compose_config(argv, with_hydra=True))


# -- the other entrypoints -----------------------------------------------------------------------
# {empty}: an empty folder, {missing}: a path that does not exist, {file}: a plain file,
# {project}: a folder with a README.md, {run}: a run whose final/model.zip is truncated; paths.registry / paths.output_dir point into the test's folder
OTHERS: dict[str, list[tuple[list[str], str]]] = {
    "register": [
        (["{empty}", "name=Ünï"], "champion name"),
        (["{empty}", "name=../x"], "champion name"),
        (["{empty}", "name=a/b"], "champion name"),
        (["{empty}", "name=ok\n"], "champion name"),
        (["{empty}", "name=ok", "min_success=nan"], "min_success=nan"),
        (["{empty}", "name=ok", "min_success=inf"], "min_success=inf"),
        (["{empty}", "name=ok", "min_success=-inf"], "min_success=-inf"),
        (["{empty}", "name=ok", "min_success=1.5"], "min_success"),
        (["{empty}", "name=ok", "which=middle"], "which"),
        (["{empty}", "name=ok", "force=maybe"], "force"),
        (["{empty}", "name=ok", "gate=mean_reward=>200"], "gate='mean_reward=>200' is not a gate"),
        (["{empty}", "name=ok", "gate=reward>=1"], "'reward' is not a metric"),
        (["{empty}", "name=ok", "gate=info/ess>=nan"], "finite"),
        (["{empty}", "name=ok", "gate=mean_reward>=200", "min_success=0.5"], "not both"),
        (["{empty}"], "name="),
        (["{empty}", "--force"], "force=true"),
        (["{missing}", "name=ok"], "not an rlft run folder"),
        (["{empty}", "name=ok"], "not an rlft run folder"),
        (["{run}", "name=ok"], "no best model"),
        (["{run}", "name=ok", "which=final", "force=true"], "truncated"),
    ],
    "champions": [
        (["show", "Ünï"], "Ünï"),
        (["verify", "../x"], "champion"),
        (["show", "a@v0"], "a@v0"),
        (["show", "nobody"], "nobody"),
        (["lineage", "nobody"], "nobody"),
        (["lineage", "a@v0"], "a@v0"),
        (["frobnicate"], "frobnicate"),
        (["list", "--all"], "--all"),
    ],
    "evaluate": [
        (["{missing}"], "does not exist"),
        (["{empty}"], "holds no model"),
        (["{file}"], "not an SB3 zip"),
        (["{run}", "checkpoint=500"], "no checkpoint at step 500"),
        (["{run}", "checkpoint=-1"], "checkpoint"),
        (["{run}", "trust_pickle=maybe"], "trust_pickle"),
        (["{empty}", "episodes=0"], "episodes"),
        (["{empty}", "episodes=nan"], "episodes"),
        (["{empty}", "which=middle"], "which"),
        (["{run}"], "truncated"),
        (["oracle:greedy", "eval.seed=-5"], "eval.seed"),
        (["oracle:greedy", "+foo=1"], "foo"),
        (["oracle:greedy", "stage_overrides.noise_sigma=inf"], "noise_sigma"),
        (["oracle:greedy", "stages=[]"], "stages"),
        (["oracle:greedy", "stages=[99]"], "99"),
        (["oracle:greedy", "stage_overrides.noise_sigma=nan"], "noise_sigma"),
    ],
    "compare": [
        (["oracle:greedy"], "at least 2"),
        (["oracle:greedy", "{missing}"], "does not exist"),
        (["oracle:greedy", "oracle:greedy", "episodes=-1"], "episodes"),
        (["oracle:greedy", "oracle:greedy", "eval.seed=-1"], "eval.seed"),
        (["{run}", "{run}", "env=cartpole"], "truncated"),
        (["oracle:greedy", "oracle:greedy", "deterministic=perhaps"], "deterministic"),
    ],
    "promote": [
        (["{empty}", "tolerance=nan"], "tolerance=nan"),
        (["{empty}", "tolerance=inf"], "tolerance=inf"),
        (["{empty}", "tolerance=2"], "tolerance"),
        (["{missing}"], "no metrics.json"),
        (["{empty}"], "no metrics.json"),
        (["{empty}", "against=newest"], "against=newest"),
    ],
    "export": [
        (["Ünï", "format=hf", "out={tmp}/export"], "Ünï"),
        (["ok", "format=zip", "out={tmp}/export"], "format"),
        (["ok", "format=hf"], "out="),
        (["nobody", "format=hf", "out={tmp}/export"], "nobody"),
        (["{run}", "format=hf", "out={tmp}/export"], "register it first (rlft register"),
        (["{empty}", "format=hf", "out={tmp}/export"], "not a champion"),
    ],
    "traces record": [
        (["oracle:greedy", "episodes=0", "out={tmp}/traces"], "episodes"),
        (["oracle:greedy", "first_seed=-1", "out={tmp}/traces"], "first_seed"),
        (["oracle:greedy", "chunk=nan", "out={tmp}/traces"], "chunk"),
        (["oracle:greedy"], "out="),
        (["{missing}", "out={tmp}/traces"], "does not exist"),
        (["{empty}", "out={tmp}/traces"], "holds no model"),
        (["{run}", "out={tmp}/traces"], "truncated"),
    ],
    "traces filter": [
        (["in={missing}", "out={tmp}/kept"], "not a trace store"),
        (["in={empty}", "min_reward=nan", "out={tmp}/kept"], "min_reward=nan"),
        (["in={empty}", "min_reward=inf", "out={tmp}/kept"], "min_reward=inf"),
        (["in={empty}", "max_length=0", "out={tmp}/kept"], "max_length"),
        (["in={empty}", "out={tmp}/kept"], "not a trace store"),
    ],
    "sweep summarize": [
        (["{missing}"], "no sweep jobs"),
        (["{empty}"], "no sweep jobs"),
        (["{empty}", "tensorboard=maybe"], "tensorboard"),
        ([], "DIR"),
    ],
    "init": [
        ([], "DIR"),
        (["{project}"], "README.md"),
        (["{file}/project"], "Not a directory"),
    ],
    "demo": [
        (["quick=maybe"], "quick"),
        (["--quick"], "quick=true"),
        (["foo=1"], "foo"),
        (["word"], "word"),
    ],
}


def _entrypoint(name: str) -> Callable[[list[str]], None]:
    import importlib

    module = {
        "register": "rlft.register",
        "champions": "rlft.champions.__main__",
        "evaluate": "rlft.evaluate",
        "compare": "rlft.compare",
        "promote": "rlft.promote",
        "export": "rlft.export.__main__",
        "traces record": "rlft.traces.__main__",
        "traces filter": "rlft.traces.__main__",
        "sweep summarize": "rlft.sweep.__main__",
        "init": "rlft.init",
        "demo": "rlft.demo",
    }[name]
    main = importlib.import_module(module).main
    words = name.split()[1:]  # a group's subcommand
    return lambda argv: main([*words, *argv])


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@functools.cache
def _cartpole_yaml() -> str:
    from omegaconf import OmegaConf

    return OmegaConf.to_yaml(compose_config(["env=cartpole"]))


def _truncated_run(folder: Path) -> None:
    """A finished-looking CartPole run whose ``final/model.zip`` was cut short (an interrupted copy)."""
    (folder / ".hydra").mkdir(parents=True)
    (folder / ".hydra" / "config.yaml").write_text(_cartpole_yaml())
    (folder / "metrics.json").write_text('{"status": "completed", "eval": [], "best": null, "final": null}')
    (folder / "final").mkdir()
    (folder / "final" / "model.zip").write_bytes(b"PK\x03\x04\x14\x00\x00\x00\x08\x00truncated")


def _layout(tmp_path: Path) -> dict[str, str]:
    _truncated_run(tmp_path / "run")
    (tmp_path / "empty").mkdir()
    (tmp_path / "file").write_text("not a folder")
    (tmp_path / "project").mkdir()
    (tmp_path / "project" / "README.md").write_text("mine")
    return {
        "empty": str(tmp_path / "empty"),
        "missing": str(tmp_path / "missing"),
        "file": str(tmp_path / "file"),
        "project": str(tmp_path / "project"),
        "run": str(tmp_path / "run"),
        "tmp": str(tmp_path),
    }


def _one_line(capsys: pytest.CaptureFixture[str], exit_code: object) -> str:
    captured = capsys.readouterr()
    assert exit_code == 2, captured.err
    lines = [line for line in captured.err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), captured.err
    assert "Traceback" not in captured.err and captured.out == ""
    return lines[0]


@pytest.mark.parametrize("overrides,key", TRAIN, ids=[" ".join(c[0]) for c in TRAIN])
def test_train_refuses_bad_input(
    overrides: list[str], key: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    paths = [f"paths.output_dir={tmp_path / 'outputs'}", f"paths.registry={tmp_path / 'champions'}"]
    with pytest.raises(SystemExit) as exit_:
        _train([*paths, *overrides])  # the case's own paths.* (if any) come last and win
    assert key in _one_line(capsys, exit_.value.code)
    assert _tree(tmp_path) == set(), "a bad config must not write anything"


CASES = [(name, argv, key) for name, cases in OTHERS.items() for argv, key in cases]


@pytest.mark.parametrize("name,argv,key", CASES, ids=[f"{n}: {' '.join(a)}" for n, a, _ in CASES])
def test_entrypoint_refuses_bad_input(
    name: str,
    argv: list[str],
    key: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    where = _layout(tmp_path)
    monkeypatch.chdir(tmp_path)  # a default outputs/ or champions/ would land here
    before = _tree(tmp_path)
    argv = [arg.format(**where) for arg in argv]
    if name not in ("init", "sweep summarize", "traces filter"):
        argv += [f"paths.registry={tmp_path / 'champions'}"]
    if name in ("evaluate", "compare", "traces record"):
        argv += [f"paths.output_dir={tmp_path / 'outputs'}"]
    with pytest.raises(SystemExit) as exit_:
        _entrypoint(name)(argv)
    assert key in _one_line(capsys, exit_.value.code)
    assert _tree(tmp_path) == before, "a bad input must not write anything"


@pytest.mark.parametrize("overrides,key", TRAIN_SUBPROCESS, ids=[" ".join(c[0]) for c in TRAIN_SUBPROCESS])
def test_train_command_line_refuses_bad_input(overrides: list[str], key: str, tmp_path: Path) -> None:
    done = run_cli(["env=cartpole", *overrides, f"paths.output_dir={tmp_path / 'outputs'}"], cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and key in lines[0], done.stderr
    assert not (tmp_path / "outputs").exists(), "a bad config must not create a run folder"


RESUME = [
    (["env.id=MountainCar-v0"], "observation space"),
    (["env.max_episode_steps=0"], "env.max_episode_steps"),
    (["hparams.lr=inf"], "hparams.lr"),
    (["+foo=1"], "foo"),
    (["env=curve_trace"], "cannot change on resume"),
]


@pytest.mark.parametrize("overrides,key", RESUME, ids=[" ".join(c[0]) for c in RESUME])
def test_resume_refuses_bad_input(
    overrides: list[str], key: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _truncated_run(tmp_path / "run")  # the spaces come from its saved config; its model is never read
    before = _tree(tmp_path)
    with pytest.raises(SystemExit) as exit_:
        _train([f"resume={tmp_path / 'run'}", *overrides])
    assert key in _one_line(capsys, exit_.value.code)
    assert _tree(tmp_path) == before


# init= of a source that is missing, of the wrong kind, untrusted, or of another env's spaces
INIT = [
    (["init={missing}"], "does not exist"),
    (["init={empty}"], "holds no model"),
    (["init={file}"], "not an SB3 zip"),
    (["init={run}"], "truncated"),
    (["init={run}", "init_checkpoint=500"], "no checkpoint at step 500"),
    (["init={zip}"], "trust_pickle=true"),
    (["init={hf}", "env=curve_trace"], "does not fit this env"),
    (["init={hf}", "env=curve_trace", "curriculum=curve_trace"], "does not fit this env"),
]


def _hf_stub(folder: Path) -> None:
    """An HF export folder's config.json (CartPole's spaces); its weights are never read."""
    import json

    from rlft.envs.factory import probe_spaces
    from rlft.envs.spaces import model_specs

    cfg = compose_config(["env=cartpole"])
    observation, action = model_specs(*probe_spaces(cfg))
    folder.mkdir()
    config = {"env": {"id": "CartPole-v1"}, "stage": {}, "stage_overrides": {}}
    config["hparams"] = {"algo": "ppo", "policy": "MlpPolicy", "policy_kwargs": {}}
    config.update(model_observation_space=observation, action_space=action)
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "model.safetensors").write_bytes(b"")


@pytest.mark.parametrize("overrides,key", INIT, ids=[" ".join(c[0]) for c in INIT])
def test_init_refuses_bad_input(
    overrides: list[str], key: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    where = _layout(tmp_path)
    (tmp_path / "ppo.zip").write_bytes(b"PK\x05\x06" + bytes(18))  # an (empty) zip from elsewhere
    _hf_stub(tmp_path / "hf")
    before = _tree(tmp_path)
    argv = [arg.format(**where, zip=tmp_path / "ppo.zip", hf=tmp_path / "hf") for arg in overrides]
    with pytest.raises(SystemExit) as exit_:
        _train(["env=cartpole", f"paths.output_dir={tmp_path / 'outputs'}", *argv])
    line = _one_line(capsys, exit_.value.code)
    assert key in line and line.startswith("error: init")
    assert _tree(tmp_path) == before


def test_a_full_disk_when_claiming_the_run_folder_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(path: object, *args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(os, "mkdir", full)
    with pytest.raises(SystemExit) as exit_:
        _train(["env=cartpole", f"paths.output_dir={tmp_path / 'outputs'}"])
    line = _one_line(capsys, exit_.value.code)
    assert "paths.output_dir" in line and os.strerror(errno.ENOSPC) in line
    assert _tree(tmp_path) == set()


def test_a_full_disk_while_writing_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_, user_errors():
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "/runs/metrics.json")
    assert "/runs/metrics.json" in _one_line(capsys, exit_.value.code)


def test_other_os_errors_keep_their_traceback() -> None:
    with pytest.raises(ConnectionResetError), user_errors():
        raise ConnectionResetError(errno.ECONNRESET, "reset")


def test_batch_size_message_suggests_divisors() -> None:
    cfg = compose_config(["hparams.batch_size=100", "hparams.n_steps=128", "env.n_envs=4"])
    with pytest.raises(ConfigError, match=r"128 \* 4 = 512.*64, 128, 256, 512"):
        validate(cfg)


def test_resume_of_a_folder_that_is_not_a_run(tmp_path: Path) -> None:
    (tmp_path / "somewhere").mkdir()
    cfg = compose_config([f"resume={tmp_path / 'somewhere'}"])
    with pytest.raises(RunFolderError, match="not an rlft run folder"):
        validate(cfg)


def test_the_table_covers_every_entrypoint_with_80_cases() -> None:
    assert set(OTHERS) == {
        "register",
        "champions",
        "evaluate",
        "compare",
        "promote",
        "export",
        "traces record",
        "traces filter",
        "sweep summarize",
        "init",
        "demo",
    }
    assert len(TRAIN) + len(TRAIN_SUBPROCESS) + len(RESUME) + len(INIT) + len(CASES) >= 80
