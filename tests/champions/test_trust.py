"""Untrusted champions: the allowlist of what a manifest may import, folders that must be what they
say, and optional signatures. Nothing a refused manifest names is ever imported or run."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from rlft.champions.manifest import sha256
from rlft.champions.registry import Champion, Registry, TamperedChampion
from rlft.errors import ConfigError
from rlft.runs.layout import RunFolder
from tests.conftest import TINY_CURVE, run_cli, tiny_run

MARKER_TARGET = "tests.champions.marker.touch"
REFUSED = r"env\._target_='{}' is not an allowed module \(allowed: rlft, gymnasium, .*paths\.trusted_modules"


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> RunFolder:
    return tiny_run(tmp_path_factory.mktemp("runs") / "standard")


@pytest.fixture(autouse=True)
def no_key_no_trust(monkeypatch) -> None:
    for var in ("RLFT_SIGNING_KEY", "RLFT_SIGNING_KEY_FILE", "RLFT_TRUSTED_MODULES"):
        monkeypatch.delenv(var, raising=False)


def _rewrite(champion: Champion, change: Any) -> None:
    """Edit the manifest like an attacker with write access: ``change(manifest)``, then re-hash."""
    path = champion.folder / "manifest.json"
    manifest = json.loads(path.read_text())
    change(manifest)
    for file in (path, champion.folder / "manifest.sha256"):
        file.chmod(0o644)
    path.write_text(json.dumps(manifest))
    (champion.folder / "manifest.sha256").write_text(sha256(path))


def _hostile_env(target: str, kwargs: dict[str, Any]) -> Any:
    def change(manifest: dict[str, Any]) -> None:
        manifest["env"].update(id=None, _target_=target, vec_env="dummy", kwargs=kwargs)

    return change


@pytest.mark.parametrize("target", ["os.system", MARKER_TARGET])
def test_a_tampered_env_target_is_refused_everywhere_and_never_runs(
    trained: RunFolder, tmp_path: Path, target: str
) -> None:
    registry = Registry(tmp_path / "champions")
    marker = tmp_path / "ran"
    kwargs = {"command": f"touch {marker}"} if target == "os.system" else {"path": str(marker)}
    _rewrite(registry.register(trained.root, "evil", force=True), _hostile_env(target, kwargs))
    sys.modules.pop("tests.champions.marker", None)
    refused = REFUSED.format(target)
    with pytest.raises(ConfigError, match=refused):
        registry.verify("evil")
    with pytest.raises(ConfigError, match=refused):
        registry.load_model("evil")  # what evaluate and export load through
    assert "tests.champions.marker" not in sys.modules, "refused before the import"
    root = f"paths.registry={tmp_path / 'champions'}"
    out = tmp_path / "outputs"
    commands = (
        ("rlft.champions", ["verify", "evil", root]),
        ("rlft.evaluate", ["evil", root, "episodes=2", f"out={tmp_path / 'ev'}"]),
        ("rlft.train", ["champion=evil", root, f"paths.output_dir={out}", *TINY_CURVE]),
    )
    for module, args in commands if target == "os.system" else ():  # the command lines once: ~3 s each
        done = run_cli(args, cwd=tmp_path, module=module)
        assert done.returncode == 2, (module, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error: champion evil@v1: ") and target in lines[0], lines
    assert not marker.exists(), "the hostile target never ran"
    assert not out.exists() and not (tmp_path / "ev").exists(), "nothing written"


def test_trusted_modules_admit_a_user_package(trained: RunFolder, tmp_path: Path, monkeypatch) -> None:
    root = tmp_path / "champions"
    _rewrite(
        Registry(root).register(trained.root, "mine", force=True),
        _hostile_env(MARKER_TARGET, {"path": str(tmp_path / "ran")}),
    )
    with pytest.raises(ConfigError, match=REFUSED.format(MARKER_TARGET)):
        Registry(root).get("mine")
    assert Registry(root, trusted_modules=["tests.champions"]).verify("mine").ref == "mine@v1"
    monkeypatch.setenv("RLFT_TRUSTED_MODULES", "numpy, tests")
    assert Registry(root).verify("mine").ref == "mine@v1"
    assert not (tmp_path / "ran").exists(), "verifying imports, it never calls"


def test_paths_the_projects_own_env_options_name_are_trusted(trained: RunFolder, tmp_path: Path, monkeypatch) -> None:
    """A champion of the user's own env (named in their conf/env/) loads without trusted_modules;
    a path the project does not name stays refused."""
    root = tmp_path / "champions"
    _rewrite(
        Registry(root).register(trained.root, "mine", force=True),
        _hostile_env(MARKER_TARGET, {"path": str(tmp_path / "ran")}),
    )
    project = tmp_path / "project"
    (project / "conf" / "env").mkdir(parents=True)
    (project / "conf" / "env" / "other.yaml").write_text("name: other\n_target_: tests.champions.marker.other\n")
    monkeypatch.chdir(project)
    with pytest.raises(ConfigError, match=REFUSED.format(MARKER_TARGET)):
        Registry(root).get("mine")
    (project / "conf" / "env" / "mine.yaml").write_text(f"name: mine\n_target_: {MARKER_TARGET}\n")
    assert Registry(root).verify("mine").ref == "mine@v1"
    assert not (tmp_path / "ran").exists(), "verifying imports, it never calls"


def test_built_in_roots_may_name_only_classes(trained: RunFolder, tmp_path: Path) -> None:
    registry = Registry(tmp_path / "champions")
    pickle_loader = "stable_baselines3.common.save_util.load_from_pkl"
    _rewrite(registry.register(trained.root, "pkl", force=True), _hostile_env(pickle_loader, {"path": "x.pkl"}))
    with pytest.raises(ConfigError, match=f"env._target_='{pickle_loader}' is not a class"):
        registry.verify("pkl")


@pytest.mark.parametrize(
    "target,refused",
    [
        ("os.system", r"env\.wrappers\[1\]\._target_='os\.system' is not an allowed module"),
        (
            "stable_baselines3.common.save_util.load_from_pkl",
            r"env\.wrappers\[1\]\._target_='.*load_from_pkl' is not a class",
        ),
    ],
)
def test_a_tampered_wrapper_target_is_refused_like_an_env_target(
    trained: RunFolder, tmp_path: Path, target: str, refused: str
) -> None:
    registry = Registry(tmp_path / "champions")
    wrappers = [{"_target_": "gymnasium.wrappers.RecordEpisodeStatistics"}, {"_target_": target, "path": "x"}]
    _rewrite(registry.register(trained.root, "wrapped", force=True), lambda m: m["env"].update(wrappers=wrappers))
    with pytest.raises(ConfigError, match=refused):
        registry.load_model("wrapped")


def test_a_run_naming_untrusted_code_is_not_banked(trained: RunFolder, tmp_path: Path) -> None:
    import shutil

    from omegaconf import OmegaConf

    run = tmp_path / "run"
    shutil.copytree(trained.root, run)
    config = RunFolder(run).config_file
    cfg = OmegaConf.load(config)
    cfg.env.vec_env = "my_pkg.FastVecEnv"
    config.write_text(OmegaConf.to_yaml(cfg))
    root = tmp_path / "champions"
    with pytest.raises(ConfigError, match=r"run .*: env\.vec_env='my_pkg\.FastVecEnv' is not an allowed module"):
        Registry(root).register(run, "x", force=True)
    assert not root.exists() or not [p.name for p in root.iterdir() if not p.name.startswith(".")]


def test_symlinked_or_renamed_versions_are_refused(trained: RunFolder, tmp_path: Path, capsys) -> None:
    import shutil

    root = tmp_path / "champions"
    registry = Registry(root)
    first = registry.register(trained.root, "s", force=True)
    os.symlink(first.folder, root / "s@v7")
    for look in (registry.get, registry.verify):
        with pytest.raises(TamperedChampion, match=r"s@v7 in .* is a symbolic link"):
            look("s")
    rc, _, stderr = _verify_lines(capsys, root, "s")
    assert rc == 2 and stderr.startswith("error: champion s: s@v7") and len(stderr.strip().splitlines()) == 1
    shutil.copytree(first.folder, root / "copied")
    with pytest.raises(TamperedChampion, match="copied@v1: its manifest says 's' version 1"):
        registry.verify("copied")


def _verify_lines(capsys, root: Path, ref: str) -> tuple[int, list[str], str]:
    """``rlft champions verify REF`` in this process: (exit status, stdout lines, stderr)."""
    from rlft.champions.__main__ import main

    try:
        main(["verify", ref, f"paths.registry={root}"])
        rc = 0
    except SystemExit as exit_:
        rc = int(exit_.code)
    out, err = capsys.readouterr()
    return rc, out.strip().splitlines(), err


def test_signing_round_trip(trained: RunFolder, tmp_path: Path, monkeypatch, capsys) -> None:
    root = tmp_path / "champions"
    unsigned = Registry(root).register(trained.root, "plain", force=True)
    monkeypatch.setenv("RLFT_SIGNING_KEY", "s3cret-for-tests")
    registry = Registry(root)
    signed = registry.register(trained.root, "signed", force=True)
    stored = json.loads((signed.folder / "signature.json").read_text())
    assert stored["algorithm"] == "hmac-sha256" and "s3cret" not in json.dumps(stored)
    assert not (unsigned.folder / "signature.json").exists()

    rc, lines, _ = _verify_lines(capsys, root, "signed")
    assert rc == 0 and lines == [
        f"signed@v1: checksums ok ({len(signed.manifest['files'])} files match their sha256)",
        "signed@v1: allowlist ok (every module its manifest names is trusted)",
        "signed@v1: signature: valid",
    ]

    _rewrite(signed, lambda m: m.update(seed=m["seed"] + 1))  # one byte, re-hashed: checksums pass
    rc, lines, stderr = _verify_lines(capsys, root, "signed")
    assert rc == 2 and lines[-1] == "signed@v1: signature: invalid" and "does not match the manifest" in stderr
    with pytest.raises(ConfigError, match="signed@v1: signature.json does not match"):
        registry.load_model("signed")

    rc, lines, stderr = _verify_lines(capsys, root, "plain")
    assert (
        rc == 2
        and lines[-1] == "plain@v1: signature: unsigned"
        and "unsigned, and a signing key is configured" in stderr
    )
    with pytest.raises(ConfigError, match="plain@v1: unsigned"):
        registry.load_model("plain")

    monkeypatch.setenv("RLFT_SIGNING_KEY", "another-key")
    with pytest.raises(ConfigError, match="signed with another key"):
        registry.verify("signed@v1")

    monkeypatch.delenv("RLFT_SIGNING_KEY")
    rc, lines, _ = _verify_lines(capsys, root, "plain")
    assert rc == 0 and lines[-1] == "plain@v1: signature: unsigned"
    rc, lines, _ = _verify_lines(capsys, root, "signed")
    assert rc == 0 and lines[-1] == "signed@v1: signature: not checked (no key configured)"
    model, champion = registry.load_model("plain")
    assert champion.ref == "plain@v1" and model.policy is not None


def test_a_key_file_signs_too(trained: RunFolder, tmp_path: Path) -> None:
    key = tmp_path / "key"
    key.write_text("from-a-file\n")
    registry = Registry(tmp_path / "champions", signing_key=str(key))
    registry.register(trained.root, "k", force=True)
    assert registry.check("k")[1] == "valid"
    assert Registry(tmp_path / "champions").check("k")[1] == "not checked (no key configured)"
    with pytest.raises(ConfigError, match="signing key file .*missing.* cannot be read"):
        Registry(tmp_path / "champions", signing_key=str(tmp_path / "missing")).verify("k")
