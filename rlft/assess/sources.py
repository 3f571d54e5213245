"""What ``rlft.evaluate`` / ``rlft.compare`` / ``rlft traces record`` can judge: any model source
(:mod:`rlft.champions.sources`: a champion, a run / curriculum / model folder, an exported HF
folder, a trusted SB3 zip) or a scripted CurveTrace oracle, each with the config it was trained on
(when known) and its learning curve.

Run folders are this project's own outputs and load through SB3 (as resume does); champions load
through the registry and HF folders from config.json + safetensors (never unpickled).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from omegaconf import DictConfig

from rlft.errors import ConfigError
from rlft.io import read_json
from rlft.runs.layout import RunFolder
from rlft.runs.reading import check_model_zip

if TYPE_CHECKING:
    from gymnasium import spaces

    from rlft.champions.sources import ModelSource
    from rlft.evaluation import Policy

ORACLES = {"oracle": "RayBridgeOracle", "oracle:raybridge": "RayBridgeOracle", "oracle:greedy": "GreedyOracle"}
PICKS = ("final", "best")


@dataclass
class Source:
    """One model to judge. ``config`` holds its env / stage / stage_overrides / hparams (None for an
    oracle, which plays whatever CurveTrace stage it is given); ``load(env_cfg)`` builds the policy."""

    spec: str
    label: str
    kind: str  # run | champion | hf | sb3 | oracle
    config: dict[str, Any] | None
    load: Callable[[DictConfig], "Policy"]
    model_dir: Path | None = None  # normalisation stats live here
    curve: list[dict[str, Any]] = field(default_factory=list)  # the run's evaluation history
    spaces: tuple[dict, dict] | None = None  # the model's (observation, action) specs, when known without loading
    deterministic: bool | None = None  # how its run evaluated (eval.deterministic), when known


def run_deterministic(run: Path | str | None) -> bool | None:
    """A run folder's ``eval.deterministic`` (None when there is no readable run config): evaluate
    and compare default to it, so a policy trained and judged with sampled actions is not silently
    judged greedily."""
    if run is None or not RunFolder(Path(run)).config_file.is_file():
        return None
    from omegaconf import OmegaConf

    value = OmegaConf.select(OmegaConf.load(RunFolder(Path(run)).config_file), "eval.deterministic")
    return None if value is None else bool(value)


def _run_source(model: "ModelSource") -> Source:
    """A model of an rlft run: loaded through SB3 (as resume does), with the run's curve."""
    folder = model.folder
    run = next(p for p in (folder.parent, folder.parent.parent) if RunFolder(p).config_file.is_file())
    curve = read_json(RunFolder(run).metrics_file).get("eval", []) if RunFolder(run).metrics_file.is_file() else []
    algo = (model.config or {})["hparams"]["algo"]
    return Source(
        model.spec,
        _label(Path(model.spec)),
        "run",
        model.config,
        lambda env_cfg: _load_zip(algo, model.weights),
        folder,
        curve,
        model.spaces,
        run_deterministic(run),
    )


def _load_zip(algo: str, weights: Path) -> "Policy":
    from rlft.algos.factory import algorithm_class

    check_model_zip(weights)
    return algorithm_class(algo).load(weights, device="cpu")


def _champion_source(model: "ModelSource", registry: str) -> Source:
    from rlft.champions.registry import Registry

    reg = Registry(registry)
    ref = model.champion
    assert ref is not None

    def load(env_cfg: DictConfig) -> "Policy":
        from rlft.envs.factory import make_vec_env

        venv = make_vec_env(env_cfg, 1, 0)
        try:
            return reg.load_model(ref, venv)[0]
        finally:
            venv.close()

    source_run = reg.verify(ref).manifest.get("source_run")
    metrics = Path(source_run or "", "metrics.json")
    curve = read_json(metrics).get("eval", []) if source_run and metrics.is_file() else []
    deterministic = run_deterministic(source_run)
    return Source(model.spec, ref, "champion", model.config, load, model.folder, curve, model.spaces, deterministic)


def _hf_source(model: "ModelSource") -> Source:
    """An exported HF folder: config.json + safetensors (:func:`rlft.champions.sources.build_export_model`)."""

    def load(env_cfg: DictConfig) -> "Policy":
        from rlft.champions.sources import build_export_model
        from rlft.envs.factory import make_vec_env

        venv = make_vec_env(env_cfg, 1, 0)
        try:
            return build_export_model(model, venv)
        finally:
            venv.close()

    return Source(model.spec, _label(Path(model.spec)), "hf", model.config, load, model.folder, [], model.spaces)


def _sb3_source(model: "ModelSource") -> Source:
    """A trusted SB3 zip from outside rlft: no config, so the env (``env=``) and the algorithm
    (``hparams=``, default ppo) are the user's."""

    def load(env_cfg: DictConfig) -> "Policy":
        from rlft.algos.factory import algorithm_class

        try:
            return algorithm_class(env_cfg.hparams.algo).load(model.weights, device="cpu")
        except (AttributeError, ValueError, KeyError, RuntimeError, TypeError) as exc:  # another algo's zip
            raise ConfigError(
                f"{model.spec} does not load as algo {env_cfg.hparams.algo} ({type(exc).__name__}): "
                "name its algorithm with hparams=..."
            ) from None

    label = Path(model.spec).name if Path(model.spec).is_dir() else model.weights.stem
    return Source(model.spec, label, "sb3", None, load, model.folder, [], model.spaces)


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


def resolve_source(
    spec: str, registry: str, pick: str = "final", checkpoint: int | None = None, trust_pickle: bool = False
) -> Source:
    """``spec``: ``oracle[:raybridge|:greedy]`` or any model source of
    :func:`rlft.champions.sources.resolve_model_source` (a champion, a run / curriculum / model
    folder, an exported HF folder, an SB3 zip with ``trust_pickle``)."""
    if spec in ORACLES:
        return _oracle_source(spec)
    from rlft.champions.sources import resolve_model_source

    model = resolve_model_source(spec, registry, pick, checkpoint, trust_pickle)
    if model.kind == "champion":
        return _champion_source(model, registry)
    return {"run": _run_source, "hf": _hf_source, "sb3": _sb3_source}[model.kind](model)


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
