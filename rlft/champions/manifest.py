"""What a champion's ``manifest.json`` says, and the checks that make loading it safe.

Loading never unpickles: the model is rebuilt from the manifest (an allowlisted algorithm and
policy class, JSON-only policy kwargs, and every dotted path it names under the trusted roots of
:mod:`rlft.champions.trust`) and the weights come from safetensors.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Sequence

from rlft.algos.spec import ALGORITHMS
from rlft.champions.trust import check_trusted
from rlft.errors import ConfigError
from rlft.runs.layout import WEIGHTS_FILE

FORMAT = "rlft.champion/1"
MANIFEST = "manifest.json"
MANIFEST_CHECKSUM = "manifest.sha256"
SIGNATURE = "signature.json"  # optional: rlft.champions.signing
WEIGHTS = WEIGHTS_FILE
OPTIMIZER = "optimizer.safetensors"  # the optimizer's per-parameter state (Adam moments), for optimizer=kept
SB3_ZIP = "model.zip"


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def architecture(action: dict[str, Any]) -> str:
    """``standard`` (9 actions: 8 moves + STOP), ``decoupled`` (8 moves + a stop head), else ``other``."""
    if action == {"type": "Discrete", "n": 9}:
        return "standard"
    if action == {"type": "MultiDiscrete", "nvec": [8, 2]}:
        return "decoupled"
    return "other"


def check_loadable(manifest: dict[str, Any], where: str, trusted: Sequence[str] = ()) -> None:
    """Refuse a manifest that would make loading import or run anything unexpected (``trusted``:
    the user's ``paths.trusted_modules``); imports nothing."""
    if manifest.get("format") != FORMAT:
        raise ConfigError(f"{where}: unknown manifest format {manifest.get('format')!r} (expected {FORMAT})")
    hparams = manifest.get("hparams") or {}
    if hparams.get("algo") not in ALGORITHMS:
        raise ConfigError(f"{where}: algorithm {hparams.get('algo')!r} is not one of {', '.join(ALGORITHMS)}")
    policies = ALGORITHMS[hparams["algo"]].policies
    if hparams.get("policy") not in policies:
        raise ConfigError(f"{where}: policy {hparams.get('policy')!r} is not one of {', '.join(policies)}")
    _check_json_kwargs(hparams.get("policy_kwargs") or {}, where)
    check_trusted(manifest, where, trusted)


def _check_json_kwargs(value: Any, where: str) -> None:
    if isinstance(value, dict):
        for item in value.values():
            _check_json_kwargs(item, where)
    elif isinstance(value, list):
        for item in value:
            _check_json_kwargs(item, where)
    elif not isinstance(value, (str, int, float, bool)) and value is not None:
        raise ConfigError(f"{where}: policy_kwargs may hold only JSON values, got {type(value).__name__}")
