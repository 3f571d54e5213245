"""Optional signatures of champion manifests: HMAC-SHA256 (stdlib ``hmac``, no dependency).

``manifest.sha256`` only catches corruption: whoever can write the registry can recompute it. With
a key configured (``$RLFT_SIGNING_KEY`` holding the secret, else the file named by
``$RLFT_SIGNING_KEY_FILE`` or ``paths.signing_key``) registration writes ``signature.json`` (the
algorithm, a key id and the HMAC of the manifest's canonical JSON: sorted keys, compact) and
loading refuses an unsigned or wrongly signed champion. The manifest lists the sha256 of every
other file, so signing it covers them all. Without a key, unsigned champions load as before.
A shared secret means whoever can verify can also sign: keep the key off the registry's host
if the registry is shared.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from pathlib import Path
from typing import Any

from rlft.champions.manifest import SIGNATURE
from rlft.errors import ConfigError

ALGORITHM = "hmac-sha256"
KEY_VAR, KEY_FILE_VAR = "RLFT_SIGNING_KEY", "RLFT_SIGNING_KEY_FILE"
VALID, INVALID, UNSIGNED, NO_KEY = "valid", "invalid", "unsigned", "not checked (no key configured)"


def signing_key(key_file: str | None = None) -> bytes | None:
    """The secret: ``$RLFT_SIGNING_KEY``, else ``$RLFT_SIGNING_KEY_FILE``, else ``key_file``."""
    if os.environ.get(KEY_VAR):
        return os.environ[KEY_VAR].encode()
    path = os.environ.get(KEY_FILE_VAR) or key_file
    if not path:
        return None
    try:
        key = Path(path).expanduser().read_bytes().strip()
    except OSError as exc:
        raise ConfigError(
            f"signing key file {path!r} cannot be read ({exc.strerror}): fix ${KEY_FILE_VAR} / paths.signing_key"
        ) from None
    if not key:
        raise ConfigError(f"signing key file {path!r} is empty")
    return key


def key_id(key: bytes) -> str:
    """Which key signed (never the key): the sha256 of its first 32 bytes, shortened."""
    return hashlib.sha256(key[:32]).hexdigest()[:16]


def canonical(manifest: dict[str, Any]) -> bytes:
    return json.dumps(
        {k: v for k, v in manifest.items() if k != "signature"},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=True,
    ).encode()


def signature(manifest: dict[str, Any], key: bytes) -> dict[str, str]:
    """The content of ``signature.json``."""
    return {
        "algorithm": ALGORITHM,
        "key_id": key_id(key),
        "signature": hmac.new(key, canonical(manifest), hashlib.sha256).hexdigest(),
    }


def status(manifest: dict[str, Any], folder: Path, key: bytes | None) -> str:
    """``valid``, ``invalid``, ``unsigned`` or ``not checked (no key configured)``."""
    path = folder / SIGNATURE
    if not path.is_file():
        return UNSIGNED
    if key is None:
        return NO_KEY
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return INVALID
    expected = signature(manifest, key)
    ok = (
        isinstance(stored, dict)
        and stored.get("algorithm") == ALGORITHM
        and stored.get("key_id") == expected["key_id"]
        and hmac.compare_digest(str(stored.get("signature")), expected["signature"])
    )
    return VALID if ok else INVALID


def require_signed(state: str, where: str) -> None:
    """With a key configured, only a validly signed champion loads."""
    if state == INVALID:
        raise ConfigError(
            f"{where}: signature.json does not match the manifest under the configured signing key "
            "(tampered, or signed with another key): refused"
        )
    if state == UNSIGNED:
        raise ConfigError(
            f"{where}: unsigned, and a signing key is configured ({KEY_VAR} / {KEY_FILE_VAR} / "
            "paths.signing_key): refused; re-register it with the key, or unset the key to load unsigned champions"
        )
