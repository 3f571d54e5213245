"""Hydra callbacks: prepare and validate the config, and claim the run folder, before Hydra creates it; check a sweep's search
space before its first job; summarise a sweep after its last."""

from __future__ import annotations

from typing import Any, cast

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from rlft.errors import AbortRun


class ValidateBeforeRun(Callback):
    """``on_run_start`` runs before Hydra makes the output folder, so a bad config writes nothing:
    it prepares and validates the run's config (once: the task function reuses it), then claims the
    run folder and pins ``hydra.run.dir`` to it (see :func:`rlft.workflows.prepare_run`)."""

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        from rlft.workflows import prepare_run

        try:
            prepare_run(config)
        except Exception as exc:
            raise AbortRun(exc) from exc


class SweepChecksAndSummary(Callback):
    """``on_multirun_start``: the search space (a bad range is one line before any job starts).
    ``on_multirun_end``: ``summary.csv`` / ``.md`` / ``.png`` in the sweep folder; the sweep exits
    non-zero only when every job failed (jobs record their own failures and return NaN)."""

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        from pathlib import Path

        from omegaconf import OmegaConf

        from rlft.sweep.space import check_space

        params = OmegaConf.select(config, "hydra.sweeper.params")
        Path(config.hydra.sweep.dir).mkdir(parents=True, exist_ok=True)  # Optuna's sqlite storage lives there
        try:
            check_space(
                cast("dict[str, Any]", OmegaConf.to_container(params)) if params is not None else None,
                list(config.hydra.overrides.task),
            )
        except Exception as exc:
            raise AbortRun(exc) from exc

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        import logging
        from pathlib import Path

        from rlft.errors import RunFolderError
        from rlft.sweep.summary import render_table, write_summary

        log = logging.getLogger("rlft")
        sweep_dir = Path(config.hydra.sweep.dir)
        try:
            result = write_summary(sweep_dir)
        except RunFolderError as exc:
            log.warning("no sweep summary: %s", exc)
            return
        print(render_table(sweep_dir))
        print(f"sweep: {result['jobs']} jobs, {result['failed']} failed; summary: {sweep_dir / 'summary.md'}")
        if result["failed"] == result["jobs"]:
            raise AbortRun(
                RunFolderError(f"every job of the sweep failed ({result['jobs']}): see {sweep_dir / 'summary.md'}")
            )
