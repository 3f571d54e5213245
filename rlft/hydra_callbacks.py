"""Hydra callbacks: validate the config before Hydra creates the run folder."""

from __future__ import annotations

from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from rlft.errors import AbortRun


class ValidateBeforeRun(Callback):
    """``on_run_start`` runs before Hydra makes the output folder, so a bad config writes nothing."""

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        from rlft.config.resume import effective_config
        from rlft.config.validate import validate

        try:
            validate(effective_config(config, list(config.hydra.overrides.task)))
        except Exception as exc:
            raise AbortRun(exc) from exc
