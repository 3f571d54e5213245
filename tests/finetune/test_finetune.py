"""Fine-tuning a champion: config completion, the untouched champion, bad input."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from rlft.champions.registry import Registry
from rlft.workflows import effective_config
from tests.conftest import TINY_CURVE, compose_config, run_cli, tiny_run


@pytest.fixture(scope="module")
def registry(tmp_path_factory) -> Registry:
    root = tmp_path_factory.mktemp("ft")
    run = tiny_run(root / "run", "stage=2", "hparams.ent_coef=0.02")
    registry = Registry(root / "champions")
    registry.register(run.root, "base", force=True)
    return registry


def _effective(registry: Registry, *overrides: str):
    overrides = (*overrides, f"paths.registry={registry.root}")
    return effective_config(compose_config(list(overrides)), list(overrides))


def test_groups_the_user_did_not_choose_come_from_the_champion(registry: Registry) -> None:
    cfg = _effective(registry, "champion.name=base", "env=curve_trace_decoupled", "hparams=ppo")
    assert cfg.champion.name == "base@v1", "the version is pinned"
    assert cfg.env.name == "curve_trace_decoupled"  # chosen: kept (validation then refuses the fit)

    cfg = _effective(registry, "champion.name=base", "stage=3", "hparams.lr=1e-6")
    assert cfg.stage.name == "3" and cfg.hparams.lr == 1e-6
    assert cfg.hparams.ent_coef == 0.02, "the champion's hyperparameters are the defaults"
    assert cfg.hparams.policy_kwargs.features_extractor_kwargs.channels == [4, 4], "the champion's network"
    assert cfg.experiment_name == "base_stage3"

    cfg = _effective(registry, "champion.name=base")
    assert cfg.stage.name == "2", "no stage chosen: the champion's"


def test_experiment_file_settings_win_over_the_champion(registry: Registry) -> None:
    cfg = _effective(registry, "experiment=finetune_noisy_stage3", "champion.name=base")
    assert cfg.stage.name == "3" and cfg.experiment_name == "ft_noisy_stage3"
    assert (cfg.hparams.lr, cfg.hparams.lr_schedule, cfg.hparams.clip_range) == (1.0e-4, "linear", 0.1)
    assert cfg.hparams.ent_coef == 0.005 and cfg.stage_overrides.noise_sigma == 0.08
    assert cfg.hparams.n_steps == 64, "keys the experiment does not set stay the champion's"


def test_the_progressive_example_composes_and_validates(registry: Registry) -> None:
    from rlft.finetune.schema import validate_finetune as validate_finetune_settings

    cfg = _effective(registry, "experiment=finetune_progressive_stage3", "champion.name=base")
    assert cfg.hparams.total_timesteps == 100_000, "the budget is the phases' sum"
    assert (cfg.finetune.anchor, cfg.finetune.optimizer, len(cfg.finetune.phases)) == ("ewc", "kept", 2)
    validate_finetune_settings(cfg)


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_fine_tune_run_leaves_the_champion_byte_identical(registry: Registry, tmp_path: Path) -> None:
    champion = registry.get("base")
    before = _digest(champion.folder)
    out = tmp_path / "outputs"
    done = run_cli(
        [
            "champion=base",
            "stage=3",
            "hparams.lr=1e-4",
            f"paths.registry={registry.root}",
            f"paths.output_dir={out}",
            *TINY_CURVE,
        ],
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (run,) = (out / "finetune").iterdir()
    assert run.name.startswith("FT_base_stage3_")
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["kind"] == "finetune" and metrics["champion"] == "base@v1" and metrics["status"] == "completed"
    assert (run / ".hydra" / "composed_config.yaml").is_file()
    assert "base@v1" in (run / ".hydra" / "config.yaml").read_text()
    assert _digest(champion.folder) == before
    registry.verify("base")
    # before/after on the target (3) and the champion's original stage (2), paired seeds, intervals
    pre_post = metrics["pre_post"]
    assert pre_post["target"]["stage"] == "3" and pre_post["original"]["stage"] == "2"
    for part in ("target", "original"):
        for when in ("before", "after"):
            low, high = pre_post[part][when]["success_ci95"]
            assert 0.0 <= low <= pre_post[part][when]["success_rate"] <= high <= 1.0
        assert pre_post[part]["change"]["metric"] == "success_rate"
    assert metrics["before"]["target"] == pre_post["target"]["before"]
    assert set(pre_post["verdict"]) == {"improved", "forgot", "summary"}
    assert (run / "plots" / "pre_post.png").is_file()
    assert "target 3" in done.stdout and "original 2" in done.stdout  # the printed table


@pytest.mark.parametrize(
    "args,message",
    [
        (["champion=nobody"], "not in the registry"),
        (["champion=base", "env=curve_trace_decoupled"], "action space is {'type': 'Discrete', 'n': 9}"),
        (["champion=base", "env=cartpole"], "its observation space is"),
    ],
)
def test_bad_fine_tunes_fail_before_anything_is_written(
    registry: Registry, tmp_path: Path, args: list[str], message: str
) -> None:
    out = tmp_path / "outputs"
    done = run_cli([*args, f"paths.registry={registry.root}", f"paths.output_dir={out}"], cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and message in done.stderr
    assert not out.exists()


def test_a_tampered_champion_is_refused(registry: Registry, tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "champions"
    shutil.copytree(registry.root, root)
    weights = root / "base" / "policy.safetensors"
    weights.chmod(0o644)
    weights.write_bytes(weights.read_bytes()[:-8] + b"\x00" * 8)
    out = tmp_path / "outputs"
    done = run_cli(["champion=base", f"paths.registry={root}", f"paths.output_dir={out}"], cwd=tmp_path)
    assert done.returncode == 2 and "sha256" in done.stderr and not out.exists()


def test_verdict_reads_the_paired_intervals() -> None:
    from rlft.finetune.pre_post import compare, verdict

    def summary(successes: list[int]) -> dict:
        return {
            "success_rate": sum(successes) / len(successes),
            "successes": successes,
            "mean_reward": 0.0,
            "rewards": [0.0] * len(successes),
        }

    before, better = summary([0] * 50 + [1] * 50), summary([0] * 10 + [1] * 90)
    worse = summary([0] * 80 + [1] * 20)
    change = compare(before, better)
    assert change["delta"] == pytest.approx(0.4) and change["delta_ci95"][0] > 0
    assert change["retention"] == pytest.approx(1.8)
    result = verdict({"target": {"change": change}, "original": {"change": compare(before, worse)}})
    assert result["improved"] and result["forgot"]
    same = verdict({"target": {"change": compare(before, before)}})
    assert not same["improved"] and not same["forgot"]
