"""The ``rlft`` console script: ``rlft <command> [args]`` runs ``python -m rlft.<command> [args]``.

Each command keeps its own module and ``main(argv)``, so both spellings run the same code; this
file only dispatches, and imports nothing heavy so ``rlft --help`` is instant.
"""

from __future__ import annotations

import difflib
import importlib
import sys

import rlft

# command -> (module whose main(argv) runs it, one line of help)
COMMANDS = {
    "train": ("rlft.train", "train, run a curriculum, fine-tune a champion, distill, or sweep (-m) from configs"),
    "init": ("rlft.init", "write a starter project (conf/ with an env, a stage, a curriculum, an experiment)"),
    "register": ("rlft.register", "bank a run's model as a champion, if it clears the gate"),
    "champions": ("rlft.champions.__main__", "list, show and verify registered champions"),
    "evaluate": ("rlft.evaluate", "evaluate one model per stage on fixed seeds, with intervals"),
    "compare": ("rlft.compare", "compare models on the same episodes (paired changes, plots, report)"),
    "promote": ("rlft.promote", "make a fine-tune the new champion version only if it improved"),
    "export": ("rlft.export.__main__", "export a champion (sb3 zip, Hugging Face folder, ONNX)"),
    "traces": ("rlft.traces.__main__", "record rollouts and filter them for distillation"),
    "sweep": ("rlft.sweep.__main__", "rebuild a sweep's summary"),
    "demo": ("rlft.demo", "the whole loop at small scale: curriculum, champion, fine-tune, promote, export"),
}


def usage() -> str:
    width = max(map(len, COMMANDS))
    lines = [
        f"usage: rlft <command> [args]   (rlft {rlft.__version__}; rlft <command> --help for each)",
        "",
        "commands:",
    ]
    lines += [f"  {name:<{width}}  {text}" for name, (_, text) in COMMANDS.items()]
    lines += [
        "",
        "Every command takes key=value options (Hydra style); python -m rlft.<command> is the same.",
        "Examples:",
        "  rlft init my_project",
        "  rlft train env=cartpole hparams.total_timesteps=20000",
        "  rlft train champion=best_stop stage=11 hparams.lr=1e-6",
        "  rlft champions list",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(usage())
        sys.exit(0 if argv else 2)
    if argv[0] == "--version":
        print(f"rlft {rlft.__version__}")
        return
    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:
        close = difflib.get_close_matches(command, list(COMMANDS), n=1)
        hint = f"did you mean rlft {close[0]}? " if close else ""
        print(f"error: unknown command {command!r}: {hint}commands: {', '.join(COMMANDS)}", file=sys.stderr)
        sys.exit(2)
    module = importlib.import_module(COMMANDS[command][0])
    sys.argv = [f"rlft {command}", *rest]
    module.main(rest)


if __name__ == "__main__":
    main()
