"""A verified champion back as a model: built from its manifest (allowlisted algorithm, policy and
class paths: :func:`rlft.champions.manifest.check_loadable`) with weights from safetensors; never
unpickled."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from omegaconf import DictConfig, OmegaConf

from rlft.champions import manifest as mf
from rlft.champions.storage import Champion
from rlft.config.schema import on_schema, schema_node
from rlft.errors import ConfigError

if TYPE_CHECKING:
    from stable_baselines3.common.base_class import BaseAlgorithm
    from stable_baselines3.common.vec_env import VecEnv


def manifest_config(manifest: dict[str, Any]) -> DictConfig:
    """The champion's own env, stage, stage overrides and hparams as a full (schema) config."""
    return on_schema({key: manifest[key] for key in ("env", "stage", "stage_overrides", "hparams")})


def check_fits(champion: Champion, observation_space: Any, action_space: Any) -> None:
    """The champion's model spaces must be those of a model built on this env (a decoupled
    champion on a standard env fails; a channel-last image env fits its channel-first twin, as SB3
    would take it): :mod:`rlft.envs.spaces`."""
    from rlft.envs.spaces import obs_clip, spaces_mismatch, stored_model_specs

    m = champion.manifest
    own = stored_model_specs(m["observation_space"], m["action_space"], m["env"])
    wrong = spaces_mismatch(own, (observation_space, action_space), obs_clip(m["env"]))
    if wrong is not None:
        raise ConfigError(f"champion {champion.ref} ({m.get('architecture')}) does not fit this env: {wrong}")


def build_champion_model(champion: Champion, env: "VecEnv | None" = None, *, device: str = "cpu") -> "BaseAlgorithm":
    """The (verified) champion's model for ``env`` (default: one env of its own config, closed
    again), from its manifest and safetensors."""
    from safetensors.torch import load_model

    from rlft.algos.factory import build_model

    own_env = env is None
    if own_env:
        from rlft.envs.factory import make_vec_env

        env = make_vec_env(manifest_config(champion.manifest), 1, 0)
    assert env is not None
    try:
        check_fits(champion, env.observation_space, env.action_space)
        hparams = OmegaConf.merge(schema_node().hparams, champion.manifest["hparams"])
        assert isinstance(hparams, DictConfig)
        model = build_model(hparams, env, seed=0, device=device)
    finally:
        if own_env:
            env.close()
    load_model(model.policy, str(champion.folder / mf.WEIGHTS), device=str(model.device))
    return model


def start_from_champion(cfg: DictConfig, venv: "VecEnv", base: "BaseAlgorithm", champion: Champion) -> "BaseAlgorithm":
    """A model with the run's own hparams (the champion's network: a fine-tune's config pins it) for
    ``venv``, starting from ``base``'s weights (the champion's model) and the champion's
    normalisation stats: how a fine-tune and a distill from a champion start."""
    from rlft.algos.factory import build_model
    from rlft.envs.normalization import find_vecnormalize, has_normalization, load_normalization_into

    model = build_model(cfg.hparams, venv, seed=cfg.seed, device=cfg.device)
    model.policy.load_state_dict(base.policy.state_dict())
    norm = find_vecnormalize(venv)
    if norm is not None and has_normalization(champion.folder):
        load_normalization_into(norm, champion.folder)
    return model


def load_optimizer_state(champion: Champion, model: "BaseAlgorithm") -> None:
    """Start ``model``'s optimizer from the champion's moments (``finetune.optimizer=kept``)."""
    from safetensors.torch import load_file

    path = champion.folder / mf.OPTIMIZER
    if not path.is_file():
        raise ConfigError(f"champion {champion.ref} has no saved optimizer state: use finetune.optimizer=fresh")
    state: dict[int, dict[str, Any]] = {}
    for key, tensor in load_file(str(path), device=str(model.device)).items():
        index, _, name = key.partition(".")
        state.setdefault(int(index), {})[name] = tensor
    optimizer = model.policy.optimizer
    try:
        optimizer.load_state_dict({"state": state, "param_groups": optimizer.state_dict()["param_groups"]})
    except (ValueError, RuntimeError, KeyError) as exc:
        raise ConfigError(
            f"champion {champion.ref}'s optimizer state does not fit this optimizer ({exc}): "
            "use finetune.optimizer=fresh"
        ) from None
