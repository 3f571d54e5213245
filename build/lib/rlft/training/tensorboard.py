"""Where a run's TensorBoard scalars go, and on which step axis.

A plain run writes to its own ``tb/`` at the model's step count. A curriculum stage writes into
the curriculum's ``tb/`` with the steps of the earlier stages added, so all stages share one
global axis, and copies its ``eval/*`` scalars under a per-stage tag (``stage_<id>/eval/...``)
beside ``curriculum/stage_index`` (which stage produced the points).
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

    def make_logger(self) -> Logger:
        writer = TensorBoardOutputFormat(str(self.folder))
        if self.step_offset == 0 and self.stage_id is None:
            return Logger(folder=str(self.folder), output_formats=[writer])
        return Logger(folder=str(self.folder), output_formats=[_StageWriter(writer, self)])


class _StageWriter(KVWriter):
    """An SB3 ``KVWriter`` (the Logger writes only to KVWriter instances) that shifts steps onto the global axis and adds per-stage tags."""

    def __init__(self, inner: TensorBoardOutputFormat, target: TensorBoardTarget) -> None:
        self.inner = inner
        self.target = target

    def write(self, key_values: dict[str, Any], key_excluded: dict[str, Any], step: int = 0) -> None:
        values, excluded = dict(key_values), dict(key_excluded)
        if self.target.stage_id is not None:
            for key in [k for k in key_values if k.startswith("eval/")]:
                tagged = f"stage_{self.target.stage_id}/{key}"
                values[tagged], excluded[tagged] = key_values[key], key_excluded.get(key, ())
            values["curriculum/stage_index"], excluded["curriculum/stage_index"] = self.target.stage_index, ()
        self.inner.write(values, excluded, step + self.target.step_offset)

    def close(self) -> None:
        self.inner.close()
