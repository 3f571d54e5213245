"""The trace store on disk: ``manifest.json``, ``episodes/chunk-NNNNN.parquet`` and
``steps/chunk-NNNNN.parquet``.

Each chunk holds whole episodes and is written to a temporary file then renamed, so a recorder
killed mid-way leaves only complete, readable chunks. Steps: ``episode_id, t, obs`` (the raw
observation bytes, its shape and dtype in the manifest; a Dict observation has one column
``obs_<key>`` per entry, their shapes and dtypes under the manifest's ``obs_keys``), ``action`` (a
list: one entry per action dimension; floats for continuous actions, the manifest's
``action_dtype``), ``reward, done`` and the env's per-step info fields. Episodes: ``episode_id, seed,
return, length, success, achievements`` (a map name -> count: a counter dict from the env's info
as it is, a list of names as count 1 each), ``model, stage``. Stores of format 1 (achievements a
list of names) are still read.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from rlft.errors import RunFolderError
from rlft.io import atomic_path, atomic_write_json, read_json

FORMAT = "rlft.traces/2"
LIST_ACHIEVEMENTS_FORMAT = "rlft.traces/1"  # achievements as a list of names
MANIFEST = "manifest.json"
STEPS, EPISODES = "steps", "episodes"


def chunk_name(index: int) -> str:
    return f"chunk-{index:05d}.parquet"


def write_table(table: Any, path: Path) -> None:
    import pyarrow.parquet as pq

    with atomic_path(path) as tmp:
        pq.write_table(table, tmp, compression="zstd")


def _table(rows: dict[str, list], types: dict[str, Any]) -> Any:
    """A pyarrow table with one typed column per ``types`` entry, read from ``rows``."""
    import pyarrow as pa

    return pa.table({name: pa.array(rows[name], kind) for name, kind in types.items()})


def obs_column(key: str | None) -> str:
    """The steps column of an observation (``obs``) or of one entry of a Dict observation."""
    return "obs" if key is None else f"obs_{key}"


def obs_layout(observation: Any) -> dict[str, Any]:
    """The manifest's description of recorded observations: ``obs_dtype`` / ``obs_shape``, or for
    a Dict observation ``obs_keys`` (entry -> dtype and shape)."""
    if isinstance(observation, dict):
        return {
            "obs_keys": {
                key: {"dtype": str(np.asarray(value).dtype), "shape": list(np.asarray(value).shape)}
                for key, value in observation.items()
            }
        }
    return {"obs_dtype": str(np.asarray(observation).dtype), "obs_shape": list(np.asarray(observation).shape)}


def obs_columns(manifest: dict[str, Any]) -> list[str]:
    return [obs_column(key) for key in manifest["obs_keys"]] if "obs_keys" in manifest else [obs_column(None)]


def steps_table(rows: dict[str, list], info_fields: list[str], manifest: dict[str, Any]) -> Any:
    import pyarrow as pa

    types = {
        "episode_id": pa.int64(),
        "t": pa.int32(),
        **{column: pa.binary() for column in obs_columns(manifest)},
        "action": pa.list_(pa.from_numpy_dtype(np.dtype(manifest.get("action_dtype", "int64")))),
        "reward": pa.float32(),
        "done": pa.bool_(),
    }
    return _table(rows, types | {f"info_{name}": pa.float32() for name in info_fields})


def episodes_table(rows: dict[str, list]) -> Any:
    import pyarrow as pa

    return _table(
        rows,
        {
            "episode_id": pa.int64(),
            "seed": pa.int64(),
            "return": pa.float64(),
            "length": pa.int32(),
            "success": pa.bool_(),
            "achievements": pa.map_(pa.string(), pa.int64()),
            "model": pa.string(),
            "stage": pa.string(),
        },
    )


def achievement_counts(value: Any) -> list[tuple[str, int]]:
    """The achievements column of one episode: a counter dict ``{name: count}`` (Crafter's) as its
    counts, a list or tuple of names (CurveTrace's) as count 1 each, anything else as none."""
    if isinstance(value, dict):
        return sorted((str(name), int(count)) for name, count in value.items())
    if isinstance(value, (list, tuple)):
        return [(str(name), 1) for name in sorted(set(map(str, value)))]
    return []


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    atomic_write_json(folder / MANIFEST, {"format": FORMAT, **manifest})


def read_manifest(folder: Path) -> dict[str, Any]:
    path = Path(folder) / MANIFEST
    if not path.is_file():
        raise RunFolderError(
            f"{folder} is not a trace store (no {MANIFEST}): record one with python -m rlft.traces record"
        )
    manifest = read_json(path)
    if manifest.get("format") not in (FORMAT, LIST_ACHIEVEMENTS_FORMAT):
        raise RunFolderError(f"{folder}: trace format {manifest.get('format')!r} is not {FORMAT}")
    return manifest


def chunks(folder: Path, kind: str) -> list[Path]:
    return sorted((Path(folder) / kind).glob("chunk-*.parquet"))


def check_schemas(folder: Path) -> None:
    """Every chunk of a kind has the first chunk's schema (chunks from another env or version
    would mix silently in a glob read)."""
    import pyarrow.parquet as pq

    for kind in (STEPS, EPISODES):
        files = chunks(folder, kind)
        if not files:
            raise RunFolderError(f"{folder} has no {kind} chunks: the recording wrote nothing yet")
        first = pq.read_schema(files[0])
        for other in files[1:]:
            schema = pq.read_schema(other)
            if not schema.equals(first):
                differ = sorted({f.name for f in first} ^ {f.name for f in schema}) or [
                    f.name for f in first if f.name in schema.names and schema.field(f.name).type != f.type
                ]
                raise RunFolderError(
                    f"schema mismatch in {other.relative_to(folder)}: columns {', '.join(differ)} "
                    f"differ from {files[0].name}; keep one recording per folder"
                )


def decode_obs(blobs: list[bytes], manifest: dict[str, Any], key: str | None = None) -> np.ndarray:
    """A column of observations (``key``: one entry of a Dict observation) as one array."""
    layout = (
        manifest["obs_keys"][key]
        if key is not None
        else {"dtype": manifest["obs_dtype"], "shape": manifest["obs_shape"]}
    )
    dtype, shape = np.dtype(layout["dtype"]), tuple(layout["shape"])
    return np.frombuffer(b"".join(blobs), dtype=dtype).reshape(len(blobs), *shape)
