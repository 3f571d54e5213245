"""The rlft console script: every command reachable, help without heavy imports, one-line errors."""

from __future__ import annotations

import pytest

from rlft import console
from rlft.errors import ConfigError
from rlft.init import FILES, write_project


def test_help_lists_every_command(capsys) -> None:
    with pytest.raises(SystemExit) as done:
        console.main(["--help"])
    assert done.value.code == 0
    shown = capsys.readouterr().out
    for name in (
        "train",
        "init",
        "register",
        "champions",
        "evaluate",
        "compare",
        "promote",
        "export",
        "traces",
        "sweep",
        "demo",
    ):
        assert f"  {name} " in shown


def test_every_command_module_has_a_main() -> None:
    import importlib

    for name, (module, _) in console.COMMANDS.items():
        assert callable(importlib.import_module(module).main), name


def test_an_unknown_command_suggests_the_closest(capsys) -> None:
    with pytest.raises(SystemExit) as done:
        console.main(["evalute", "x"])
    err = capsys.readouterr().err
    assert done.value.code == 2 and err.startswith("error: unknown command 'evalute': did you mean rlft evaluate?")
    assert len(err.strip().splitlines()) == 1


def test_init_writes_a_project_once(tmp_path) -> None:
    written = write_project(tmp_path / "p")
    assert sorted(p.relative_to(tmp_path / "p").as_posix() for p in written) == sorted(FILES)
    assert not [p for p in (tmp_path / "p").iterdir() if p.name.startswith(".rlft-init-")], "no staging left"
    before = (tmp_path / "p" / "conf" / "env" / "my_env.yaml").read_text()
    with pytest.raises(ConfigError, match="exists already"):
        write_project(tmp_path / "p")
    assert (tmp_path / "p" / "conf" / "env" / "my_env.yaml").read_text() == before, "nothing overwritten"


def test_init_through_the_console(tmp_path, capsys) -> None:
    console.main(["init", str(tmp_path / "q")])
    assert "rlft train env=my_env" in capsys.readouterr().out
    with pytest.raises(SystemExit) as done:
        console.main(["init", str(tmp_path / "q")])
    assert done.value.code == 2
