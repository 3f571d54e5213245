"""What a run records about how it was made: command line, versions, git state."""

from __future__ import annotations

import platform
import shlex
import socket
import subprocess
import sys
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = (
    "rlft",
    "torch",
    "stable-baselines3",
    "gymnasium",
    "numpy",
    "hydra-core",
    "omegaconf",
    "tensorboard",
    "safetensors",
)


def package_versions(packages: tuple[str, ...] = PACKAGES) -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in packages:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def git_state(cwd: Path | None = None) -> dict[str, Any]:
    """Commit and dirty flag of the source tree rlft runs from (``None`` outside a git checkout)."""
    source = cwd or Path(__file__).resolve().parents[2]

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(["git", *args], cwd=source, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    sha = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no") if sha else None
    return {"commit": sha, "dirty": bool(status) if status is not None else None}


def command_line() -> str:
    """The command as typed (``python -m rlft.train ...``) so it can be pasted to rerun."""
    argv = sys.argv[1:]
    program = "python -m rlft.train" if sys.argv and sys.argv[0].endswith("train.py") else sys.argv[0]
    return " ".join([program, *map(shlex.quote, argv)])


def environment_record(seed: int, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "hostname": socket.gethostname(),
        "packages": package_versions(),
        "git": git_state(),
        "seed": seed,
        **(extra or {}),
    }
