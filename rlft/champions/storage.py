"""Where champions live: ``<registry>/<name>/`` and ``<name>@vN/``, their versions, checksums and
the locked, atomic publication of a new version.

A champion folder is built in a staging folder inside the registry and renamed into place under
a file lock, so concurrent registrations (sweep jobs) never see or make half a champion. Folders
are never overwritten: registering an existing name creates the next version (``name@v2``,
``name@v3``, ...); ``name`` alone means the latest version. Nothing here knows what a model is.
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from rlft.champions import manifest as mf
from rlft.champions.names import folder_name, parse_ref
from rlft.errors import ConfigError, RlftError
from rlft.io import atomic_write_json, atomic_write_text, fault_point, read_json
from rlft.runs.lock import process_alive

LOCK_FILE = ".registry.lock"
STAGING_PREFIX = ".staging-"  # .staging-<host>.<pid>-<random>: a registration in progress, or killed
LEGACY_STAGING_AGE_S = 3600.0  # a staging folder without its owner's pid: abandoned after this long


class TamperedChampion(RlftError):
    """A champion's files do not match the checksums of its manifest."""


@dataclass(frozen=True)
class Champion:
    name: str
    version: int
    folder: Path
    manifest: dict[str, Any]

    @property
    def ref(self) -> str:
        return f"{self.name}@v{self.version}"


class Storage:
    """The champion folders under ``root``."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    # -- lookup -------------------------------------------------------------------------------
    def versions(self, name: str) -> list[int]:
        if not self.root.is_dir():
            return []
        found = []
        for child in self.root.iterdir():
            base, _, suffix = child.name.partition("@v")
            if base == name and child.is_symlink():
                raise TamperedChampion(
                    f"champion {name}: {child.name} in {self.root} is a symbolic link "
                    f"(to {os.readlink(child)}): refused; a version is a real folder of the registry"
                )
            if base == name and not base.startswith(".") and child.is_dir() and (child / mf.MANIFEST).is_file():
                found.append(int(suffix) if suffix.isdigit() else 1)
        return sorted(found)

    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(
            {
                c.name.partition("@v")[0]
                for c in self.root.iterdir()
                if not c.name.startswith(".") and c.is_dir() and (c / mf.MANIFEST).is_file()
            }
        )

    def champions(self) -> list[Champion]:
        """Every registered version, by name then version."""
        self.clean_staging()
        return [self.get(f"{n}@v{v}") for n in self.names() for v in self.versions(n)]

    def get(self, ref: str) -> Champion:
        """``name`` (latest) or ``name@vN``; a clear error listing what exists otherwise."""
        name, version = parse_ref(ref)
        self.clean_staging()
        versions = self.versions(name)
        if not versions or (version is not None and version not in versions):
            known = self.names()
            listed = ", ".join(known) if known else "none yet (register one with python -m rlft.register)"
            what = f"version {version} of champion {name!r}" if versions else f"champion {ref!r}"
            raise ConfigError(f"{what} is not in the registry {self.root}: registered: {listed}")
        version = version or versions[-1]
        folder = self.root / folder_name(name, version)
        if (folder / mf.MANIFEST).is_symlink():
            raise TamperedChampion(f"champion {name}@v{version}: manifest.json is a symbolic link: refused")
        manifest = read_json(folder / mf.MANIFEST)
        if manifest.get("name") != name or manifest.get("version") != version:
            raise TamperedChampion(
                f"champion {name}@v{version}: its manifest says {manifest.get('name')!r} version "
                f"{manifest.get('version')!r}, not the folder's: refused (copied or renamed folder)"
            )
        return Champion(name, version, folder, manifest)

    def check_files(self, champion: Champion) -> None:
        """Every file against the manifest, and the manifest against its checksum."""
        folder = champion.folder
        expected = (
            (folder / mf.MANIFEST_CHECKSUM).read_text(encoding="utf-8").strip()
            if (folder / mf.MANIFEST_CHECKSUM).is_file()
            else None
        )
        if expected != mf.sha256(folder / mf.MANIFEST):
            raise TamperedChampion(f"champion {champion.ref}: manifest.json does not match manifest.sha256")
        files = champion.manifest.get("files") or {}
        for name, digest in files.items():
            path = folder / name
            if path.is_symlink():
                raise TamperedChampion(f"champion {champion.ref}: {name} is a symbolic link: refused")
            if not path.is_file():
                raise TamperedChampion(f"champion {champion.ref}: {name} is missing")
            if mf.sha256(path) != digest:
                raise TamperedChampion(
                    f"champion {champion.ref}: {name} fails its sha256 check (tampered or corrupted)"
                )
        extra = sorted(
            {p.name for p in folder.iterdir()} - set(files) - {mf.MANIFEST, mf.MANIFEST_CHECKSUM, mf.SIGNATURE}
        )
        if extra:
            raise TamperedChampion(f"champion {champion.ref}: unexpected files {', '.join(extra)}")

    # -- a new version ------------------------------------------------------------------------
    def clean_staging(self) -> None:
        """Remove the staging folders of killed registrations (their process is gone), under the
        registry's lock; a registry this user cannot write is left as it is."""
        if not self.root.is_dir():
            return
        from filelock import FileLock, Timeout

        abandoned = [c for c in self.root.iterdir() if c.name.startswith(STAGING_PREFIX) and _abandoned(c)]
        if not abandoned:
            return
        try:
            with FileLock(str(self.root / LOCK_FILE), timeout=10):
                for folder in abandoned:
                    shutil.rmtree(folder, ignore_errors=True)  # hidden: a partial delete is cleaned next time
        except (OSError, Timeout):
            return

    @contextmanager
    def staging(self) -> Iterator[Path]:
        """A temporary folder inside the registry (same file system, so the rename is atomic),
        removed afterwards unless it was published; its name carries this process's host and pid
        so that a killed registration's folder can be told apart and cleaned."""
        self.root.mkdir(parents=True, exist_ok=True)
        owner = f"{STAGING_PREFIX}{socket.gethostname()}.{os.getpid()}-"
        staging = Path(tempfile.mkdtemp(prefix=owner, dir=self.root))
        try:
            yield staging
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def publish(
        self,
        staging: Path,
        name: str,
        manifest: dict[str, Any],
        sign: Callable[[dict[str, Any]], dict[str, Any] | None] = lambda manifest: None,
    ) -> Champion:
        """Write the manifest, its checksum and its signature (``sign(manifest)``, when not None),
        make the files read-only and rename the staging folder to the next version of ``name``,
        under the registry's lock."""
        from filelock import FileLock

        with FileLock(str(self.root / LOCK_FILE)):
            versions = self.versions(name)
            version = versions[-1] + 1 if versions else 1
            manifest = {**manifest, "name": name, "version": version}
            atomic_write_json(staging / mf.MANIFEST, manifest)
            atomic_write_text(staging / mf.MANIFEST_CHECKSUM, mf.sha256(staging / mf.MANIFEST) + "\n")
            signature = sign(manifest)
            if signature is not None:
                atomic_write_json(staging / mf.SIGNATURE, signature)
            for path in staging.iterdir():
                path.chmod(0o444)  # a champion is never edited in place
            staging.chmod(0o755)
            target = self.root / folder_name(name, version)
            fault_point("rename", target)
            os.rename(staging, target)  # atomic; the lock keeps two jobs off one version
        return Champion(name, version, target, manifest)


def _abandoned(staging: Path) -> bool:
    """Whether a staging folder's registration is gone: its process died (same host), or it has no
    owner in its name (older rlft) and is over an hour old."""
    owner = staging.name[len(STAGING_PREFIX) :].rpartition("-")[0]
    host, _, pid = owner.rpartition(".")
    if not pid.isdigit() or not host:
        try:
            return time.time() - staging.stat().st_mtime > LEGACY_STAGING_AGE_S
        except FileNotFoundError:
            return False
    return not process_alive(host, int(pid))
