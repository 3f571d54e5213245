"""The declarations of ``rlft traces record`` and ``rlft traces filter`` (light: no numpy, pyarrow
or DuckDB, so ``--help`` and argument errors are fast)."""

from __future__ import annotations

from rlft.arguments import Command, Group, Option, registry_option, source_options
from rlft.assess.cli import OVERRIDES_HELP, model

RECORD = Command(
    "traces record",
    "Play a model for many episodes and store every step, in chunks.",
    positionals=(model(),),
    options=(
        Option("episodes", "int", default=1000, minimum=1, help="episodes to record"),
        Option("out", "path", required=True, metavar="DIR", help="the folder of the new trace store (new or empty)"),
        Option(
            "deterministic",
            "bool",
            default=False,
            help="deterministic actions (by default they are sampled: a filter needs variety)",
        ),
        Option("first_seed", "int", default=0, minimum=0, help="episodes use seeds first_seed, first_seed + 1, ..."),
        Option("chunk", "int", default=200, minimum=1, help="episodes per chunk file"),
        *source_options("final"),
        registry_option(),
    ),
    overrides=OVERRIDES_HELP.replace("stage=3", "stage=K (the one stage played)"),
    overrides_usage="[stage=K] [key=value ...]",
    description="MODEL as in rlft evaluate. Evaluation seeds start at 1,000,000, so a model distilled from traces is "
    "not judged on the episodes it was trained on. Keep the good episodes with rlft traces filter.",
)

FILTER = Command(
    "traces filter",
    "Keep the episodes of a trace store that meet every condition (DuckDB on the episode table).",
    options=(
        Option("in", "path", required=True, metavar="DIR", help="the trace store to read"),
        Option(
            "out",
            "path",
            metavar="DIR",
            help="the new store of the kept episodes (new or empty); needed unless stats_only=true",
        ),
        Option("min_reward", "float", metavar="R", help="keep episodes with return >= R"),
        Option("min_success", "bool", default=False, help="keep successful episodes only"),
        Option("min_achievements", "int", metavar="K", minimum=0, help="keep episodes with at least K achievements"),
        Option("achievement_types", "list", metavar="a,b", help="keep episodes with these achievements"),
        Option(
            "min_achievement_types",
            "int",
            metavar="N",
            minimum=0,
            help="... at least N of achievement_types",
            default_text="all of them",
        ),
        Option("max_length", "int", metavar="T", minimum=1, help="keep episodes of at most T steps"),
        Option(
            "where",
            "str",
            metavar='"SQL"',
            help='a SQL predicate on the episode columns, e.g. where="return > 5 AND length < 80"',
        ),
        Option("stats_only", "bool", default=False, help="print the statistics, write nothing"),
        Option("memory_limit", "str", default="1GB", metavar="SIZE", help="DuckDB's memory limit"),
    ),
    description="Distill the kept episodes with rlft train distill=DIR [champion=<base>].",
)

GROUP = Group(
    "traces",
    "Record rollouts of a model, keep the good episodes (then distill them: rlft train distill=DIR).",
    {"record": RECORD, "filter": FILTER},
)
