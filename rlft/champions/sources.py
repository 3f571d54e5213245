"""One notion of "a model to start from": what ``init=`` (training, curricula) and the judging
commands accept.

A source is a champion ``NAME[@vN]`` (verified, weights from safetensors), a run, curriculum or
fine-tune folder (its ``final`` or ``best`` model, or ``checkpoint=<step>``), a model folder
(``final/``, ``best/``, ``checkpoints/step_N/``), an exported Hugging Face-style folder
(``config.json`` + ``model.safetensors``: read without pickle), or an SB3 zip (a file, or an
``rlft export format=sb3`` folder): SB3 stores its spaces pickled, so a zip is read only with
``trust_pickle=true``. Every check is here, before anything is written: a missing path, a folder
holding no model, an untrusted zip, spaces another env's.

It lives on the champions level because it verifies champions through the registry; training
below it takes only the resolved weights file (:func:`rlft.training.run.load_weights`).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rlft.errors import ConfigError, RlftError, RunFolderError
from rlft.runs.layout import EXPORT_CONFIG, EXPORT_WEIGHTS, MODEL_FILE, RunFolder

if TYPE_CHECKING:
    from omegaconf import DictConfig
    from stable_baselines3.common.base_class import BaseAlgorithm
    from stable_baselines3.common.vec_env import VecEnv

KINDS = ("champion", "run", "hf", "sb3")
PICKS = ("final", "best")
MODEL_GROUPS = ("env", "stage", "stage_overrides", "hparams")  # what a model was trained with
EXPECTED = (
    "give a champion NAME[@vN], a run / curriculum / fine-tune folder, a model folder, an "
    "exported HF folder (config.json + model.safetensors) or an SB3 zip"
)


@dataclass(frozen=True)
class ModelSource:
    """A resolved source: ``weights`` is the file whose tensors start or make the model (its folder
    holds the normalisation stats); ``config`` the env / stage / stage_overrides / hparams it was
    trained with and ``spaces`` the model's (observation, action) specs, when known without
    unpickling (an SB3 zip's come from its data, read only when trusted)."""

    spec: str
    kind: str  # champion | run | hf | sb3
    weights: Path
    config: dict[str, Any] | None
    spaces: tuple[dict, dict] | None
    champion: str | None = None  # the verified ref, for a champion

    @property
    def folder(self) -> Path:
        return self.weights.parent

    def record(self) -> dict[str, Any]:
        """What a run started from it keeps as its parent: never lost, checkable later."""
        from rlft.champions.manifest import sha256

        return {
            "source": self.spec,
            "kind": self.kind,
            "champion": self.champion,
            "path": os.path.abspath(self.weights),
            "sha256": sha256(self.weights),
        }


def resolve_model_source(
    spec: str, registry: str, which: str = "final", checkpoint: int | None = None, trust_pickle: bool = False
) -> ModelSource:
    """The model ``spec`` stands for (see the module docstring); a user-fixable ``RlftError``
    naming what was expected otherwise."""
    if which not in PICKS:
        raise ConfigError(f"which={which!r} is not valid: use final or best")
    path = Path(spec).expanduser()
    if path.is_file():
        if path.suffix != ".zip":
            raise ConfigError(f"{spec} is a file but not an SB3 zip: {EXPECTED}")
        return _zip_source(spec, path, trust_pickle)
    if not path.is_dir():
        if "/" in spec or path.suffix or spec.startswith("."):
            raise RunFolderError(f"{spec} does not exist: {EXPECTED}")
        return _champion_source(spec, registry)
    if checkpoint is not None:
        return _checkpoint_source(spec, path, checkpoint)
    if (path / EXPORT_CONFIG).is_file() and (path / EXPORT_WEIGHTS).is_file():
        return _hf_source(spec, path, registry)
    if RunFolder(path).metrics_file.is_file():
        return _run_source(spec, path, which)
    if (path / MODEL_FILE).is_file():
        return _zip_source(spec, path / MODEL_FILE, trust_pickle)
    raise ConfigError(f"{spec} holds no model: {EXPECTED}")


def _zip_source(spec: str, zip_path: Path, trust_pickle: bool) -> ModelSource:
    """A model.zip of an rlft run (its run config two or three levels up: final/, best/,
    checkpoints/step_N/) is the run's; any other zip is a foreign SB3 one."""
    folder = zip_path.parent
    above = next((p for p in (folder.parent, folder.parent.parent) if RunFolder(p).config_file.is_file()), None)
    if above is not None and zip_path.name == MODEL_FILE:
        return _model_source(spec, zip_path, RunFolder(above))
    return _sb3_source(spec, zip_path, trust_pickle)


def _model_config(cfg: "DictConfig") -> dict[str, Any]:
    from omegaconf import OmegaConf

    return {key: OmegaConf.to_container(cfg[key], resolve=True) for key in MODEL_GROUPS}


def _model_source(spec: str, weights: Path, run: RunFolder) -> ModelSource:
    """A model.zip of an rlft run: its spaces come from the run's config, never from the zip."""
    from rlft.envs.factory import probe_spaces
    from rlft.envs.spaces import model_specs, obs_clip
    from rlft.runs.reading import check_model_zip, run_config

    check_model_zip(weights)
    cfg = run_config(run)
    return ModelSource(spec, "run", weights, _model_config(cfg), model_specs(*probe_spaces(cfg), obs_clip(cfg.env)))


def _run_source(spec: str, path: Path, which: str) -> ModelSource:
    from rlft.runs.reading import resolve_run, stage_model

    run = resolve_run(path)
    folder = stage_model(run, which)  # best falls back to final
    if not (folder / MODEL_FILE).is_file():
        raise RunFolderError(f"{run.root} has no {which}/{MODEL_FILE}: the run has not finished (resume it)")
    return _model_source(spec, folder / MODEL_FILE, run)


def _checkpoint_source(spec: str, path: Path, step: int) -> ModelSource:
    from rlft.runs.reading import checkpoint_problem, resolve_run

    run = resolve_run(path)
    folder = run.checkpoint_dir(step)
    if not folder.is_dir():
        kept = ", ".join(str(s) for s, _ in run.checkpoints()) or "none"
        raise RunFolderError(f"{run.root} has no checkpoint at step {step} (kept: {kept})")
    problem = checkpoint_problem(folder)
    if problem is not None:
        raise RunFolderError(f"{folder}: {problem}; pick another checkpoint=")
    return _model_source(spec, folder / MODEL_FILE, run)


def _champion_source(spec: str, registry: str) -> ModelSource:
    from rlft.champions import manifest as mf
    from rlft.champions.registry import Registry
    from rlft.envs.spaces import stored_model_specs

    champion = Registry(registry).verify(spec)
    m = champion.manifest
    spaces = stored_model_specs(m["observation_space"], m["action_space"], m["env"])
    config = {key: m[key] for key in MODEL_GROUPS}
    return ModelSource(spec, "champion", champion.folder / mf.WEIGHTS, config, spaces, champion.ref)


def _hf_source(spec: str, path: Path, registry: str) -> ModelSource:
    """``rlft export format=hf``'s folder: config.json (plain JSON) names the spaces and config;
    the weights are safetensors. Nothing is unpickled or imported here."""
    try:
        config = json.loads((path / EXPORT_CONFIG).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{path / EXPORT_CONFIG} is not readable JSON ({type(exc).__name__})") from None
    wanted = (*MODEL_GROUPS, "model_observation_space", "action_space")
    missing = [k for k in wanted if k not in config] if isinstance(config, dict) else list(wanted)
    if missing:
        raise ConfigError(
            f"{path / EXPORT_CONFIG} is not an rlft export's config (missing {', '.join(missing)}): "
            "export it again with rlft export NAME format=hf out=DIR"
        )
    from rlft.champions import manifest as mf
    from rlft.envs.spaces import canonical_spec

    # its class paths are imported when it is built or its env made: allowlisted as a manifest's
    mf.check_loadable({"format": mf.FORMAT, **config}, f"{path / EXPORT_CONFIG}")
    spaces = (canonical_spec(config["model_observation_space"]), canonical_spec(config["action_space"]))
    weights = path / EXPORT_WEIGHTS
    champion = _registered_as(config.get("champion"), weights, registry)
    return ModelSource(spec, "hf", weights, {k: config[k] for k in MODEL_GROUPS}, spaces, champion)


def _registered_as(ref: Any, weights: Path, registry: str) -> str | None:
    """The champion an export came from, when the registry still holds it with the very same
    weights (config.json naming it is no proof: anyone can edit it); else None."""
    if not isinstance(ref, str) or not registry:
        return None
    from rlft.champions import manifest as mf
    from rlft.champions.registry import Registry

    try:
        champion = Registry(registry).verify(ref)
    except RlftError:
        return None
    return champion.ref if mf.sha256(champion.folder / mf.WEIGHTS) == mf.sha256(weights) else None


def _sb3_source(spec: str, zip_path: Path, trust_pickle: bool) -> ModelSource:
    """A zip from outside rlft's runs: its data (spaces, classes) is pickled, so it is opened only
    when the user says they trust it."""
    if not trust_pickle:
        raise ConfigError(
            f"{spec} is an SB3 zip, and loading one unpickles its data (which can run code): "
            "pass trust_pickle=true if you trust where it came from, or export the model as format=hf"
        )
    from rlft.runs.reading import check_model_zip

    check_model_zip(zip_path)
    from stable_baselines3.common.save_util import load_from_zip_file

    from rlft.envs.spaces import space_spec

    try:
        data = load_from_zip_file(zip_path, load_data=True, device="cpu")[0]
    except Exception as exc:  # noqa: BLE001  (a foreign zip: any unpickling failure is the user's file)
        raise ConfigError(f"{spec} is not a loadable SB3 zip ({type(exc).__name__}: {exc})") from None
    if not data or "observation_space" not in data or "action_space" not in data:
        raise ConfigError(f"{spec} is not an SB3 model zip (its data names no spaces)")
    return ModelSource(
        spec, "sb3", zip_path, None, (space_spec(data["observation_space"]), space_spec(data["action_space"]))
    )


def check_source_fits(source: ModelSource, observation_space: Any, action_space: Any, where: str) -> None:
    """The source's model spaces must be those of a model for this env (:mod:`rlft.envs.spaces`,
    the one space check: after SB3's image transposition)."""
    from rlft.envs.spaces import obs_clip, spaces_mismatch

    if source.spaces is None:
        return
    env = (source.config or {}).get("env")
    wrong = spaces_mismatch(source.spaces, (observation_space, action_space), obs_clip(env))
    if wrong is not None:
        raise ConfigError(f"{where}={source.spec} does not fit this env: {wrong}")


def init_source(cfg: "DictConfig") -> ModelSource:
    """The source of a run's ``init=`` (with ``init_which``, ``init_checkpoint``, ``trust_pickle``);
    an error names the key."""
    try:
        return resolve_model_source(
            str(cfg.init), str(cfg.paths.registry), cfg.init_which, cfg.init_checkpoint, bool(cfg.trust_pickle)
        )
    except RlftError as exc:
        exc.args = (f"init: {exc}",)
        raise


def validate_init(cfg: "DictConfig") -> None:
    """``init=`` of a new run: the source resolves, fits the env's spaces and loads into this run's
    network, all before a run folder exists (a model is built once for it)."""
    if not cfg.init or cfg.resume:
        return
    source = init_source(cfg)
    from rlft.algos.factory import build_model
    from rlft.envs.factory import make_vec_env, probe_spaces
    from rlft.training.run import load_weights

    check_source_fits(source, *probe_spaces(cfg), "init")
    venv = make_vec_env(cfg, 1, cfg.seed)
    try:
        load_weights(build_model(cfg.hparams, venv, seed=cfg.seed, device="cpu"), venv, source.weights)
    finally:
        venv.close()


def build_export_model(source: ModelSource, venv: "VecEnv | None" = None, device: str = "cpu") -> "BaseAlgorithm":
    """An exported HF folder's model, without pickle: built from config.json's hparams (every class
    path allowlisted first, as a champion manifest's: :mod:`rlft.champions.trust`) with the
    safetensors weights, for ``venv`` (default: one env of its own config, normalisation stats
    loaded, left attached as ``model.get_env()``)."""
    from omegaconf import DictConfig, OmegaConf
    from safetensors.torch import load_model

    from rlft.algos.factory import build_model
    from rlft.champions.loading import manifest_config
    from rlft.config.schema import schema_node
    from rlft.envs.factory import make_vec_env
    from rlft.envs.normalization import find_vecnormalize, has_normalization, load_normalization_into

    config = source.config or {}  # allowlisted when resolved
    if venv is None:
        venv = make_vec_env(manifest_config(config), 1, 0)
        norm = find_vecnormalize(venv)
        if norm is not None and has_normalization(source.folder):
            load_normalization_into(norm, source.folder)
            norm.training = False
    hparams = OmegaConf.merge(schema_node().hparams, config["hparams"])
    assert isinstance(hparams, DictConfig)
    model = build_model(hparams, venv, seed=0, device=device)
    load_model(model.policy, str(source.weights), device=str(model.device))
    return model


def load_export(folder: str | Path, device: str = "cpu") -> "BaseAlgorithm":
    """``rlft export format=hf``'s folder back as an SB3 model (what its model card shows)."""
    source = resolve_model_source(str(folder), registry="")
    if source.kind != "hf":
        raise ConfigError(f"{folder} is not an exported HF folder ({EXPORT_CONFIG} + {EXPORT_WEIGHTS})")
    return build_export_model(source, device=device)
