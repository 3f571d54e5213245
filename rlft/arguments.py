"""One command-line grammar for every rlft command: positional words, then or among ``key=value``
options (Hydra style), no ``--flags`` but ``-h``/``--help``.

A command declares its positionals (:class:`Positional`) and options (:class:`Option`) in a
:class:`Command`; :meth:`Command.parse` returns typed values or raises a one-line
:class:`~rlft.errors.ConfigError` (wrong type, NaN, unknown key with the closest names, missing
option or positional, an old ``--flag`` with its new spelling). A command that composes a config
(``accepts_overrides``) passes every other ``key=value`` on as a config override, as in training.
``-h``/``--help`` anywhere prints the usage generated from the declarations and exits 0.
:class:`Group` dispatches ``rlft <command> <subcommand> ...`` (``champions list``, ``traces record``).

Light on purpose: nothing here imports torch, SB3, Hydra or OmegaConf.
"""

from __future__ import annotations

import difflib
import math
import os
import re
import sys
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from rlft.errors import ConfigError

REGISTRY_ENV = "RLFT_REGISTRY"
HELP_FLAGS = ("-h", "--help")
TYPES = ("int", "float", "bool", "str", "path", "list")
TRUE, FALSE = ("true", "1", "yes"), ("false", "0", "no")

# old spellings that are no longer options, and what replaced them (when the command has it)
RENAMED = {
    "registry": "paths.registry",
    "output": "out",
    "input": "in",
    "from": "which",
    "output_dir": "paths.output_dir",
    "no_tensorboard": "tensorboard",
}

_KEY = re.compile(r"^(?:\+{1,2}|~)?[A-Za-z_][\w.\-/@]*=")  # key=value, +key=value, ++key=value, ~key=value


def default_registry() -> str:
    """``$RLFT_REGISTRY``, else ``champions`` (the project root when run from there)."""
    return os.environ.get(REGISTRY_ENV, "champions")


@dataclass(frozen=True)
class Option:
    """``name=value``. ``default`` may be a callable (read when parsing, e.g. an environment
    variable); ``default_text`` shows it in the help when it is not the value itself."""

    name: str
    type: str = "str"
    default: Any = None
    help: str = ""
    required: bool = False
    choices: tuple[str, ...] | None = None
    metavar: str | None = None
    default_text: str | None = None
    minimum: float | None = None  # inclusive bounds for int / float
    maximum: float | None = None

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise ValueError(f"option {self.name}: type {self.type!r} is not one of {TYPES}")

    @property
    def dest(self) -> str:
        """The attribute name in :class:`Arguments` (``paths.registry`` -> ``paths_registry``)."""
        return self.name.replace(".", "_")

    def default_value(self) -> Any:
        value = self.default() if callable(self.default) else self.default
        return Path(value).expanduser() if self.type == "path" and isinstance(value, str) else value

    def placeholder(self) -> str:
        if self.choices:
            return "|".join(self.choices)
        return self.metavar or {"int": "N", "float": "X", "bool": "true|false", "path": "DIR", "list": "a,b"}.get(
            self.type, "VALUE"
        )

    def usage_token(self) -> str:
        """``name=NAME`` (required), ``[force=true]`` (a bool shows the value that changes
        something), ``[chunk=200]`` (the default) or ``[paths.registry=DIR]``."""
        if self.required:
            return f"{self.name}={self.placeholder()}"
        if self.type == "bool" and isinstance(self.default, bool):
            return f"[{self.name}={str(not self.default).lower()}]"
        if self.choices:
            return f"[{self.name}={self.placeholder()}]"
        if self.default is not None and not callable(self.default):
            return f"[{self.name}={_show(self.default)}]"
        return f"[{self.name}={self.placeholder()}]"

    def convert(self, value: str) -> Any:
        """The typed value, or a one-line ConfigError naming the key and the value."""
        given = f"{self.name}={value}"
        if value == "":
            raise ConfigError(f"{given} needs a value: {self.name}={self.placeholder()}")
        if self.choices and value not in self.choices:
            raise ConfigError(f"{given} is not valid: use one of {', '.join(self.choices)}")
        if self.type == "int":
            if not re.fullmatch(r"[+-]?\d+", value.strip()):
                raise ConfigError(f"{given} is not an integer")
            result: Any = int(value)
        elif self.type == "float":
            try:
                result = float(value)
            except ValueError:
                raise ConfigError(f"{given} is not a number") from None
            if not math.isfinite(result):
                raise ConfigError(f"{given} is not a finite number")
        elif self.type == "bool":
            lowered = value.strip().lower()
            if lowered not in TRUE + FALSE:
                raise ConfigError(f"{given} is not valid: use true or false")
            return lowered in TRUE
        elif self.type == "path":
            return Path(value).expanduser()
        elif self.type == "list":
            items = [part.strip().strip("'\"") for part in value.strip().strip("[]").split(",")]
            items = [item for item in items if item]
            if not items:
                raise ConfigError(f"{given} is empty: list at least one, e.g. {self.name}=[a,b]")
            return items
        else:
            return value
        if self.minimum is not None and result < self.minimum or self.maximum is not None and result > self.maximum:
            low = "" if self.minimum is None else f">= {_show(self.minimum)}"
            high = "" if self.maximum is None else f"<= {_show(self.maximum)}"
            bounds = f"in [{_show(self.minimum)}, {_show(self.maximum)}]" if low and high else low or high
            raise ConfigError(f"{given} is out of range: it must be {bounds}")
        return result


@dataclass(frozen=True)
class Positional:
    """A positional word: ``count`` of them, ``at_least`` (and, unless None, ``at_most``)."""

    name: str
    help: str = ""
    at_least: int = 1
    at_most: int | None = 1
    hint: str = ""  # added to a wrong-count message, e.g. "one model: rlft evaluate"

    def usage_token(self) -> str:
        if self.at_most == 1:
            return self.name if self.at_least else f"[{self.name}]"
        required = " ".join([self.name] * self.at_least) if self.at_least else ""
        return f"{required} [{self.name} ...]".strip()


class Arguments:
    """What :meth:`Command.parse` returns: positionals (a str, or a list when more than one may be
    given) and options by their ``dest``, ``overrides`` (config overrides in their order) and
    ``given`` (the option names that were on the command line)."""

    def __init__(self, values: dict[str, Any], overrides: list[str], given: set[str]) -> None:
        self.__dict__.update(values)
        self.values, self.overrides, self.given = values, overrides, given

    def __getitem__(self, name: str) -> Any:
        return self.values[name.replace(".", "_")]

    def __getattr__(self, name: str) -> Any:
        """Reached only for an undeclared name (declared ones live in ``__dict__``); it tells
        type checkers that the attributes are the command's dynamic ``dest`` values."""
        raise AttributeError(f"{type(self).__name__} has no argument {name!r}")

    def __repr__(self) -> str:
        return f"Arguments({self.values!r}, overrides={self.overrides!r})"


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(str(v) for v in value) + "]"
    return str(value)


def is_option(arg: str) -> bool:
    """``key=value`` (or a Hydra ``+key=``/``~key``), unless it is an existing path (a run folder
    whose name holds ``=``)."""
    if arg.startswith("~") and not arg.startswith("~/"):
        return True
    if not _KEY.match(arg):
        return False
    try:
        return not Path(arg).exists()
    except (OSError, ValueError):  # a name too long for a path, a NUL byte: not a path
        return True


def is_flag(arg: str) -> bool:
    return arg.startswith("-") and len(arg) > 1 and arg not in HELP_FLAGS


def wants_help(argv: Sequence[str]) -> bool:
    return any(arg in HELP_FLAGS for arg in argv)


def flag_error(flag: str, prog: str, options: Iterable[Option]) -> ConfigError:
    """``--registry: options are key=value: use paths.registry=DIR`` (the new spelling when there is one)."""
    by_name = {option.name: option for option in options}
    key = flag.lstrip("-").partition("=")[0].replace("-", "_")
    target = by_name.get(RENAMED.get(key, key)) or by_name.get(key.removeprefix("no_"))
    if target is None:
        close = difflib.get_close_matches(key, list(by_name), n=1)
        target = by_name[close[0]] if close else None
    if target is None:
        return ConfigError(f"{flag}: {prog} takes no --flags, options are key=value (see {prog} --help)")
    if target.type == "bool":
        value = "false" if key.startswith("no_") else "true"
    else:
        value = target.placeholder()
    return ConfigError(f"{flag}: options are key=value: use {target.name}={value}")


@dataclass(frozen=True)
class Command:
    """``rlft <name> POSITIONAL... key=value...``: one command's declarations, its usage and its parser."""

    name: str  # "register", "traces record"
    summary: str  # one line
    positionals: tuple[Positional, ...] = ()
    options: tuple[Option, ...] = ()
    description: str = ""  # more text after the usage
    overrides: str = ""  # when set, any other key=value is a config override; this text explains them
    overrides_usage: str = "[key=value ...]"  # their token in the usage line

    @property
    def prog(self) -> str:
        return f"rlft {self.name}"

    @property
    def module(self) -> str:
        return "rlft." + self.name  # "rlft.register", "rlft.traces record"

    def usage_line(self) -> str:
        tokens = [p.usage_token() for p in self.positionals] + [o.usage_token() for o in self.options]
        if self.overrides:
            tokens.append(self.overrides_usage)
        return f"usage: {self.prog} {' '.join(tokens)}"

    def usage(self) -> str:
        module, _, sub = self.name.partition(" ")
        lines = [
            *_wrap(self.usage_line(), "       "),
            f"  (python -m rlft.{module}{' ' + sub if sub else ''} ... is the same)",
            "",
            *_wrap(self.summary),
        ]
        if self.description:
            lines += ["", *_wrap(self.description.strip())]
        if self.positionals:
            lines += ["", "positionals:"]
            lines += [_row(p.name, p.help) for p in self.positionals]
        lines += ["", "options (key=value, anywhere on the line):"]
        for o in self.options:
            if o.required:
                note = "required"
            else:
                shown = o.default_text or (
                    _show(o.default) if o.default is not None and not callable(o.default) else None
                )
                note = f"default: {shown}" if shown else ""
            lines.append(_row(f"{o.name}={o.placeholder()}", f"{o.help}{f' ({note})' if note else ''}"))
        lines.append(_row("-h, --help", "show this help and exit"))
        if self.overrides:
            lines += ["", "config overrides (any other key=value):", *_wrap(self.overrides, "  ", "  ")]
        return "\n".join(lines) + "\n"

    def print_help(self) -> None:
        print(self.usage(), end="")
        sys.exit(0)

    def parse(self, argv: Sequence[str] | None = None) -> Arguments:
        """Typed positionals and options; ``-h``/``--help`` anywhere prints the usage and exits 0."""
        argv = list(sys.argv[1:] if argv is None else argv)
        if wants_help(argv):
            self.print_help()
        for arg in argv:
            if is_flag(arg):
                raise flag_error(arg, self.prog, self.options)
        by_name = {option.name: option for option in self.options}
        words: list[str] = []
        raw: dict[str, str] = {}
        overrides: list[str] = []
        for arg in argv:
            if not is_option(arg):
                words.append(arg)
                continue
            key, _, value = arg.partition("=")
            if key in by_name:
                if key in raw:
                    raise ConfigError(f"{key} is given twice ({key}={raw[key]} and {arg}): give it once")
                raw[key] = value
                continue
            renamed = RENAMED.get(key)
            if renamed in by_name or (renamed and renamed.startswith("paths.") and self.overrides):
                new = f"{renamed}={by_name[renamed].placeholder() if renamed in by_name else 'DIR'}"
                raise ConfigError(f"{arg}: {key}= is now spelled {new} (one spelling for every command)")
            if self.overrides:
                overrides.append(arg)
                continue
            close = difflib.get_close_matches(key, list(by_name), n=3)
            hint = f"did you mean {' or '.join(close)}?" if close else f"options are {', '.join(by_name) or 'none'}"
            raise ConfigError(f"unknown option {key!r} for {self.module}: {hint}")
        values = self._positionals(words)
        for option in self.options:
            if option.name in raw:
                values[option.dest] = option.convert(raw[option.name])
            elif option.required:
                raise ConfigError(
                    f"{self.prog}: missing {option.name}={option.placeholder()} ({option.help}); see {self.prog} --help"
                )
            else:
                values[option.dest] = option.default_value()
        return Arguments(values, overrides, set(raw))

    def _positionals(self, words: list[str]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        rest = list(words)
        for i, p in enumerate(self.positionals):
            later = sum(q.at_least for q in self.positionals[i + 1 :])
            room = len(rest) - later
            take = room if p.at_most is None else min(room, p.at_most)
            if take < p.at_least:
                if p.at_least == 1:
                    raise ConfigError(f"{self.prog}: missing {p.name} (see {self.prog} --help)")
                hint = f"; {p.hint}" if p.hint else ""
                raise ConfigError(f"{self.prog} needs at least {p.at_least} {p.name}s, got {len(rest)}{hint}")
            taken, rest = rest[: max(take, 0)], rest[max(take, 0) :]
            values[p.name.lower()] = (taken[0] if taken else None) if p.at_most == 1 else taken
        if rest:
            if self.positionals and self.positionals[-1].at_most is not None:
                last = self.positionals[-1]
                total = len(words)
                count = "one" if last.at_most == 1 and len(self.positionals) == 1 else str(last.at_most)
                raise ConfigError(
                    f"{self.prog} takes {count} {last.name}, got {total} ({', '.join(words)})"
                    f"{'; ' + last.hint if last.hint else ''}; options are key=value"
                )
            raise ConfigError(f"{self.prog} takes no positional words, got {', '.join(rest)}: options are key=value")
        return values


WIDTH = 100
COLUMN = 28


def _wrap(text: str, indent: str = "", first: str = "") -> list[str]:
    return textwrap.wrap(
        text, WIDTH, initial_indent=first, subsequent_indent=indent, break_on_hyphens=False, break_long_words=False
    ) or [""]


def _row(left: str, right: str) -> str:
    """``  name=VALUE   help text`` with the help wrapped under its column."""
    head = f"  {left}"
    if len(head) >= COLUMN - 1:
        return "\n".join([head, *_wrap(right, " " * COLUMN, " " * COLUMN)])
    body = _wrap(right, " " * COLUMN, " " * COLUMN)
    return "\n".join([head.ljust(COLUMN) + body[0].lstrip(), *body[1:]])


@dataclass(frozen=True)
class Group:
    """``rlft <name> <subcommand> ...``: picks the subcommand (the first positional word)."""

    name: str
    summary: str
    commands: dict[str, Command] = field(default_factory=dict)

    def usage(self) -> str:
        lines = [
            f"usage: rlft {self.name} {'|'.join(self.commands)} ...",
            f"  (python -m rlft.{self.name} ... is the same)",
            "",
            self.summary,
            "",
            "subcommands:",
        ]
        lines += [_row(name, command.summary) for name, command in self.commands.items()]
        lines += ["", f"rlft {self.name} <subcommand> --help shows its options."]
        return "\n".join(lines) + "\n"

    def split(self, argv: Sequence[str] | None = None) -> tuple[str, list[str]]:
        """(subcommand, the other arguments in order); prints the group's usage for a bare --help."""
        argv = list(sys.argv[1:] if argv is None else argv)
        words = [i for i, arg in enumerate(argv) if not is_option(arg) and not is_flag(arg) and arg not in HELP_FLAGS]
        if not words:
            if wants_help(argv):
                print(self.usage(), end="")
                sys.exit(0)
            flags = [arg for arg in argv if is_flag(arg)]
            if flags:
                raise flag_error(flags[0], f"rlft {self.name}", (o for c in self.commands.values() for o in c.options))
            raise ConfigError(
                f"rlft {self.name}: give a subcommand: {', '.join(self.commands)} (see rlft {self.name} --help)"
            )
        first = words[0]
        word = argv[first]
        if word not in self.commands:
            flags = [arg for arg in argv[:first] if is_flag(arg)]
            if flags:
                raise flag_error(flags[0], f"rlft {self.name}", (o for c in self.commands.values() for o in c.options))
            close = difflib.get_close_matches(word, list(self.commands), n=1)
            hint = f"did you mean {close[0]}?" if close else f"use one of {', '.join(self.commands)}"
            raise ConfigError(f"unknown subcommand {word!r} for rlft {self.name}: {hint}")
        return word, argv[:first] + argv[first + 1 :]

    def parse(self, argv: Sequence[str] | None = None) -> tuple[str, Arguments]:
        word, rest = self.split(argv)
        return word, self.commands[word].parse(rest)


def registry_option() -> Option:
    return Option(
        "paths.registry",
        "path",
        default=default_registry,
        metavar="DIR",
        default_text="$RLFT_REGISTRY, else champions",
        help="the champion registry root",
    )


def which_option(default: str) -> Option:
    return Option(
        "which", "str", default=default, choices=("best", "final"), help="which model of a run folder: best/ or final/"
    )


def source_options(which: str = "final") -> tuple[Option, ...]:
    """How a MODEL source is picked (``rlft.champions.sources``), the same for every command that
    takes one: ``which=``, ``checkpoint=<step>``, ``trust_pickle=true`` (training: ``init_which``,
    ``init_checkpoint``, ``trust_pickle``)."""
    return (
        which_option(which),
        Option("checkpoint", "int", minimum=0, metavar="STEP", help="a run folder's checkpoint at this step instead"),
        Option(
            "trust_pickle",
            "bool",
            default=False,
            help="read an SB3 zip from outside rlft's runs (its data unpickles, which can run code)",
        ),
    )
