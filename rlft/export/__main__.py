"""``rlft export NAME format=sb3|hf|onnx out=DIR`` (or ``python -m rlft.export``): a champion outside rlft.

sb3: ``model.zip`` for ``PPO.load`` (plus normalisation stats when used). hf: a Hugging Face-style
folder (model card README with metrics and config, ``model.safetensors``, ``config.json``, an
episode GIF). onnx: ``policy.onnx`` (deterministic action and logits), checked against torch on
the champion's own observations (``onnx_check.json``). Nothing needs a network.
"""

from __future__ import annotations

import sys
from typing import Sequence

from rlft.arguments import Command, Option, Positional, registry_option
from rlft.cli import user_errors
from rlft.export import FORMATS

COMMAND = Command(
    "export",
    "Export a champion for use outside rlft.",
    positionals=(Positional("NAME", "a champion: NAME (its latest version) or NAME@vN"),),
    options=(
        Option(
            "format",
            "str",
            required=True,
            choices=FORMATS,
            help="sb3: model.zip for PPO.load; hf: a Hugging Face-style folder; onnx: policy.onnx, checked "
            "against torch",
        ),
        Option("out", "path", required=True, metavar="DIR", help="the export folder (new or empty)"),
        registry_option(),
    ),
    description="The export is built in a staging folder and renamed into place: complete or absent. Nothing needs "
    "a network.",
)


def main(argv: Sequence[str] | None = None) -> None:
    with user_errors():
        args = COMMAND.parse(sys.argv[1:] if argv is None else argv)
        from rlft.export import export

        summary = export(str(args.paths_registry), args.name, args.format, args.out)
    print(f"exported {summary['champion']} as {args.format} to {summary['out']}: {', '.join(summary['files'])}")
    if "check" in summary:
        check = summary["check"]
        print(
            f"  ONNX vs torch on {check['samples']} observations: actions equal, largest logit difference "
            f"{check['max_abs_logit_diff']:.1e}"
        )


if __name__ == "__main__":
    main()
