"""Where a run's TensorBoard scalars go, and on which step axis.

A plain run writes to its own ``tb/`` at the model's step count. A curriculum stage writes into
the curriculum's ``tb/`` with the steps of the earlier stages added, so all stages share one
global axis, and copies its ``eval/*`` scalars under a per-stage tag (``stage_<id>/eval/...``)
beside ``curriculum/stage_index`` (which stage produced the points).

One clean curve: every tag gets at most one value per step. An evaluation is written on its own
(:func:`dump_alone`) instead of flushing what the algorithm recorded for its next dump (SB3's own
``EvalCallback`` does the latter, which puts ``train/*`` twice on one step). A resumed segment
opens the event file with ``purge_step`` just after its checkpoint, so TensorBoard hides what the
interrupted segment wrote beyond it and the curve never goes backwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stable_baselines3.common.logger import KVWriter, Logger, TensorBoardOutputFormat


@dataclass(frozen=True)
class TensorBoardTarget:
    folder: Path
    step_offset: int = 0
    stage_id: str | None = None
    stage_index: int = 0
    resumed_at: int | None = None  # the checkpoint step (model steps) a resumed segment starts from

    def make_logger(self) -> Logger:
        purge = None if self.resumed_at is None else self.resumed_at + self.step_offset + 1
        writer = _PurgingWriter(str(self.folder), purge)
        if self.step_offset == 0 and self.stage_id is None:
            return Logger(folder=str(self.folder), output_formats=[writer])
        return Logger(folder=str(self.folder), output_formats=[_StageWriter(writer, self)])


class _PurgingWriter(TensorBoardOutputFormat):
    """SB3's TensorBoard writer, opened with ``purge_step`` (events at or after it from an earlier,
    interrupted segment are hidden)."""

    def __init__(self, folder: str, purge_step: int | None) -> None:
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(log_dir=folder, purge_step=purge_step)
        self._is_closed = False


def dump_alone(logger: Logger, step: int, values: dict[str, float]) -> None:
    """Write ``values`` at ``step`` and nothing else: what the algorithm has recorded so far stays
    pending for its own dump (at its own step)."""
    pending: tuple[dict[str, Any], ...] = (logger.name_to_value, logger.name_to_count, logger.name_to_excluded)
    kept = [dict(d) for d in pending]
    for d in pending:
        d.clear()
    for key, value in values.items():
        logger.record(key, value)
    logger.dump(step)
    for d, saved in zip(pending, kept):
        d.update(saved)


class _StageWriter(KVWriter):
    """An SB3 ``KVWriter`` (the Logger writes only to KVWriter instances) that shifts steps onto the global axis and adds per-stage tags."""

    def __init__(self, inner: TensorBoardOutputFormat, target: TensorBoardTarget) -> None:
        self.inner = inner
        self.target = target
        self._indexed_step: int | None = None  # the step that already has its stage_index point

    def write(self, key_values: dict[str, Any], key_excluded: dict[str, Any], step: int = 0) -> None:
        values, excluded = dict(key_values), dict(key_excluded)
        if self.target.stage_id is not None:
            for key in [k for k in key_values if k.startswith("eval/")]:
                tagged = f"stage_{self.target.stage_id}/{key}"
                values[tagged], excluded[tagged] = key_values[key], key_excluded.get(key, ())
            if step != self._indexed_step:
                values["curriculum/stage_index"], excluded["curriculum/stage_index"] = self.target.stage_index, ()
                self._indexed_step = step
        self.inner.write(values, excluded, step + self.target.step_offset)

    def close(self) -> None:
        self.inner.close()
