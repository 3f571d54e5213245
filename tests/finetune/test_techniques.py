"""Fine-tune techniques as config switches: L2-SP anchoring, rehearsal on the original stage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch as th
from stable_baselines3 import PPO

from rlft.champions.registry import Registry
from rlft.config.validate import validate_finetune_settings
from rlft.errors import ConfigError
from rlft.finetune.anchor import anchor_weights, attach_l2sp, l2_distance
from tests.champions.test_registry import TINY_CURVE
from tests.conftest import TINY, compose_config, run_cli
from tests.finetune.test_finetune import registry  # noqa: F401  (module fixture: a champion "base")


def test_the_pull_moves_weights_towards_the_anchor() -> None:
    model = PPO("MlpPolicy", "CartPole-v1", seed=0, device="cpu")
    anchor = anchor_weights(model)
    with th.no_grad():
        for p in model.policy.parameters():
            p.add_(1.0)
    before = l2_distance(model, anchor)
    attach_l2sp(model, anchor, coef=10.0)
    for group in model.policy.optimizer.param_groups:
        group["lr"] = 0.05  # Adam moves ~lr per step whatever the gradient's scale
    model.policy.optimizer.zero_grad()
    for p in model.policy.parameters():
        p.grad = th.zeros_like(p)  # only the anchor's pull acts
    for _ in range(20):
        model.policy.optimizer.step()
    assert l2_distance(model, anchor) < 0.9 * before


def _fine_tune(registry: Registry, tmp_path: Path, *extra: str) -> tuple[dict, str]:  # noqa: F811
    tmp_path.mkdir(parents=True)
    out = tmp_path / "outputs"
    done = run_cli(["champion=base", "stage=3", "hparams.lr=3e-3", "hparams.total_timesteps=512",
                    *extra, f"paths.registry={registry.root}", f"paths.output_dir={out}", *TINY_CURVE],
                   cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    (run,) = (out / "finetune").iterdir()
    return json.loads((run / "metrics.json").read_text()), done.stdout + done.stderr


def _distance(registry: Registry, tmp_path: Path, *anchor: str) -> float:  # noqa: F811
    return _fine_tune(registry, tmp_path, *anchor)[0]["finetune"]["distance_to_champion"]


def test_anchored_fine_tune_stays_closer_to_the_champion(registry: Registry, tmp_path: Path) -> None:  # noqa: F811
    free = _distance(registry, tmp_path / "free")
    anchored = _distance(registry, tmp_path / "anchored", "finetune.anchor=l2sp", "finetune.anchor_coef=10")
    assert free > 0 and anchored < 0.5 * free


def test_rehearsal_runs_a_share_of_envs_on_the_original_stage(registry: Registry, tmp_path: Path) -> None:  # noqa: F811
    metrics, log = _fine_tune(registry, tmp_path / "run", "finetune.rehearsal=0.5")
    assert metrics["finetune"]["rehearsal"] == 0.5 and metrics["status"] == "completed"
    assert "rehearsal: 1 of 2 envs on the original stage 2" in log


@pytest.mark.parametrize("overrides,message", [
    (["finetune.rehearsal=0.5"], "replays a champion"),
    (["finetune.rehearsal=1.0"], r"\[0, 1\)"),
    (["finetune.anchor=l2sp", "finetune.anchor_coef=1"], "anchors to a champion"),
    (["finetune.anchor=ewc2"], "finetune.anchor"),
    (["finetune.anchor_coef=-1"], "anchor_coef"),
])
def test_anchor_settings_are_checked(overrides: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        validate_finetune_settings(compose_config([*TINY, *overrides]))
