"""The env block's wrappers, applied to every env instance in one order.

``make_env`` builds the base env (``env.api: gym`` adapted by :mod:`rlft.envs.compat`, then
``max_episode_steps``, which so counts the base env's own steps as ``gymnasium.make`` does for an
id); :func:`wrap` then applies

1. ``env.atari``: SB3's ``AtariWrapper`` (no-op starts, frame skip with max-pooling, FIRE on
   reset, 84x84 grey frames), with ``terminal_on_life_loss=False`` and ``clip_reward=False``: rlft
   evaluates whole games from fixed seeds and reports true scores. An env that skips frames itself
   (``ALE/...-v5`` skips 4) is not skipped again. For SB3's exact defaults, list
   ``stable_baselines3.common.atari_wrappers.AtariWrapper`` in ``env.wrappers`` instead.
2. ``env.wrappers``: ``[{_target_: pkg.Wrapper, **kwargs}, ...]``, each called as
   ``Wrapper(env, **kwargs)``, in order.
3. ``env.frame_stack``: the last N observations stacked as SB3's ``VecFrameStack`` stacks them
   (its own ``StackedObservations``: zeros before the first frame; channel-first images along the
   first axis, everything else along the last), on single envs, so evaluation sees what training saw.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import gymnasium
import numpy as np
from omegaconf import DictConfig, OmegaConf

from rlft.errors import ConfigError, RlftError

if TYPE_CHECKING:
    from stable_baselines3.common.vec_env.stacked_observations import StackedObservations

ATARI_INSTALL = "pip install rlft[atari]"


def wrap(env: gymnasium.Env, env_cfg: DictConfig) -> gymnasium.Env:
    """``env`` with the block's ``atari``, ``wrappers`` and ``frame_stack``, in that order."""
    if env_cfg.atari:
        env = atari(env, env_cfg.name)
    for index, entry in enumerate(env_cfg.wrappers):
        env = user_wrapper(
            env, index, cast("dict[str, Any]", OmegaConf.to_container(entry, resolve=True)), env_cfg.name
        )
    if env_cfg.frame_stack:
        env = FrameStack(env, env_cfg.frame_stack, env_cfg.name)
    return env


def _spaces(env: gymnasium.Env) -> str:
    return f"observation {_short(env.observation_space)}, action {_short(env.action_space)}"


def _short(space: Any) -> str:
    """A space in a few words (a Box's bounds or a Dict's subspaces can fill a screen)."""
    if isinstance(space, gymnasium.spaces.Box):
        return f"Box{space.shape} {space.dtype}"
    if isinstance(space, gymnasium.spaces.Dict):
        return f"Dict({', '.join(space.spaces)})"
    return str(space)


def user_wrapper(env: gymnasium.Env, index: int, entry: dict[str, Any], name: str) -> gymnasium.Env:
    """``entry['_target_'](env, **rest)``; whatever its constructor raises (a bad kwarg, a space it
    cannot handle) is one line naming the entry."""
    from rlft.envs.factory import import_object

    kwargs = dict(entry)
    target = kwargs.pop("_target_")
    try:
        return import_object(target)(env, **kwargs)
    except RlftError:
        raise
    except Exception as exc:
        reason = " ".join(f"{type(exc).__name__}: {exc}".split())
        raise ConfigError(
            f"env.wrappers[{index}] ({target}) cannot wrap env {name!r} ({_spaces(env)}): {reason}; "
            "check its kwargs and the order of env.wrappers"
        ) from None


def atari(env: gymnasium.Env, name: str) -> gymnasium.Env:
    """SB3's AtariWrapper for whole games (see the module docstring)."""
    space = env.observation_space
    is_rgb = isinstance(space, gymnasium.spaces.Box) and len(space.shape) == 3 and space.shape[-1] == 3
    if not (is_rgb and space.dtype == np.uint8 and hasattr(env.unwrapped, "get_action_meanings")):
        raise ConfigError(
            f"env.atari=true preprocesses ALE games (RGB frames, get_action_meanings()) but env {name!r} "
            f"has {_spaces(env)}: drop env.atari, or use an ALE id such as env.id=ale_py:ALE/Pong-v5"
        )
    try:
        import cv2  # noqa: F401  (WarpFrame resizes with it)
    except ImportError:
        raise ConfigError(f"env.atari=true needs opencv: {ATARI_INSTALL}") from None
    from stable_baselines3.common.atari_wrappers import AtariWrapper

    own_skip = (env.spec.kwargs.get("frameskip", 1) if env.spec is not None else 1) != 1
    return AtariWrapper(env, frame_skip=1 if own_skip else 4, terminal_on_life_loss=False, clip_reward=False)


class FrameStack(gymnasium.Wrapper):
    """The last ``n_stack`` observations of one env, stacked exactly as SB3's VecFrameStack stacks
    a VecEnv's (the same ``StackedObservations``, for a batch of one; a Dict space key by key)."""

    def __init__(self, env: gymnasium.Env, n_stack: int, name: str = "") -> None:
        from stable_baselines3.common.vec_env.stacked_observations import StackedObservations

        super().__init__(env)
        space = env.observation_space
        parts = space.spaces.values() if isinstance(space, gymnasium.spaces.Dict) else [space]
        if not all(isinstance(part, gymnasium.spaces.Box) for part in parts):
            raise ConfigError(
                f"env.frame_stack={n_stack} stacks Box observations (or a Dict of them) but env {name!r} "
                f"has {_short(space)}: flatten or select them first with env.wrappers"
            )
        self.stack: StackedObservations = StackedObservations(1, n_stack, space)  # type: ignore[arg-type]
        self.observation_space = self.stack.stacked_observation_space

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        obs, info = self.env.reset(seed=seed, options=options)
        return _single(self.stack.reset(_batch(obs))), info

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        stacked, _ = self.stack.update(_batch(obs), np.zeros(1, dtype=bool), [{}])
        return _single(stacked), reward, terminated, truncated, info


def _batch(obs: Any) -> Any:
    """One env's observation as a batch of one."""
    if isinstance(obs, dict):
        return {key: np.asarray(value)[None] for key, value in obs.items()}
    return np.asarray(obs)[None]


def _single(stacked: Any) -> Any:
    """The batch of one back as one observation, copied (the stack's buffer is reused)."""
    if isinstance(stacked, dict):
        return {key: value[0].copy() for key, value in stacked.items()}
    return stacked[0].copy()


class ReturnThreshold(gymnasium.Wrapper):
    """Report whether an episode's return reached ``threshold``, for envs that say nothing else.

    Many envs (MiniGrid, most classic control) signal success only through their reward. At the
    last step of every episode this wrapper writes ``info[key] = 1.0`` when the return so far is
    ``>= threshold``, else ``0.0``. With the default ``key="is_success"`` that is rlft's success
    (``success_rate``, promotion, ``ess_threshold``); any other key is an episode-end info value,
    so the metric ``info/<key>`` (``early_stop.metric``, ``eval.metric``, ...). List it more than
    once for several thresholds::

        wrappers:
          - {_target_: rlft.envs.wrappers.ReturnThreshold, threshold: 0.05}                 # success_rate
          - {_target_: rlft.envs.wrappers.ReturnThreshold, threshold: 0.9, key: quick_goal}  # info/quick_goal
    """

    def __init__(self, env: gymnasium.Env, threshold: float, key: str = "is_success") -> None:
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)):
            raise ConfigError(f"ReturnThreshold: threshold={threshold!r} must be a number")
        if not isinstance(key, str) or not key or "/" in key:
            raise ConfigError(f"ReturnThreshold: key={key!r} must be a non-empty name without '/'")
        super().__init__(env)
        self.threshold = float(threshold)
        self.key = key
        self.episode_return = 0.0

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> tuple[Any, dict[str, Any]]:
        self.episode_return = 0.0
        return self.env.reset(seed=seed, options=options)

    def step(self, action: Any) -> tuple[Any, Any, bool, bool, dict[str, Any]]:
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.episode_return += float(reward)
        if terminated or truncated:
            info = {**info, self.key: float(self.episode_return >= self.threshold)}
        return obs, reward, terminated, truncated, info
