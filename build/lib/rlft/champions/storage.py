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
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

from rlft.champions import manifest as mf
from rlft.champions.names import folder_name, parse_ref
from rlft.errors import ConfigError, RlftError
from rlft.io import atomic_write_json, atomic_write_text, read_json

LOCK_FILE = ".registry.lock"


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
                raise TamperedChampion(f"champion {name}: {child.name} in {self.root} is a symbolic link "
                                       f"(to {os.readlink(child)}): refused; a version is a real folder of the registry")
            if base == name and child.is_dir() and (child / mf.MANIFEST).is_file():
                found.append(int(suffix) if suffix.isdigit() else 1)
        return sorted(found)

    def names(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted({c.name.partition("@v")[0] for c in self.root.iterdir()
                       if c.is_dir() and (c / mf.MANIFEST).is_file()})

    def champions(self) -> list[Champion]:
        """Every registered version, by name then version."""
        return [self.get(f"{n}@v{v}") for n in self.names() for v in self.versions(n)]

    def get(self, ref: str) -> Champion:
        """``name`` (latest) or ``name@vN``; a clear error listing what exists otherwise."""
        name, version = parse_ref(ref)
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
            raise TamperedChampion(f"champion {name}@v{version}: its manifest says {manifest.get('name')!r} version "
                                   f"{manifest.get('version')!r}, not the folder's: refused (copied or renamed folder)")
        return Champion(name, version, folder, manifest)

    def check_files(self, champion: Champion) -> None:
        """Every file against the manifest, and the manifest against its checksum."""
        folder = champion.folder
        expected = (folder / mf.MANIFEST_CHECKSUM).read_text(encoding="utf-8").strip() \
            if (folder / mf.MANIFEST_CHECKSUM).is_file() else None
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
                raise TamperedChampion(f"champion {champion.ref}: {name} fails its sha256 check (tampered or corrupted)")
        extra = sorted({p.name for p in folder.iterdir()} - set(files) - {mf.MANIFEST, mf.MANIFEST_CHECKSUM, mf.SIGNATURE})
        if extra:
            raise TamperedChampion(f"champion {champion.ref}: unexpected files {', '.join(extra)}")

    # -- a new version ------------------------------------------------------------------------
    @contextmanager
    def staging(self) -> Iterator[Path]:
        """A temporary folder inside the registry (same file system, so the rename is atomic),
        removed afterwards unless it was published."""
        self.root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=self.root))
        try:
            yield staging
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def publish(self, staging: Path, name: str, manifest: dict[str, Any],
                sign: Callable[[dict[str, Any]], dict[str, Any] | None] = lambda manifest: None) -> Champion:
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
            os.rename(staging, target)  # atomic; the lock keeps two jobs off one version
        return Champion(name, version, target, manifest)
