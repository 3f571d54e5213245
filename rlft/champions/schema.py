"""The ``champion`` block: schema and checks (the champion verifies and fits the env)."""

from __future__ import annotations

from dataclasses import dataclass

from omegaconf import DictConfig

from rlft.config.checks import require
from rlft.config.schema import NONE


@dataclass
class ChampionConfig:
    """A registered champion to start from (filled by the champion registry)."""

    name: str = NONE


def validate_champion(cfg: DictConfig) -> None:
    """The champion verifies (checksums, allowlist) and the env's spaces are the ones it was trained on."""
    from rlft.champions.loading import check_fits
    from rlft.champions.manifest import OPTIMIZER
    from rlft.champions.registry import Registry
    from rlft.envs.factory import probe_spaces

    champion = Registry.for_config(cfg).verify(cfg.champion.name)
    check_fits(champion, *probe_spaces(cfg))
    require(
        cfg.finetune.optimizer == "fresh" or (champion.folder / OPTIMIZER).is_file(),
        f"champion {champion.ref} has no saved optimizer state (registered before rlft kept it): "
        "use finetune.optimizer=fresh",
    )
