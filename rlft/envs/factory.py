"""Build environments from the ``env`` / ``stage`` / ``stage_overrides`` config.

Training gets a vectorised env (SB3 Dummy/Subproc, or an env's own batched VecEnv); evaluation
gets single gymnasium envs so each episode can be reset with its own fixed seed.
"""

from __future__ import annotations

import importlib
from functools import partial
from typing import TYPE_CHECKING, Any, Callable, Sequence, cast

from omegaconf import DictConfig, OmegaConf

from rlft.errors import ConfigError, RlftError

if TYPE_CHECKING:
    import gymnasium
    from stable_baselines3.common.vec_env import VecEnv

    from rlft.envs.concat import ConcatVecEnv


def import_object(path: str) -> Any:
    """``pkg.module.Name`` or ``pkg.module:Name`` -> the object."""
    module_name, _, attr = path.replace(":", ".").rpartition(".")
    return getattr(importlib.import_module(module_name), attr)


def env_kwargs(cfg: DictConfig) -> dict[str, Any]:
    """Constructor kwargs: ``env.kwargs``, then the stage's, then ``stage_overrides`` (last wins)."""
    merged: dict[str, Any] = {}
    for part in (cfg.env.kwargs, cfg.stage.env_kwargs, cfg.stage_overrides):
        merged.update(cast("dict[str, Any]", OmegaConf.to_container(part, resolve=True)))  # str-keyed mappings
    return merged


def make_env(env_cfg: DictConfig, kwargs: dict[str, Any]) -> "gymnasium.Env":
    """One gymnasium env with the block's wrappers (:mod:`rlft.envs.wrappers`: every env instance
    is built here); constructor errors become a one-line :class:`ConfigError`."""
    from rlft.envs.wrappers import wrap

    return wrap(_base_env(env_cfg, kwargs), env_cfg)


def _base_env(env_cfg: DictConfig, kwargs: dict[str, Any]) -> "gymnasium.Env":
    """The env itself: made from its id, or built by its ``_target_`` (an old-API one adapted)."""
    import gymnasium

    import rlft.envs  # noqa: F401  (registers the built-in envs)

    try:
        if env_cfg.id is not None:
            extra = {"max_episode_steps": env_cfg.max_episode_steps} if env_cfg.max_episode_steps else {}
            return gymnasium.make(env_cfg.id, **extra, **kwargs)
        env = import_object(env_cfg._target_)(**kwargs)
        if env_cfg.api == "gym":
            from rlft.envs.compat import GymApiEnv

            env = GymApiEnv(env)
        elif not isinstance(env, gymnasium.Env):
            raise ConfigError(
                f"env._target_={env_cfg._target_} built a {type(env).__name__}, not a gymnasium.Env: "
                "for an env with the old gym API (reset() -> obs, step() -> 4 values) set env.api=gym"
            )
        if env_cfg.max_episode_steps:
            env = gymnasium.wrappers.TimeLimit(env, env_cfg.max_episode_steps)
        return env
    except RlftError:
        raise
    except TypeError as exc:
        raise ConfigError(
            f"env {env_cfg.name!r}: bad constructor argument ({exc}); check env.kwargs, "
            f"stage.env_kwargs and stage_overrides"
        ) from None


def env_factory(cfg: DictConfig) -> Callable[[], "gymnasium.Env"]:
    """A picklable zero-argument constructor (for SubprocVecEnv and evaluation)."""
    return partial(make_env, cfg.env, env_kwargs(cfg))


def _plain_vec_env(cfg: DictConfig, n_envs: int, seed: int) -> "VecEnv":
    from stable_baselines3.common.vec_env import DummyVecEnv, SubprocVecEnv

    kind = cfg.env.vec_env
    if kind in ("dummy", "subproc"):
        factories = [env_factory(cfg) for _ in range(n_envs)]
        return DummyVecEnv(factories) if kind == "dummy" else SubprocVecEnv(factories)
    return import_object(kind)(n_envs=n_envs, seed=seed, **env_kwargs(cfg))


def rehearsal_split(n_envs: int, share: float) -> int:
    """How many of ``n_envs`` rehearse: ``round(share * n_envs)``, at least 1 when ``share > 0``."""
    return max(1, round(share * n_envs)) if share > 0 else 0


def make_vec_env(
    cfg: DictConfig, n_envs: int, seed: int, mix: Sequence[tuple[DictConfig, int]] | None = None
) -> "VecEnv":
    """The training VecEnv with episode statistics (VecMonitor), seeded for the first reset.

    ``mix=[(cfg_a, n_a), (cfg_b, n_b), ...]``: side by side, ``n_a`` envs with ``cfg_a``'s env
    settings, ``n_b`` with ``cfg_b``'s, ... (a fine-tune's rehearsal or progressive phases), in one
    :class:`~rlft.envs.concat.ConcatVecEnv` (``n_envs`` is then their sum).
    """
    from stable_baselines3.common.vec_env import VecMonitor

    venv = _plain_vec_env(cfg, n_envs, seed) if mix is None else mixed_vec_env(mix, seed)
    venv.seed(seed)
    return VecMonitor(venv)


def mixed_vec_env(mix: Sequence[tuple[DictConfig, int]], seed: int) -> "ConcatVecEnv":
    """The parts of ``mix`` (parts with no envs left out) in one ConcatVecEnv, seeded apart."""
    from rlft.envs.concat import ConcatVecEnv

    parts, offset = [], 0
    for part_cfg, n in mix:
        if n > 0:
            parts.append(_plain_vec_env(part_cfg, n, seed + offset))
            offset += n
    return ConcatVecEnv(parts)


def split_envs(n_envs: int, shares: Sequence[float]) -> list[int]:
    """``n_envs`` split by ``shares`` (largest remainder), at least one env per positive share."""
    total = sum(shares)
    exact = [n_envs * s / total for s in shares]
    counts = [max(1, int(e)) if s > 0 else 0 for e, s in zip(exact, shares)]
    by_remainder = sorted(range(len(shares)), key=lambda i: exact[i] - int(exact[i]), reverse=True)
    for i in by_remainder:
        if sum(counts) >= n_envs:
            break
        if shares[i] > 0:
            counts[i] += 1
    return counts


def probe_spaces(cfg: DictConfig) -> tuple[Any, Any]:
    """Build one env to learn its spaces (and surface bad kwargs) before anything is written."""
    env = make_env(cfg.env, env_kwargs(cfg))
    try:
        return env.observation_space, env.action_space
    finally:
        env.close()
