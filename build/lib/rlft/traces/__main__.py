"""``python -m rlft.traces record|filter``: record rollouts, keep the good episodes.

    python -m rlft.traces record MODEL [stage=K ...] episodes=1000 out=DIR [deterministic=false]
                                 [first_seed=0] [chunk=200]
    python -m rlft.traces filter --input DIR --output DIR [--min-reward R] [--min-success]
                                 [--min-achievements K] [--achievement-types a,b
                                 --min-achievement-types N] [--max-length T] [--where "SQL"]
                                 [--stats-only]

MODEL as in ``rlft.evaluate`` (run folder, model folder, champion, oracle). Distill the kept
episodes with ``python -m rlft.train distill=DIR [champion=<base>]``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rlft.cli import user_errors


def _filter(argv: list[str]) -> None:
    from rlft.traces.filter import Conditions, describe, filter_traces

    parser = argparse.ArgumentParser(prog="python -m rlft.traces filter")
    parser.add_argument("--input", required=True, type=Path)
    parser.add_argument("--output", type=Path)
    parser.add_argument("--min-reward", type=float)
    parser.add_argument("--min-success", action="store_true")
    parser.add_argument("--min-achievements", type=int)
    parser.add_argument("--achievement-types", type=lambda text: [t for t in text.split(",") if t])
    parser.add_argument("--min-achievement-types", type=int)
    parser.add_argument("--max-length", type=int)
    parser.add_argument("--where", help='a SQL predicate on the episode columns, e.g. "return > 5 AND length < 80"')
    parser.add_argument("--stats-only", action="store_true", help="print the statistics, write nothing")
    parser.add_argument("--memory-limit", default="1GB", help="DuckDB's memory limit (default 1GB)")
    a = parser.parse_args(argv)
    conditions = Conditions(a.min_reward, a.min_success, a.min_achievements, a.achievement_types,
                            a.min_achievement_types, a.max_length, a.where)
    with user_errors():
        stats = filter_traces(a.input, a.output, conditions, stats_only=a.stats_only, memory_limit=a.memory_limit)
    print(describe(stats))
    if not a.stats_only:
        print(f"wrote {stats['kept']['episodes']} episodes to {a.output}")


def _record(argv: list[str]) -> None:
    from rlft.traces.record import run

    with user_errors():
        manifest = run(argv)
    print(f"recorded {manifest['episodes']} episodes, {manifest['steps']} steps of {manifest['model']} on stage "
          f"{manifest['stage']} in {manifest['wall_time_s']} s ({manifest['chunks']} chunks)")


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in ("record", "filter"):
        print(__doc__)
        sys.exit(0 if argv and argv[0] in ("-h", "--help") else 2)
    (_record if argv[0] == "record" else _filter)(argv[1:])


if __name__ == "__main__":
    main()
