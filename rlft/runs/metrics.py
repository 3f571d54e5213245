"""``metrics.json``: status, evaluation history and final summary, rewritten atomically."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rlft.io import atomic_write_json, read_json

RUNNING, COMPLETED, EARLY_STOPPED, FAILED = "running", "completed", "early_stopped", "failed"
NOT_PROMOTED = "not_promoted"  # a curriculum that stopped at a stage which missed its promotion rule


class MetricsFile:
    """In-memory view of a run's ``metrics.json``; every change is saved at once."""

    def __init__(self, path: Path, data: dict[str, Any]) -> None:
        self.path = path
        self.data = data

    @classmethod
    def create(cls, path: Path, **fields: Any) -> "MetricsFile":
        metrics = cls(
            path,
            {"status": RUNNING, "message": "", "total_timesteps": 0, "eval": [], "best": None, "final": None, **fields},
        )
        metrics.save()
        return metrics

    @classmethod
    def load(cls, path: Path) -> "MetricsFile":
        return cls(path, read_json(path))

    def save(self) -> None:
        atomic_write_json(self.path, self.data)

    def update(self, **fields: Any) -> None:
        self.data.update(fields)
        self.save()

    def add_eval(self, entry: dict[str, Any]) -> None:
        self.data["eval"].append(entry)
        self.save()

    def truncate_after(self, timesteps: int) -> None:
        """On resume, evaluations newer than the checkpoint are redone: drop them."""
        self.data["eval"] = [e for e in self.data["eval"] if e["timesteps"] <= timesteps]
        self.save()
