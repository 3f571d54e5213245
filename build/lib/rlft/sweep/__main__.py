"""``python -m rlft.sweep summarize <multirun dir>``: rebuild a sweep's summary.csv / .md / .png.

The same summary is written automatically at the end of every ``python -m rlft.train -m`` sweep.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rlft.cli import user_errors


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m rlft.sweep", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    summarize = commands.add_parser("summarize", help="rebuild the summary of a sweep folder")
    summarize.add_argument("sweep_dir", type=Path, help="multirun/<date>/<time> (the folder with job folders 0, 1, ...)")
    summarize.add_argument("--no-tensorboard", action="store_true", help="skip the TensorBoard HParams entries")
    args = parser.parse_args(argv)
    from rlft.sweep.summary import render_table, write_summary

    with user_errors():
        result = write_summary(args.sweep_dir, tensorboard=not args.no_tensorboard)
    print(render_table(args.sweep_dir))
    print(f"{result['jobs']} jobs, {result['failed']} failed: {args.sweep_dir / 'summary.md'} (and summary.csv, "
          "summary.png)")


if __name__ == "__main__":
    main()
