"""The model's spaces: what an SB3 model built on an env holds, the one notion every fit check uses.

SB3 wraps an env whose observations are channel-last images (uint8 ``H x W x C``, bounds 0-255) in
``VecTransposeImage``, so its model holds the channel-first space ``C x H x W`` while the env keeps
giving ``H x W x C`` (SB3's ``predict`` transposes such observations itself). For a ``Dict``
observation, every image entry is transposed as soon as one needs it. Actions are kept as they are.
Evaluate, traces, compare, register, fine-tune, resume and export all compare models and envs
through :func:`model_spaces`, so a model that trains on an env also runs on it.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from rlft.errors import ConfigError

if TYPE_CHECKING:
    from gymnasium import spaces

Specs = tuple[dict[str, Any], dict[str, Any]]  # (observation, action) as space_spec writes them


def _needs_transpose(space: Any) -> bool:
    from stable_baselines3.common.preprocessing import is_image_space, is_image_space_channels_first

    return is_image_space(space) and not is_image_space_channels_first(space)


def _normalised(space: Any, clip_obs: float | None) -> Any:
    """VecNormalize's observation space: normalised images become float32 boxes of
    ``[-clip_obs, clip_obs]`` (other boxes keep their bounds), Dict entries alike."""
    from gymnasium import spaces as gym_spaces
    from stable_baselines3.common.preprocessing import is_image_space

    if clip_obs is None:
        return space
    if isinstance(space, gym_spaces.Dict):
        return gym_spaces.Dict({key: _normalised(sub, clip_obs) for key, sub in space.spaces.items()})
    if is_image_space(space):
        return gym_spaces.Box(-clip_obs, clip_obs, shape=space.shape, dtype=np.float32)
    return space


def model_observation_space(space: "spaces.Space", clip_obs: float | None = None) -> "spaces.Space":
    """The observation space an SB3 model built on an env with ``space`` holds: VecNormalize's
    (``clip_obs``: observations are normalised) then VecTransposeImage's (channel-last images
    become channel-first, every image entry of a Dict alike)."""
    from gymnasium import spaces as gym_spaces
    from stable_baselines3.common.preprocessing import is_image_space
    from stable_baselines3.common.vec_env import VecTransposeImage

    space = _normalised(space, clip_obs)
    if isinstance(space, gym_spaces.Dict):
        if not any(_needs_transpose(sub) for sub in space.spaces.values()):
            return space
        images = [key for key, sub in space.spaces.items() if is_image_space(sub)]
        mixed = [key for key in images if not _needs_transpose(space.spaces[key])]
        if mixed:
            raise ConfigError(
                f"the Dict observation mixes channel-last and channel-first images (channel-first: "
                f"{', '.join(mixed)}); SB3 transposes all of them: give every image entry one layout"
            )
        return gym_spaces.Dict(
            {key: VecTransposeImage.transpose_space(sub, key) if key in images else sub for key, sub in space.items()}  # type: ignore[arg-type]
        )
    return VecTransposeImage.transpose_space(space) if _needs_transpose(space) else space  # type: ignore[arg-type]


def model_spaces(
    observation_space: "spaces.Space", action_space: "spaces.Space", clip_obs: float | None = None
) -> tuple[Any, Any]:
    """(observation, action) spaces of an SB3 model built on an env with these spaces
    (``clip_obs``: with observation normalisation, see :func:`obs_clip`)."""
    return model_observation_space(observation_space, clip_obs), action_space


def obs_clip(env: Any) -> float | None:
    """``env.normalize.clip_obs`` when an env config (a DictConfig or a manifest's dict)
    normalises observations, else None."""
    normalize = (env or {}).get("normalize") or {}
    return float(normalize.get("clip_obs", 10.0)) if normalize.get("obs") else None


def is_channel_last_image(space: "spaces.Space") -> bool:
    """A single image observation SB3 transposes (its model's input is channel-first)."""
    return _needs_transpose(space)


def _bound(value: Any) -> Any:
    """Box bounds may be infinite (CartPole's velocities) and strict JSON has no Infinity: "inf"."""
    if isinstance(value, float) and not math.isfinite(value):
        return "inf" if value > 0 else "-inf"
    return value


def _uniform(values: np.ndarray) -> Any:
    flat = np.asarray(values).ravel()
    if flat.size and np.all(flat == flat[0]):
        return _bound(flat[0].item())
    return [_bound(v) for v in flat.tolist()]


def space_spec(space: Any) -> dict[str, Any]:
    """A gymnasium space as plain JSON (Box bounds as one number when uniform; Dict entry by entry)."""
    from gymnasium import spaces as gym_spaces

    if isinstance(space, gym_spaces.Discrete):
        return {"type": "Discrete", "n": int(space.n)}
    if isinstance(space, gym_spaces.MultiDiscrete):
        return {"type": "MultiDiscrete", "nvec": [int(n) for n in space.nvec]}
    if isinstance(space, gym_spaces.MultiBinary):
        return {"type": "MultiBinary", "n": np.asarray(space.n).tolist()}
    if isinstance(space, gym_spaces.Box):
        return {
            "type": "Box",
            "shape": list(space.shape),
            "dtype": str(space.dtype),
            "low": _uniform(space.low),
            "high": _uniform(space.high),
        }
    if isinstance(space, gym_spaces.Dict):
        return {"type": "Dict", "spaces": {key: space_spec(sub) for key, sub in space.spaces.items()}}
    return legacy_spec(space)


def legacy_spec(space: Any) -> dict[str, Any]:
    """How spaces without a JSON form are written (and how Dict spaces were before they had one)."""
    return {"type": type(space).__name__, "repr": repr(space)}


def canonical_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """A stored space spec as :func:`space_spec` writes it now (manifests written before strict
    JSON hold infinite bounds as numbers)."""
    if spec.get("type") == "Dict" and "spaces" in spec:
        return {**spec, "spaces": {key: canonical_spec(sub) for key, sub in spec["spaces"].items()}}
    if spec.get("type") != "Box":
        return spec
    fixed = dict(spec)
    for key in ("low", "high"):
        value = spec.get(key)
        fixed[key] = [_bound(v) for v in value] if isinstance(value, list) else _bound(value)
    return fixed


def space_from_spec(spec: dict[str, Any]) -> Any:
    """The gymnasium space a spec describes; None for a spec without a JSON form (``repr``)."""
    from gymnasium import spaces as gym_spaces

    kind = spec.get("type")
    if kind == "Discrete":
        return gym_spaces.Discrete(spec["n"])
    if kind == "MultiDiscrete":
        return gym_spaces.MultiDiscrete(spec["nvec"])
    if kind == "MultiBinary":
        return gym_spaces.MultiBinary(spec["n"])
    if kind == "Box":
        shape, dtype = tuple(spec["shape"]), np.dtype(spec["dtype"])
        low, high = (_bounds(spec[k], shape).astype(dtype) for k in ("low", "high"))
        return gym_spaces.Box(low, high, shape=shape, dtype=dtype)
    if kind == "Dict" and "spaces" in spec:
        parts = {key: space_from_spec(sub) for key, sub in spec["spaces"].items()}
        return None if any(part is None for part in parts.values()) else gym_spaces.Dict(parts)
    return None


def _bounds(value: Any, shape: tuple[int, ...]) -> np.ndarray:
    """A spec's bound ("inf" strings too): one number for every entry, or the flattened list."""
    if isinstance(value, list):
        return np.array([float(v) for v in value]).reshape(shape)
    return np.full(shape, float(value))


def model_specs(observation_space: Any, action_space: Any, clip_obs: float | None = None) -> Specs:
    """The model's (observation, action) specs for an env with these spaces."""
    observation, action = model_spaces(observation_space, action_space, clip_obs)
    return space_spec(observation), space_spec(action)


def stored_model_specs(observation: dict[str, Any], action: dict[str, Any], env: Any = None) -> Specs:
    """The model's specs for an env's specs as a champion manifest stores them (the env's own
    layout; ``env``: the manifest's env config, for its normalisation); a spec without a JSON
    form stays as written."""
    spec = canonical_spec(observation)
    space = space_from_spec(spec)
    if space is not None:
        spec = space_spec(model_observation_space(space, obs_clip(env)))
    return spec, canonical_spec(action)


def spaces_mismatch(model: Specs, env_spaces: tuple[Any, Any], clip_obs: float | None = None) -> str | None:
    """None when a model holding ``model`` specs can act in an env with ``env_spaces`` (its
    observations normalised with ``clip_obs``, as the model's own statistics do); else what
    differs, as the model sees it (after SB3's image transposition), with a hint when it is the
    CurveTrace standard / decoupled case."""
    env = model_specs(*env_spaces, clip_obs)
    legacy = (legacy_spec(env_spaces[0]), legacy_spec(env_spaces[1]))
    for index, name in enumerate(("observation space", "action space")):
        mine, theirs = model[index], env[index]
        if mine != theirs and mine != legacy[index]:
            return f"its {name} is {mine} but the env's is {theirs}{_hint(model[1], env[1])}"
    return None


STANDARD = {"type": "Discrete", "n": 9}
DECOUPLED = {"type": "MultiDiscrete", "nvec": [8, 2]}


def _hint(model_action: dict[str, Any], env_action: dict[str, Any]) -> str:
    if (model_action, env_action) == (DECOUPLED, STANDARD):
        return " (a decoupled CurveTrace model: use env=curve_trace_decoupled)"
    if (model_action, env_action) == (STANDARD, DECOUPLED):
        return " (a standard CurveTrace model: use env=curve_trace)"
    return " (spaces as the model holds them, after SB3's image transposition): pick the env it was trained on"
