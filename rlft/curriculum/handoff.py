"""Which model the first stage starts from: ``init=`` (or its older spelling ``curriculum.init``),
any model source of :mod:`rlft.champions.sources`.

Reading the sources is that module's job; this module only decides which key gave one.
"""

from __future__ import annotations

from omegaconf import DictConfig

from rlft.champions.sources import ModelSource, resolve_model_source
from rlft.errors import ConfigError, RlftError
from rlft.runs.reading import PICKS

HANDOFFS = PICKS  # final | best


def init_key(cfg: DictConfig) -> tuple[str, str] | None:
    """(the key, the source) a curriculum starts from, or None: ``init=`` and ``curriculum.init``
    are one notion, so naming two different sources is refused."""
    given = [(key, value) for key, value in (("init", cfg.init), ("curriculum.init", cfg.curriculum.init)) if value]
    if len({value for _, value in given}) > 1:
        raise ConfigError(
            f"init={cfg.init} and curriculum.init={cfg.curriculum.init} name two sources: give one (init=)"
        )
    return given[0] if given else None


def resolve_init(cfg: DictConfig) -> ModelSource | None:
    """The source of the first stage: ``init=`` with ``init_which`` (``curriculum.init`` with
    ``curriculum.handoff``), ``init_checkpoint`` and ``trust_pickle``; an error names the key."""
    given = init_key(cfg)
    if given is None:
        return None
    key, value = given
    which = cfg.init_which if key == "init" else cfg.curriculum.handoff
    try:
        return resolve_model_source(
            str(value), str(cfg.paths.registry), which, cfg.init_checkpoint, bool(cfg.trust_pickle)
        )
    except RlftError as exc:
        exc.args = (f"{key}: {exc}",)
        raise
