"""What ``rlft.evaluate`` / ``rlft.compare`` can judge: a run folder, a model folder, a champion,
or a scripted CurveTrace oracle, each with the config it was trained on and its learning curve.

Run folders are this project's own outputs and load through SB3 (as resume does); champions load
through the registry (verified, never unpickled).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from omegaconf import DictConfig, OmegaConf

from rlft.errors import ConfigError, RunFolderError
from rlft.io import read_json
from rlft.runs.layout import MODEL_FILE, RunFolder
from rlft.runs.reading import check_model_zip

if TYPE_CHECKING:
    from gymnasium import spaces

    from rlft.evaluation import Policy

ORACLES = {"oracle": "RayBridgeOracle", "oracle:raybridge": "RayBridgeOracle", "oracle:greedy": "GreedyOracle"}
PICKS = ("final", "best")


@dataclass
class Source:
    """One model to judge. ``config`` holds its env / stage / stage_overrides / hparams (None for an
    oracle, which plays whatever CurveTrace stage it is given); ``load(env_cfg)`` builds the policy."""

    spec: str
    label: str
    kind: str  # run | model | champion | oracle
    config: dict[str, Any] | None
    load: Callable[[DictConfig], "Policy"]
    model_dir: Path | None = None  # normalisation stats live here
    curve: list[dict[str, Any]] = field(default_factory=list)  # the run's evaluation history
    spaces: tuple[dict, dict] | None = None  # the model's (observation, action) specs, when known without loading


MODEL_GROUPS = ("env", "stage", "stage_overrides", "hparams")  # what a model was trained with


def _model_config(cfg: DictConfig) -> dict[str, Any]:
    """A run's env / stage / stage_overrides / hparams as plain dicts (like a champion manifest's)."""
    return {key: OmegaConf.to_container(cfg[key], resolve=True) for key in MODEL_GROUPS}


def _run_source(spec: str, folder: Path, pick: str) -> Source:
    from rlft.runs.reading import resolve_run, run_config

    run = resolve_run(folder)
    model_dir = run.best_dir if pick == "best" else run.final_dir
    if not (model_dir / MODEL_FILE).is_file():
        raise RunFolderError(
            f"{run.root} has no {pick}/{MODEL_FILE}: the run has not finished (resume it), or "
            f"pick the other model with which={'best' if pick == 'final' else 'final'}"
        )
    cfg = run_config(run)
    metrics = read_json(run.metrics_file)
    return Source(
        spec,
        _label(folder),
        "run",
        _model_config(cfg),
        lambda env_cfg: _load_zip(cfg.hparams.algo, model_dir),
        model_dir,
        metrics.get("eval", []),
    )


def _model_folder_source(spec: str, folder: Path) -> Source:
    """A bare model folder (final/, best/, checkpoints/step_N/): its run's config is two or three
    levels up."""
    parent = next((p for p in (folder.parent, folder.parent.parent) if RunFolder(p).config_file.is_file()), None)
    if parent is None:
        raise RunFolderError(f"{folder} holds a model but no run config above it: pass the run folder instead")
    from rlft.runs.reading import run_config

    cfg = run_config(RunFolder(parent))
    return Source(
        spec, _label(folder), "model", _model_config(cfg), lambda env_cfg: _load_zip(cfg.hparams.algo, folder), folder
    )


def _load_zip(algo: str, model_dir: Path) -> "Policy":
    from rlft.algos.factory import algorithm_class

    check_model_zip(model_dir / MODEL_FILE)
    return algorithm_class(algo).load(model_dir / MODEL_FILE, device="cpu")


def _champion_source(spec: str, registry: str) -> Source:
    from rlft.champions.registry import Registry

    reg = Registry(registry)
    champion = reg.verify(spec)
    m = champion.manifest

    def load(env_cfg: DictConfig) -> "Policy":
        from rlft.envs.factory import make_vec_env

        venv = make_vec_env(env_cfg, 1, 0)
        try:
            return reg.load_model(champion.ref, venv)[0]
        finally:
            venv.close()

    curve = []
    source_metrics = Path(m.get("source_run") or "", "metrics.json")
    if m.get("source_run") and source_metrics.is_file():
        curve = read_json(source_metrics).get("eval", [])
    from rlft.envs.spaces import stored_model_specs

    config = {key: m[key] for key in MODEL_GROUPS}
    return Source(
        spec,
        champion.ref,
        "champion",
        config,
        load,
        champion.folder,
        curve,
        stored_model_specs(m["observation_space"], m["action_space"], m["env"]),
    )


def _oracle_source(spec: str) -> Source:
    def load(env_cfg: DictConfig) -> "Policy":
        from rlft.envs.curve_trace import oracle
        from rlft.envs.factory import env_kwargs

        if env_cfg.env.id != "rlft/CurveTrace-v0":
            raise ConfigError(f"{spec} plays CurveTrace only, not env {env_cfg.env.name!r}: drop env=...")
        return getattr(oracle, ORACLES[spec])(stop_mode=env_kwargs(env_cfg).get("stop_mode", "standard"))

    return Source(spec, spec.replace(":", "_"), "oracle", None, load)


def _label(folder: Path) -> str:
    name = folder.resolve().name
    return folder.resolve().parent.name + "_" + name if name in PICKS or name.startswith("step_") else name


def resolve_source(spec: str, registry: str, pick: str = "final") -> Source:
    """``spec``: ``oracle[:raybridge|:greedy]``, a run / curriculum folder, a model folder, or a
    champion name (``NAME`` or ``NAME@vN``)."""
    if pick not in PICKS:
        raise ConfigError(f"which={pick!r} is not valid: use final or best")
    if spec in ORACLES:
        return _oracle_source(spec)
    path = Path(spec).expanduser()
    if path.is_dir():
        if (path / MODEL_FILE).is_file():
            return _model_folder_source(spec, path)
        return _run_source(spec, path, pick)
    if "/" in spec or path.suffix:
        raise RunFolderError(f"{spec} does not exist: give a run folder, a model folder, a champion name or oracle")
    return _champion_source(spec, registry)


def model_specs_of(policy: Any) -> tuple[dict, dict] | None:
    """(observation, action) spec of a loaded SB3 model (its own, transposed, spaces); None for
    scripted policies."""
    from rlft.envs.spaces import space_spec

    if not hasattr(policy, "observation_space"):
        return None
    return space_spec(policy.observation_space), space_spec(policy.action_space)


def check_runs_on(source: Source, policy: Any, env_spaces: tuple["spaces.Space", "spaces.Space"], where: str) -> None:
    """The model must take the env's observations and give its actions, compared as the model's
    spaces (:mod:`rlft.envs.spaces`: after SB3's image transposition)."""
    from rlft.envs.spaces import obs_clip, spaces_mismatch

    own = source.spaces or model_specs_of(policy)
    if own is None:
        return
    wrong = spaces_mismatch(own, env_spaces, obs_clip((source.config or {}).get("env")))
    if wrong is not None:
        raise ConfigError(f"{source.label} cannot run on {where}: {wrong}")
