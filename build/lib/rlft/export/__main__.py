"""``python -m rlft.export CHAMPION --format sb3|hf|onnx --out DIR``: a champion outside rlft.

sb3: ``model.zip`` for ``PPO.load`` (plus normalisation stats when used). hf: a Hugging Face-style
folder (model card README with metrics and config, ``model.safetensors``, ``config.json``, an
episode GIF). onnx: ``policy.onnx`` (deterministic action and logits), checked against torch on
the champion's own observations (``onnx_check.json``). Nothing needs a network.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from rlft.cli import user_errors
from rlft.register import default_registry


def main(argv: list[str] | None = None) -> None:
    from rlft.export import FORMATS, export

    parser = argparse.ArgumentParser(prog="python -m rlft.export", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("champion", help="NAME or NAME@vN")
    parser.add_argument("--format", required=True, choices=FORMATS)
    parser.add_argument("--out", required=True, type=Path, help="a new (or empty) folder")
    parser.add_argument("--registry", default=default_registry(), help="registry root (default $RLFT_REGISTRY or champions)")
    args = parser.parse_args(argv)
    with user_errors():
        summary = export(args.registry, args.champion, args.format, args.out)
    print(f"exported {summary['champion']} as {args.format} to {summary['out']}: {', '.join(summary['files'])}")
    if "check" in summary:
        check = summary["check"]
        print(f"  ONNX vs torch on {check['samples']} observations: actions equal, largest logit difference "
              f"{check['max_abs_logit_diff']:.1e}")


if __name__ == "__main__":
    main()
