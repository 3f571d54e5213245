"""The MiniGrid example (examples/minigrid), run as its README says, at a tiny budget: the
project's own configs with only the budget (and the early-stop threshold, which a few hundred
steps cannot reach) overridden on the command line."""

from __future__ import annotations

import json

import minigrid  # noqa: F401  (the minigrid extra, which make install brings: a missing one fails, never skips)
import pytest
import yaml

from tests.conftest import REPO, run_cli

PROJECT = REPO / "examples" / "minigrid"
STAGES = ["size5", "size6", "size8"]

TINY_EXAMPLE = [
    "experiment=minigrid_curriculum",
    "curriculum.max_timesteps_per_stage=512",
    "curriculum.on_fail=continue",  # a few hundred steps promote nothing: run every stage anyway
    "curriculum.promotion.episodes=3",
    "env.n_envs=2",
    "hparams.n_steps=64",
    "hparams.batch_size=64",
    "hparams.n_epochs=1",
    "eval.every=64",
    "eval.episodes=3",
    "eval.final_episodes=3",
    "eval.n_envs=3",
    "checkpoint.every=0",
    "progress=none",
    # every stage's custom metric is >= 0 at once: early stopping fires after its patience
    *(f"curriculum.stages.{i}.ess_threshold=0.0" for i in range(len(STAGES))),
]


@pytest.mark.slow
def test_minigrid_curriculum_runs_every_stage_with_wrappers_stochastic_eval_and_early_stop(tmp_path):
    result = run_cli([*TINY_EXAMPLE, f"paths.output_dir={tmp_path}"], cwd=PROJECT)
    assert result.returncode == 0, result.stderr[-3000:]
    (folder,) = (tmp_path / "curriculum").iterdir()
    metrics = json.loads((folder / "metrics.json").read_text())
    assert [s["id"] for s in metrics["stages"]] == STAGES

    for stage, size in zip(STAGES, (5, 6, 8)):
        run = folder / "stages" / stage
        cfg = yaml.safe_load((run / ".hydra" / "config.yaml").read_text())
        assert cfg["stage"]["env_kwargs"] == {"size": size}
        assert [w["_target_"] for w in cfg["env"]["wrappers"]] == [
            "minigrid.wrappers.ImgObsWrapper",
            "rlft.envs.wrappers.ReturnThreshold",
            "rlft.envs.wrappers.ReturnThreshold",
        ]
        assert cfg["eval"]["deterministic"] is False
        assert cfg["early_stop"]["metric"] == "info/quick_goal"

        stage_metrics = json.loads((run / "metrics.json").read_text())
        assert stage_metrics["status"] == "early_stopped"
        assert "info/quick_goal stayed at or beyond early_stop.threshold=0.0 for 2" in stage_metrics["message"]
        evals = stage_metrics["eval"]
        assert len(evals) >= 2 and all(0.0 <= e["info/quick_goal"] <= 1.0 for e in evals)
        assert all(e["success_rate"] is not None for e in evals)  # the ReturnThreshold success
        assert stage_metrics["total_timesteps"] < 512  # stopped before the stage's budget

    # the 7x7x3 channel-last view (SB3 transposes it) evaluates from the curriculum folder
    evaluated = run_cli(
        ["evaluate", str(folder), "episodes=3", "deterministic=false", f"out={tmp_path / 'eval'}"],
        cwd=PROJECT,
        module="rlft",
    )
    assert evaluated.returncode == 0, evaluated.stderr[-3000:]
    assert "stochastic" in evaluated.stdout and "quick_goal" in evaluated.stdout
