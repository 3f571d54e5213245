"""Algorithms beyond stable-baselines3's own.

Imported lazily: ``rlft.algos.spec`` (read by config validation) must not pull in torch/SB3.
"""

from __future__ import annotations

from typing import Any

__all__ = ["StopPPO"]


def __getattr__(name: str) -> Any:
    if name == "StopPPO":
        from rlft.algos.stop_ppo import StopPPO

        return StopPPO
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
