"""Build environments from the ``env`` / ``stage`` / ``stage_overrides`` config.

Training gets a vectorised env (SB3 Dummy/Subproc, or an env's own batched VecEnv); evaluation
gets single gymnasium envs so each episode can be reset with its own fixed seed.
"""

from __future__ import annotations

import importlib
from functools import partial
from typing import TYPE_CHECKING, Any, Callable

from omegaconf import DictConfig, OmegaConf

from rlft.errors import ConfigError, RlftError

if TYPE_CHECKING:
    import gymnasium
    from stable_baselines3.common.vec_env import VecEnv


def import_object(path: str) -> Any:
    """``pkg.module.Name`` or ``pkg.module:Name`` -> the object."""
    module_name, _, attr = path.replace(":", ".").rpartition(".")
    return getattr(importlib.import_module(module_name), attr)


def env_kwargs(cfg: DictConfig) -> dict[str, Any]:
    """Constructor kwargs: ``env.kwargs``, then the stage's, then ``stage_overrides`` (last wins)."""
    merged: dict[str, Any] = {}
    for part in (cfg.env.kwargs, cfg.stage.env_kwargs, cfg.stage_overrides):
        merged.update(OmegaConf.to_container(part, resolve=True))
    return merged


def make_env(env_cfg: DictConfig, kwargs: dict[str, Any]) -> "gymnasium.Env":
    """One gymnasium env; constructor errors become a one-line :class:`ConfigError`."""
    import gymnasium

    import rlft.envs  # noqa: F401  (registers the built-in envs)

    try:
        if env_cfg.id is not None:
            extra = {"max_episode_steps": env_cfg.max_episode_steps} if env_cfg.max_episode_steps else {}
            return gymnasium.make(env_cfg.id, **extra, **kwargs)
        env = import_object(env_cfg._target_)(**kwargs)
        if env_cfg.max_episode_steps:
            env = gymnasium.wrappers.TimeLimit(env, env_cfg.max_episode_steps)
        return env
    except RlftError:
        raise
    except TypeError as exc:
        raise ConfigError(f"env {env_cfg.name!r}: bad constructor argument ({exc}); check env.kwargs, "
                          f"stage.env_kwargs and stage_overrides") from None


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


def make_vec_env(cfg: DictConfig, n_envs: int, seed: int,
                 rehearse: tuple[DictConfig, float] | None = None) -> "VecEnv":
    """The training VecEnv with episode statistics (VecMonitor), seeded for the first reset.

    ``rehearse=(other_cfg, share)``: that share of the envs (at least one) runs ``other_cfg``'s
    env settings (a fine-tune's original stage), side by side with the rest in every rollout.
    """
    from stable_baselines3.common.vec_env import VecMonitor

    if rehearse is None:
        venv = _plain_vec_env(cfg, n_envs, seed)
    else:
        from rlft.envs.concat import ConcatVecEnv

        other, share = rehearse
        k = rehearsal_split(n_envs, share)
        venv = ConcatVecEnv([_plain_vec_env(cfg, n_envs - k, seed), _plain_vec_env(other, k, seed + n_envs)])
    venv.seed(seed)
    return VecMonitor(venv)


def probe_spaces(cfg: DictConfig) -> tuple[Any, Any]:
    """Build one env to learn its spaces (and surface bad kwargs) before anything is written."""
    env = make_env(cfg.env, env_kwargs(cfg))
    try:
        return env.observation_space, env.action_space
    finally:
        env.close()
