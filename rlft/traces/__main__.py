"""``rlft traces record|filter`` (or ``python -m rlft.traces``): record rollouts, keep the good episodes.

    rlft traces record MODEL [stage=K ...] [episodes=1000] out=DIR [deterministic=true]
                       [first_seed=0] [chunk=200] [which=final|best] [paths.registry=DIR]
    rlft traces filter in=DIR [out=DIR] [min_reward=R] [min_success=true] [min_achievements=K]
                       [achievement_types=a,b] [min_achievement_types=N] [max_length=T]
                       [where="SQL"] [stats_only=true] [memory_limit=1GB]

MODEL as in ``rlft evaluate`` (run folder, model folder, champion, oracle). Distill the kept
episodes with ``rlft train distill=DIR [champion=<base>]``.
"""

from __future__ import annotations

import sys
from typing import Sequence

from rlft.cli import user_errors
from rlft.traces.cli import FILTER, GROUP


def _filter(argv: list[str]) -> None:
    from rlft.traces.filter import Conditions, describe, filter_traces

    a = FILTER.parse(argv)
    conditions = Conditions(
        a.min_reward,
        a.min_success,
        a.min_achievements,
        a.achievement_types,
        a.min_achievement_types,
        a.max_length,
        a.where,
    )
    stats = filter_traces(a["in"], a.out, conditions, stats_only=a.stats_only, memory_limit=a.memory_limit)
    print(describe(stats))
    if not a.stats_only:
        print(f"wrote {stats['kept']['episodes']} episodes to {a.out}")


def _record(argv: list[str]) -> None:
    from rlft.traces.record import run

    manifest = run(argv)
    print(
        f"recorded {manifest['episodes']} episodes, {manifest['steps']} steps of {manifest['model']} on stage "
        f"{manifest['stage']} in {manifest['wall_time_s']} s ({manifest['chunks']} chunks)"
    )


def main(argv: Sequence[str] | None = None) -> None:
    with user_errors():
        command, rest = GROUP.split(sys.argv[1:] if argv is None else argv)
        (_record if command == "record" else _filter)(rest)


if __name__ == "__main__":
    main()
