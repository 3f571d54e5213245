"""``rlft sweep summarize DIR [tensorboard=false]`` (or ``python -m rlft.sweep``): rebuild a sweep's
summary.csv / .md / .png.

The same summary is written automatically at the end of every ``python -m rlft.train -m`` sweep.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Sequence

from rlft.arguments import Command, Group, Option, Positional
from rlft.cli import user_errors

GROUP = Group(
    "sweep",
    "Sweep tools (a sweep is python -m rlft.train -m ...).",
    {
        "summarize": Command(
            "sweep summarize",
            "Rebuild a sweep's summary.csv, summary.md and summary.png.",
            positionals=(Positional("DIR", "multirun/<date>/<time> (the folder with job folders 0, 1, ...)"),),
            options=(Option("tensorboard", "bool", default=True, help="write the TensorBoard HParams entries"),),
            description="The same summary is written automatically at the end of every sweep.",
        ),
    },
)


def main(argv: Sequence[str] | None = None) -> None:
    with user_errors():
        _, args = GROUP.parse(sys.argv[1:] if argv is None else argv)
        from rlft.sweep.summary import render_table, write_summary

        sweep_dir = Path(args.dir)
        result = write_summary(sweep_dir, tensorboard=args.tensorboard)
    print(render_table(sweep_dir))
    print(
        f"{result['jobs']} jobs, {result['failed']} failed: {sweep_dir / 'summary.md'} (and summary.csv, summary.png)"
    )


if __name__ == "__main__":
    main()
