"""The config tree's shared pieces: the core blocks every run has (``env``, ``stage``, ``paths``) and
the slot of the whole tree's schema.

Each feature owns its own block's dataclass and checks (``rlft.training.schema`` for ``hparams``,
``eval``, ``checkpoint``, ``early_stop``; ``rlft.curriculum.schema``, ``rlft.finetune.schema``,
``rlft.traces.schema``, ``rlft.champions.schema``). :mod:`rlft.schema`, above the features, puts
them together as ``RlftConfig`` and registers it here with :func:`set_root_schema`; this package
imports no feature. Until something registers a root, :func:`root_schema` loads the one named by
``ROOT_SCHEMA`` (a name bound late, like a Hydra ``_target_``, not an import of this package), so
:func:`schema_node` works for any caller. Hydra rejects a wrong type or an unknown key at
composition time, naming the key; cross-field rules are each feature's ``validate_*``.

The ``env`` / ``stage`` blocks live here rather than in ``rlft.envs``: ``import rlft.envs``
registers CurveTrace with gymnasium, and this module must stay light (``python -m rlft.train
--cfg job`` imports it, and must not pull in torch, stable-baselines3 or gymnasium).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Dict, List, Optional

from omegaconf import MISSING

if TYPE_CHECKING:
    from omegaconf import DictConfig

NONE = "none"  # the option name that switches an optional group (champion, curriculum) off


@dataclass
class NormalizeConfig:
    """VecNormalize settings; statistics are saved next to every model (``vecnormalize.npz``)."""

    obs: bool = False
    reward: bool = False
    clip_obs: float = 10.0
    clip_reward: float = 10.0


@dataclass
class EnvConfig:
    """Which environment to build and how to vectorise it.

    Exactly one of ``id`` (a gymnasium id, ``module:Id`` accepted) and ``_target_`` (a dotted path
    to a callable returning a ``gymnasium.Env``) is set. ``kwargs`` go to the constructor, merged
    under the stage's ``env_kwargs`` and the top-level ``stage_overrides``.

    Every env instance (training, evaluation, traces, fine-tunes, champions, export) is built the
    same way, in this order (``rlft.envs.wrappers``): ``api: gym`` adapts an old-gym-API env
    (``rlft.envs.compat``), ``max_episode_steps`` limits its steps, ``atari`` preprocesses an ALE
    game, ``wrappers`` (``[{_target_: pkg.Wrapper, **kwargs}]``) wrap it in order, ``frame_stack``
    stacks the last N observations. They are part of the env block, so a run config and a
    champion manifest record them and every load re-applies them.
    """

    name: str = MISSING
    id: Optional[str] = None
    _target_: Optional[str] = None
    kwargs: Dict[str, Any] = field(default_factory=dict)
    n_envs: int = 8
    # "dummy" | "subproc" | dotted path of a batched VecEnv class taking (n_envs, seed=..., **kwargs)
    vec_env: str = "dummy"
    max_episode_steps: Optional[int] = None
    api: str = "gymnasium"  # "gym": the old API (reset() -> obs, step() -> 4-tuple, duck-typed spaces)
    atari: bool = False  # SB3's AtariWrapper (whole games, true scores: no life loss, no clipping)
    wrappers: List[Dict[str, Any]] = field(default_factory=list)
    frame_stack: Optional[int] = None  # stack the last N observations (as SB3's VecFrameStack)
    # info/<key> metrics the env must report (checked at the first evaluation), e.g. [info/ess]
    metrics: List[str] = field(default_factory=list)
    normalize: NormalizeConfig = field(default_factory=NormalizeConfig)


@dataclass
class StageConfig:
    """A named difficulty level: env-kwarg overrides applied on top of ``env.kwargs``."""

    name: str = NONE
    env_kwargs: Dict[str, Any] = field(default_factory=dict)


@dataclass
class PathsConfig:
    """Where things live, and whom a champion may name: ``trusted_modules`` are packages (besides
    rlft, gymnasium, stable_baselines3, sb3_contrib) whose classes and factories a champion's
    manifest may make rlft import (``rlft.champions.trust``); ``signing_key`` a file holding the
    secret that signs registered champions and is required of loaded ones
    (``rlft.champions.signing``; ``$RLFT_SIGNING_KEY`` wins)."""

    output_dir: str = "outputs"
    multirun_dir: str = "multirun"
    registry: str = "${oc.env:RLFT_REGISTRY,champions}"
    trusted_modules: List[str] = field(default_factory=list)
    signing_key: Optional[str] = None


SCHEMA_NAME = "rlft_schema"
ROOT_SCHEMA = "rlft.schema:RlftConfig"  # the whole tree, assembled above the features

# Free-form dicts: any key may be added by an override (``env.kwargs={...}``,
# ``stage_overrides.noise_sigma=0.1``) without Hydra's ``+`` prefix; their receivers validate them.
OPEN_DICTS = ("env.kwargs", "stage.env_kwargs", "stage_overrides", "hparams.policy_kwargs")

_root: type | None = None


def set_root_schema(schema: type) -> None:
    """Make ``schema`` (a dataclass of every block) the tree :func:`schema_node` builds."""
    global _root
    _root = schema


def root_schema() -> type:
    if _root is None:
        module, _, name = ROOT_SCHEMA.partition(":")
        set_root_schema(getattr(importlib.import_module(module), name))
    assert _root is not None
    return _root


def schema_node() -> "DictConfig":
    from omegaconf import OmegaConf

    node = OmegaConf.structured(root_schema())
    for key in OPEN_DICTS:
        OmegaConf.set_struct(OmegaConf.select(node, key), False)
    return node


def on_schema(values: Any) -> "DictConfig":
    """``values`` (a plain dict or a config) merged onto the schema: typed and validated. A merge
    onto the schema's DictConfig is a DictConfig; the check tells type checkers so."""
    from omegaconf import DictConfig, OmegaConf

    merged = OmegaConf.merge(schema_node(), values)
    assert isinstance(merged, DictConfig)
    return merged


def register_configs() -> None:
    """Put the schema into Hydra's ConfigStore; ``conf/config.yaml`` extends it."""
    from hydra.core.config_store import ConfigStore

    ConfigStore.instance().store(name=SCHEMA_NAME, node=schema_node())
