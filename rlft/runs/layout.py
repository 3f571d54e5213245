"""Where each file of a run lives (DESIGN.md section 3). One place names every path."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

CHECKPOINT_PREFIX = "step_"
# the files of a model folder (final/, best/, checkpoints/step_N/)
MODEL_FILE = "model.zip"
STATE_FILE = "state.json"
REPLAY_FILE = "replay_buffer.pkl"
WEIGHTS_FILE = "policy.safetensors"  # a champion folder's weights (pickle-free)
# a Hugging Face-style export folder (``rlft export format=hf``): loads back without pickle
EXPORT_WEIGHTS = "model.safetensors"
EXPORT_CONFIG = "config.json"


@dataclass(frozen=True)
class RunFolder:
    root: Path

    @property
    def hydra_dir(self) -> Path:
        return self.root / ".hydra"

    @property
    def config_file(self) -> Path:
        return self.hydra_dir / "config.yaml"

    @property
    def metrics_file(self) -> Path:
        return self.root / "metrics.json"

    @property
    def command_file(self) -> Path:
        return self.root / "command.txt"

    @property
    def environment_file(self) -> Path:
        return self.root / "environment.json"

    @property
    def tb_dir(self) -> Path:
        return self.root / "tb"

    @property
    def checkpoints_dir(self) -> Path:
        return self.root / "checkpoints"

    @property
    def best_dir(self) -> Path:
        return self.root / "best"

    @property
    def final_dir(self) -> Path:
        return self.root / "final"

    @property
    def plots_dir(self) -> Path:
        return self.root / "plots"

    def checkpoint_dir(self, timesteps: int) -> Path:
        return self.checkpoints_dir / f"{CHECKPOINT_PREFIX}{timesteps}"

    def checkpoints(self) -> list[tuple[int, Path]]:
        """Complete checkpoints, oldest first (temporary ``.step_*.tmp`` folders are ignored)."""
        if not self.checkpoints_dir.is_dir():
            return []
        found = []
        for child in self.checkpoints_dir.iterdir():
            suffix = child.name[len(CHECKPOINT_PREFIX) :]
            if child.is_dir() and child.name.startswith(CHECKPOINT_PREFIX) and suffix.isdigit():
                found.append((int(suffix), child))
        return sorted(found)

    def latest_checkpoint(self) -> tuple[int, Path] | None:
        found = self.checkpoints()
        return found[-1] if found else None

    def is_run(self) -> bool:
        return self.config_file.is_file() and self.metrics_file.is_file()
