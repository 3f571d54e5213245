"""Keep the good episodes of a trace store: conditions on the per-episode table (DuckDB SQL), the
kept episodes' steps streamed to a new store by a semi-join (bounded memory, no Python loop).

``achievements`` is a map name -> count; an achievement counts as had when its count is above 0
(``achieved(achievements)`` lists those names), and a SQL filter reaches one count as
``achievements['eat_cow'] >= 2``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from rlft.errors import ConfigError
from rlft.traces import store


@dataclass
class Conditions:
    min_reward: float | None = None
    min_success: bool = False
    min_achievements: int | None = None
    achievement_types: list[str] | None = None
    min_achievement_types: int | None = None  # default: all of achievement_types
    max_length: int | None = None
    where: str | None = None  # a SQL predicate on the episode columns

    def sql(self) -> str:
        parts = []
        if self.min_reward is not None:
            parts.append(f'"return" >= {float(self.min_reward)!r}')
        if self.min_success:
            parts.append("success")
        if self.min_achievements is not None:
            parts.append(f"len(achieved(achievements)) >= {int(self.min_achievements)}")
        if self.achievement_types:
            names = ", ".join("'" + name.replace("'", "''") + "'" for name in self.achievement_types)
            need = self.min_achievement_types if self.min_achievement_types is not None else len(self.achievement_types)
            parts.append(f"len(list_intersect(achieved(achievements), [{names}])) >= {int(need)}")
        if self.max_length is not None:
            parts.append(f"length <= {int(self.max_length)}")
        if self.where:
            parts.append(f"({self.where})")
        return " AND ".join(parts) or "TRUE"


def _connect(memory_limit: str) -> Any:
    import duckdb

    connection = duckdb.connect()
    connection.execute(f"SET memory_limit = '{memory_limit}'")
    connection.execute("SET preserve_insertion_order = false")  # lets scans stream instead of buffering
    connection.execute(  # the names whose count is above 0
        "CREATE MACRO achieved(a) AS "
        "list_transform(list_filter(map_entries(a), lambda e: e.value > 0), lambda e: e.key)"
    )
    return connection


def _glob(folder: Path, kind: str) -> str:
    return str(Path(folder) / kind / "chunk-*.parquet").replace("'", "''")


def _averages(connection: Any, table: str) -> dict[str, Any]:
    row = connection.execute(
        f'SELECT count(*), avg("return"), avg(length), avg(success::INT), sum(length), '
        f"avg(len(achieved(achievements))) FROM {table}"
    ).fetchone()
    return {
        "episodes": row[0],
        "mean_return": row[1],
        "mean_length": row[2],
        "success_rate": row[3],
        "steps": int(row[4] or 0),
        "mean_achievements": row[5],
        "reward_per_step": (row[1] / row[2]) if row[0] and row[2] else None,
    }


def filter_traces(
    source: Path, output: Path | None, conditions: Conditions, *, stats_only: bool = False, memory_limit: str = "1GB"
) -> dict[str, Any]:
    """Statistics of all and kept episodes; unless ``stats_only``, the kept episodes and their steps
    written to ``output`` (staged, then renamed into place)."""
    manifest = store.read_manifest(source)
    store.check_schemas(source)
    if not stats_only:
        if output is None:
            raise ConfigError("out=DIR is needed (or stats_only=true)")
        if output.exists() and any(output.iterdir()):
            raise ConfigError(f"out={output} is not empty: pick a new folder")
    connection = _connect(memory_limit)
    t0 = time.monotonic()
    columns = "*"
    if manifest["format"] == store.LIST_ACHIEVEMENTS_FORMAT:  # names -> count 1 each, as recorded now
        columns = (
            "* REPLACE (map_from_entries(list_transform(achievements, "
            "lambda n: {'key': n, 'value': 1::BIGINT})) AS achievements)"
        )
    connection.execute(f"CREATE VIEW episodes AS SELECT {columns} FROM read_parquet('{_glob(source, store.EPISODES)}')")
    predicate = conditions.sql()
    try:
        connection.execute(f"CREATE TEMP TABLE kept AS SELECT * FROM episodes WHERE {predicate}")
    except Exception as exc:  # noqa: BLE001  (DuckDB's parser/binder errors: one line for the user)
        first = str(exc).strip().splitlines()[0]
        raise ConfigError(
            f"the filter {predicate!r} is not valid SQL on the episode columns (episode_id, seed, "
            f"return, length, success, achievements (name -> count: achievements['name'] > 0), model, stage): {first}"
        ) from None
    stats: dict[str, Any] = {
        "all": _averages(connection, "episodes"),
        "kept": _averages(connection, "kept"),
        "conditions": {k: v for k, v in asdict(conditions).items() if v not in (None, False)},
        "predicate": predicate,
    }
    total, kept = stats["all"]["episodes"], stats["kept"]["episodes"]
    stats["share"] = kept / total if total else 0.0
    if stats_only:
        stats["seconds"] = round(time.monotonic() - t0, 3)
        return stats
    assert output is not None  # checked above unless stats_only
    if kept == 0:
        raise ConfigError(
            f"the filter keeps none of the {total} episodes ({predicate}): loosen it; "
            "stats_only=true shows the averages"
        )
    output.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{output.name}.", dir=output.parent))
    try:
        for kind in (store.STEPS, store.EPISODES):
            (staging / kind).mkdir()
        target = str(staging / store.EPISODES / store.chunk_name(0)).replace("'", "''")
        connection.execute(
            f"COPY (SELECT * FROM kept ORDER BY episode_id) TO '{target}' (FORMAT PARQUET, COMPRESSION ZSTD)"
        )
        target = str(staging / store.STEPS / store.chunk_name(0)).replace("'", "''")
        connection.execute(
            f"COPY (SELECT s.* FROM read_parquet('{_glob(source, store.STEPS)}') s "
            f"SEMI JOIN kept k ON s.episode_id = k.episode_id) TO '{target}' "
            "(FORMAT PARQUET, COMPRESSION ZSTD)"
        )
        stats["seconds"] = round(time.monotonic() - t0, 3)
        store.write_manifest(
            staging,
            {
                **{k: v for k, v in manifest.items() if k != "format"},
                "filtered_from": str(Path(source).resolve()),
                "filter": stats,
                "episodes": kept,
                "steps": stats["kept"]["steps"],
                "chunks": 1,
            },
        )
        staging.chmod(0o755)
        if output.exists():
            output.rmdir()
        os.rename(staging, output)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        connection.close()
    return stats


def _rate(value: float | None) -> str:
    return "  n/a" if value is None else f"{value:.3f}"  # n/a: the env reports no success


def describe(stats: dict[str, Any]) -> str:
    def line(name: str, part: dict[str, Any]) -> str:
        if not part["episodes"]:
            return f"{name:<6} {0:>8} episodes"
        return (
            f"{name:<6} {part['episodes']:>8} episodes {part['steps']:>10} steps  return {part['mean_return']:8.3f}  "
            f"length {part['mean_length']:7.1f}  success {_rate(part['success_rate'])}  "
            f"achievements {part['mean_achievements']:.2f}  reward/step {part['reward_per_step']:.4f}"
        )

    return "\n".join(
        [
            f"filter: {stats['predicate']}",
            line("all", stats["all"]),
            line("kept", stats["kept"]),
            f"kept {stats['share']:.1%} of the episodes in {stats.get('seconds', 0):.2f} s",
        ]
    )
