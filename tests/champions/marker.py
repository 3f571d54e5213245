"""Stand-in for hostile code a tampered manifest names: calling it leaves a file behind."""

from pathlib import Path
from typing import Any


def touch(path: str, **_: Any) -> None:
    Path(path).touch()
