"""Policy building blocks (features extractors) for SB3 policies.

``SmallCNN`` is imported lazily so that ``import rlft.policies`` stays free of torch/SB3.
"""

from __future__ import annotations

from typing import Any

__all__ = ["SmallCNN"]


def __getattr__(name: str) -> Any:
    if name == "SmallCNN":
        from rlft.policies.extractors import SmallCNN

        return SmallCNN
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
