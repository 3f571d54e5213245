"""rlft.arguments: one grammar for every command (positionals, key=value anywhere, -h/--help), typed
values, one-line refusals; and every command's --help and bad input, called in-process."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest

from rlft import compare, evaluate, promote, register
from rlft.arguments import Command, Group, Option, Positional, default_registry, registry_option
from rlft.champions import __main__ as champions
from rlft.errors import ConfigError
from rlft.export import __main__ as export
from rlft.sweep import __main__ as sweep
from rlft.traces import __main__ as traces
from tests.conftest import REPO

TOY = Command(
    "toy",
    "A toy command.",
    positionals=(Positional("RUN", "a run folder"),),
    options=(
        Option("count", "int", default=3, minimum=1, help="how many"),
        Option("rate", "float", default=0.5, help="a rate"),
        Option("flag", "bool", default=False, help="a switch"),
        Option("where", "path", metavar="DIR", help="a folder"),
        Option("names", "list", help="some names"),
        Option("label", "str", required=True, metavar="NAME", help="a label"),
        Option("min_success", "float", default=0.9, help="a gate"),
        registry_option(),
    ),
)


def test_typed_values_and_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RLFT_REGISTRY", "/somewhere/champions")
    args = TOY.parse(["run1", "label=x", "count=7", "rate=1e-3", "flag=YES", "where=~/data", "names=[a, b,'c']"])
    assert (args.run, args.label, args.count, args.rate, args.flag) == ("run1", "x", 7, 0.001, True)
    assert args.where == Path("~/data").expanduser() and args.names == ["a", "b", "c"]
    assert args.paths_registry == Path("/somewhere/champions") == args["paths.registry"], "the default read at parse"
    assert args.given == {"label", "count", "rate", "flag", "where", "names"}
    defaults = TOY.parse(["label=y", "r"])
    assert (defaults.count, defaults.rate, defaults.flag, defaults.where, defaults.names) == (3, 0.5, False, None, None)
    for text, value in (("true", True), ("1", True), ("no", False), ("False", False), ("0", False)):
        assert TOY.parse(["r", "label=x", f"flag={text}"]).flag is value


def test_options_go_anywhere() -> None:
    orders = (["run1", "label=x", "count=2"], ["label=x", "run1", "count=2"], ["count=2", "label=x", "run1"])
    assert len({repr(TOY.parse(argv).values) for argv in orders}) == 1


@pytest.mark.parametrize(
    "item,message",
    [
        ("count=x", "count=x is not an integer"),
        ("count=1.5", "count=1.5 is not an integer"),
        ("count=0", "count=0 is out of range: it must be >= 1"),
        ("count=", "count= needs a value"),
        ("rate=nan", "rate=nan is not a finite number"),
        ("rate=NaN", "rate=NaN is not a finite number"),
        ("rate=inf", "rate=inf is not a finite number"),
        ("rate=-inf", "rate=-inf is not a finite number"),
        ("rate=fast", "rate=fast is not a number"),
        ("flag=maybe", "flag=maybe is not valid: use true or false"),
        ("names=[]", "names=[] is empty"),
        ("min_sucess=0.5", "unknown option 'min_sucess' for rlft.toy: did you mean min_success?"),
        ("zzz=1", "unknown option 'zzz' for rlft.toy: options are count, rate"),
        ("registry=x", "registry=x: registry= is now spelled paths.registry=DIR"),
        ("--registry", "--registry: options are key=value: use paths.registry=DIR"),
        ("--flag", "--flag: options are key=value: use flag=true"),
        ("--min-success", "--min-success: options are key=value: use min_success=X"),
        ("label=again", "label is given twice"),
        ("extra", "rlft toy takes one RUN, got 2 (run1, extra)"),
    ],
)
def test_bad_values_are_one_line_config_errors(item: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        TOY.parse(["run1", "label=x", item])
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)


def test_missing_positional_and_required_option_are_named() -> None:
    with pytest.raises(ConfigError, match="rlft toy: missing RUN"):
        TOY.parse(["label=x"])
    with pytest.raises(ConfigError, match="rlft toy: missing label=NAME"):
        TOY.parse(["run1"])


def test_a_command_with_overrides_passes_the_rest_on_in_order() -> None:
    command = Command(
        "judge",
        "x",
        positionals=(Positional("MODEL", at_least=2, at_most=None),),
        options=(Option("episodes", "int", default=100),),
        overrides="config overrides",
    )
    args = command.parse(
        [
            "env=cartpole",
            "a",
            "episodes=5",
            "b",
            "stage_overrides.noise=0.1",
            "c",
            "~eval.seed",
            "+x.y=1",
            "paths.output_dir=o",
        ]
    )
    assert args.model == ["a", "b", "c"] and args.episodes == 5
    assert args.overrides == ["env=cartpole", "stage_overrides.noise=0.1", "~eval.seed", "+x.y=1", "paths.output_dir=o"]
    with pytest.raises(ConfigError, match="needs at least 2 MODELs, got 1"):
        command.parse(["a"])
    with pytest.raises(ConfigError, match="output_dir= is now spelled paths.output_dir=DIR"):
        command.parse(["a", "b", "output_dir=o"])


def test_a_run_folder_whose_name_holds_an_equals_sign_is_a_positional(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "lr=0.1").mkdir()
    monkeypatch.chdir(tmp_path)
    assert TOY.parse(["lr=0.1", "label=x"]).run == "lr=0.1"


def test_a_group_finds_its_subcommand_anywhere() -> None:
    group = Group(
        "things",
        "x",
        {"show": Command("things show", "y", positionals=(Positional("NAME"),), options=(registry_option(),))},
    )
    word, args = group.parse(["paths.registry=r", "show", "a"])
    assert word == "show" and args.name == "a" and args.paths_registry == Path("r")
    for argv, message in (
        (["shwo", "a"], "unknown subcommand 'shwo' for rlft things: did you mean show?"),
        ([], "rlft things: give a subcommand: show"),
        (["--registry", "r", "show", "a"], "--registry: options are key=value: use paths.registry"),
    ):
        with pytest.raises(ConfigError, match=message):
            group.parse(argv)


def test_the_registry_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RLFT_REGISTRY", raising=False)
    assert default_registry() == "champions" == register.default_registry()
    monkeypatch.setenv("RLFT_REGISTRY", "/r")
    assert default_registry() == "/r"


def test_the_parser_module_is_light() -> None:
    code = (
        "import sys, rlft.arguments, rlft.register, rlft.traces.cli, rlft.champions.__main__; "
        "print(sorted(m for m in ('torch', 'stable_baselines3', 'hydra', 'omegaconf') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


# -- every command: --help and bad input, in-process ------------------------------------------------------------

Main = Callable[[list[str] | None], None]

COMMANDS: list[tuple[str, Main, list[str], list[str]]] = [  # name, main, argv before --help, options to show
    ("register", register.main, [], ["name=NAME", "min_success=", "force=", "which=best|final", "paths.registry="]),
    ("promote", promote.main, [], ["tolerance=", "paths.registry="]),
    ("champions", champions.main, [], ["list", "show", "verify"]),
    ("champions list", champions.main, ["list"], ["paths.registry="]),
    ("champions show", champions.main, ["show"], ["NAME", "paths.registry="]),
    ("champions verify", champions.main, ["verify"], ["NAME", "paths.registry="]),
    ("export", export.main, [], ["format=sb3|hf|onnx", "out=DIR", "paths.registry="]),
    ("traces", traces.main, [], ["record", "filter"]),
    (
        "traces record",
        traces.main,
        ["record"],
        [
            "MODEL",
            "episodes=",
            "out=DIR",
            "deterministic=",
            "first_seed=",
            "chunk=",
            "which=",
            "paths.registry=",
            "config overrides",
        ],
    ),
    (
        "traces filter",
        traces.main,
        ["filter"],
        [
            "in=DIR",
            "out=DIR",
            "min_reward=",
            "min_success=",
            "min_achievements=",
            "achievement_types=",
            "min_achievement_types=",
            "max_length=",
            "where=",
            "stats_only=",
            "memory_limit=",
        ],
    ),
    ("sweep", sweep.main, [], ["summarize"]),
    ("sweep summarize", sweep.main, ["summarize"], ["DIR", "tensorboard="]),
    (
        "evaluate",
        evaluate.main,
        [],
        ["MODEL", "stages=", "episodes=", "deterministic=", "which=", "out=", "paths.registry=", "config overrides"],
    ),
    ("compare", compare.main, [], ["MODEL MODEL [MODEL ...]", "stages=", "episodes=", "out=", "paths.registry="]),
]


@pytest.mark.parametrize("flag", ["--help", "-h"])
@pytest.mark.parametrize("name,main,before,shown", COMMANDS, ids=[c[0] for c in COMMANDS])
def test_help_prints_the_usage_and_exits_0(
    name: str, main: Main, before: list[str], shown: list[str], flag: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        main([*before, flag])
    assert caught.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: rlft {name} ") and f"python -m rlft.{name} ... is the same" in out
    for text in shown:
        assert text in out, text


@pytest.mark.parametrize(
    "argv",
    [
        ["register", "run", "name=x", "--help"],
        ["champions", "verify", "x", "-h"],
        ["champions", "-h", "verify"],
        ["evaluate", "--help", "oracle", "episodes=x"],
        ["traces", "record", "oracle", "first_seed=x", "--help"],
    ],
)
def test_help_anywhere_wins_over_the_other_arguments(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    main = {"register": register.main, "champions": champions.main, "evaluate": evaluate.main, "traces": traces.main}[
        argv[0]
    ]
    with pytest.raises(SystemExit) as caught:
        main(argv[1:])
    assert caught.value.code == 0 and capsys.readouterr().out.startswith("usage: rlft ")


BAD: list[tuple[Main, list[str], str]] = [  # {reg}: a registry folder, {out}: an output folder, {tmp}: the tmp folder
    (register.main, ["{tmp}/run", "--name", "x"], "--name: options are key=value: use name=NAME"),
    (
        register.main,
        ["{tmp}/run", "name=x", "min_sucess=0.5", "paths.registry={reg}"],
        "unknown option 'min_sucess' for rlft.register: did you mean min_success?",
    ),
    (register.main, ["{tmp}/run", "paths.registry={reg}"], "missing name=NAME"),
    (register.main, ["name=x", "paths.registry={reg}"], "missing RUN"),
    (register.main, ["{tmp}/run", "name=x", "min_success=nan", "paths.registry={reg}"], "min_success=nan"),
    (register.main, ["{tmp}/run", "name=x", "force=maybe", "paths.registry={reg}"], "force=maybe"),
    (register.main, ["{tmp}/run", "name=x", "which=middle", "paths.registry={reg}"], "which=middle"),
    (register.main, ["{tmp}/run", "name=x", "--from", "final"], "--from: options are key=value: use which="),
    (register.main, ["{tmp}/run", "name=x", "paths.registry={reg}"], "not an rlft run folder"),
    (promote.main, ["{tmp}/run", "--tolerance", "0.1"], "--tolerance: options are key=value: use tolerance="),
    (promote.main, ["{tmp}/run", "tolerance=inf", "paths.registry={reg}"], "tolerance=inf is not a finite number"),
    (promote.main, ["{tmp}/run", "tolerance=2", "paths.registry={reg}"], "tolerance=2 is out of range"),
    (promote.main, ["{tmp}/run", "paths.registry={reg}"], "no metrics.json"),
    (champions.main, ["--registry", "{reg}", "list"], "--registry: options are key=value: use paths.registry=DIR"),
    (champions.main, ["lst", "paths.registry={reg}"], "did you mean list?"),
    (champions.main, [], "give a subcommand"),
    (champions.main, ["show", "paths.registry={reg}"], "missing NAME"),
    (champions.main, ["verify", "nope", "paths.registry={reg}"], "not in the registry"),
    (champions.main, ["list", "registry={reg}"], "registry= is now spelled paths.registry=DIR"),
    (export.main, ["base", "--format", "sb3"], "--format: options are key=value: use format=sb3|hf|onnx"),
    (export.main, ["base", "format=zip", "out={out}", "paths.registry={reg}"], "format=zip is not valid"),
    (export.main, ["base", "format=sb3", "paths.registry={reg}"], "missing out=DIR"),
    (export.main, ["base", "fromat=sb3", "out={out}"], "did you mean format?"),
    (traces.main, ["record", "oracle", "first_seed=x", "out={out}"], "first_seed=x is not an integer"),
    (traces.main, ["record", "oracle", "chunk=0", "out={out}"], "chunk=0 is out of range"),
    (traces.main, ["record", "oracle", "episodes=1.5", "out={out}"], "episodes=1.5 is not an integer"),
    (traces.main, ["record", "oracle", "episodes=2"], "missing out=DIR"),
    (traces.main, ["record", "oracle", "stages=[1]", "out={out}"], "record plays one stage"),
    (traces.main, ["record", "oracle", "--out", "{out}"], "--out: options are key=value: use out=DIR"),
    (traces.main, ["filter", "--input", "{tmp}/t", "--output", "{out}"], "--input: options are key=value: use in=DIR"),
    (traces.main, ["filter", "out={out}"], "missing in=DIR"),
    (traces.main, ["filter", "in={tmp}/t", "min_reward=nan", "out={out}"], "min_reward=nan is not a finite number"),
    (traces.main, ["filter", "in={tmp}/t", "min_sucess=true", "out={out}"], "did you mean min_success?"),
    (traces.main, ["filter", "in={tmp}/t", "out={out}"], "not a trace store"),
    (traces.main, ["recrod", "oracle"], "did you mean record?"),
    (
        sweep.main,
        ["summarize", "{tmp}/s", "--no-tensorboard"],
        "--no-tensorboard: options are key=value: use tensorboard=false",
    ),
    (sweep.main, ["summarize"], "missing DIR"),
    (sweep.main, ["summarize", "{tmp}/s", "tensorboard=maybe"], "tensorboard=maybe"),
    (sweep.main, ["summarise", "{tmp}/s"], "did you mean summarize?"),
    (sweep.main, ["summarize", "{tmp}"], "holds no sweep jobs"),
    (evaluate.main, ["--registry", "{reg}", "oracle"], "--registry: options are key=value: use paths.registry=DIR"),
    (evaluate.main, ["oracle", "registry={reg}", "out={out}"], "registry= is now spelled paths.registry=DIR"),
    (evaluate.main, ["oracle", "episodes=0", "out={out}"], "episodes=0 is out of range"),
    (evaluate.main, ["oracle", "deterministic=maybe", "out={out}"], "deterministic=maybe"),
    (evaluate.main, ["oracle", "oracle", "out={out}"], "takes one MODEL, got 2"),
    (evaluate.main, ["out={out}"], "missing MODEL"),
    (evaluate.main, ["oracle", "stages=[]", "out={out}"], "stages=[] is empty"),
    (evaluate.main, ["oracle", "stages=[1,99]", "out={out}"], "'99' is not a stage option"),
    (evaluate.main, ["nosuchchampion", "out={out}", "paths.registry={reg}"], "not in the registry"),
    (compare.main, ["oracle", "out={out}"], "needs at least 2 MODELs, got 1"),
    (compare.main, ["oracle", "oracle:greedy", "--out", "{out}"], "--out: options are key=value: use out=DIR"),
]


@pytest.mark.parametrize("main,argv,message", BAD, ids=[f"{m.__module__}:{' '.join(a)}" for m, a, _ in BAD])
def test_bad_input_is_one_line_exit_2_and_writes_nothing(
    main: Main,
    argv: list[str],
    message: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RLFT_REGISTRY", str(tmp_path / "reg"))
    argv = [a.format(tmp=tmp_path, reg=tmp_path / "reg", out=tmp_path / "out") for a in argv]
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0], captured.err
    assert not captured.out
    assert not list(tmp_path.rglob("*")), "nothing written"


def test_evaluate_composes_the_rest_as_config_overrides(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        evaluate.main(["oracle", "no_such_group.key=1", f"out={tmp_path / 'out'}"])
    assert caught.value.code == 2 and capsys.readouterr().err.startswith("error: ")
    assert not (tmp_path / "out").exists()
    result, folder = evaluate.run(
        [f"out={tmp_path / 'ev'}", "episodes=2", "oracle", "stage_overrides.noise_sigma=0.0", "stages=[1]"]
    )
    assert result["overrides"] == ["stage_overrides.noise_sigma=0.0"] and result["episodes"] == 2
    assert folder == tmp_path / "ev" and math.isfinite(result["stages"][0]["mean_reward"])
