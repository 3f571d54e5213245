"""Fine-tune techniques as config switches: anchoring (L2-SP, EWC, KL), rehearsal, progressive
phases, the champion's optimizer state, an episode budget."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch as th
from stable_baselines3 import PPO

from rlft.champions.registry import Registry
from rlft.errors import ConfigError
from rlft.finetune.anchor import (
    anchor_weights,
    attach_kl,
    attach_l2sp,
    champion_states,
    diagonal_fisher,
    l2_distance,
    policy_kl,
)
from rlft.finetune.schema import validate_finetune as validate_finetune_settings
from tests.conftest import TINY, TINY_CURVE, compose_config, run_cli
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
    done = run_cli(
        [
            "champion=base",
            "stage=3",
            "hparams.lr=3e-3",
            "hparams.total_timesteps=512",
            *extra,
            f"paths.registry={registry.root}",
            f"paths.output_dir={out}",
            *TINY_CURVE,
        ],
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    (run,) = (out / "finetune").iterdir()
    return json.loads((run / "metrics.json").read_text()), done.stdout + done.stderr


def _distance(registry: Registry, tmp_path: Path, *anchor: str) -> float:  # noqa: F811
    return _fine_tune(registry, tmp_path, *anchor)[0]["finetune"]["distance_to_champion"]


@pytest.mark.slow  # end to end, ~30-50 s: in make test-slow (CI runs it)
def test_anchored_fine_tune_stays_closer_to_the_champion(registry: Registry, tmp_path: Path) -> None:  # noqa: F811
    free = _distance(registry, tmp_path / "free")
    anchored = _distance(registry, tmp_path / "anchored", "finetune.anchor=l2sp", "finetune.anchor_coef=10")
    assert free > 0 and anchored < 0.5 * free


def test_rehearsal_runs_a_share_of_envs_on_the_original_stage(registry: Registry, tmp_path: Path) -> None:  # noqa: F811
    metrics, log = _fine_tune(registry, tmp_path / "run", "finetune.rehearsal=0.5")
    assert metrics["finetune"]["rehearsal"] == 0.5 and metrics["status"] == "completed"
    assert "rehearsal: 1 of 2 envs on the original stage 2" in log


@pytest.mark.parametrize(
    "overrides,message",
    [
        (["finetune.rehearsal=0.5"], "replays a champion"),
        (["finetune.rehearsal=1.0"], r"\[0, 1\)"),
        (["finetune.anchor=l2sp", "finetune.anchor_coef=1"], "anchors to a champion"),
        (["finetune.anchor=ewc2"], "finetune.anchor"),
        (["finetune.anchor_coef=-1"], "anchor_coef"),
        (["finetune.anchor_samples=0"], "anchor_samples"),
        (["finetune.optimizer=old"], "finetune.optimizer"),
        (["finetune.optimizer=kept"], "keeps a champion's optimizer"),
        (["finetune.phases=[{timesteps:100,mix:{target:1}}]"], "mixes stages"),
        (["champion.name=x", "finetune.phases=[{timesteps:100}]"], r"phases\[0\].*exactly timesteps and mix"),
        (["champion.name=x", "finetune.phases=[{timesteps:-5,mix:{target:1}}]"], r"phases\[0\].timesteps=-5"),
        (["champion.name=x", "finetune.phases=[{timesteps:5,mix:{stage9x:1}}]"], "'stage9x' is not a stage"),
        (["champion.name=x", "finetune.phases=[{timesteps:5,mix:{target:0}}]"], "no positive share"),
        (
            ["champion.name=x", "finetune.rehearsal=0.5", "finetune.phases=[{timesteps:5,mix:{target:1}}]"],
            "both mix stages",
        ),
        (
            ["champion.name=x", "hparams=dqn", "env=cartpole", "finetune.anchor=kl", "finetune.anchor_coef=1"],
            "stochastic policy",
        ),
        (
            ["champion.name=x", "hparams=sac", "finetune.anchor=l2sp", "finetune.anchor_coef=1"],
            "policy's one optimizer, which algo sac does not have",
        ),
        (
            ["champion.name=x", "hparams=recurrent_ppo", "finetune.anchor=ewc", "finetune.anchor_coef=1"],
            "stochastic policy without an LSTM .* not recurrent_ppo",
        ),
    ],
)
def test_anchor_settings_are_checked(overrides: list[str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        validate_finetune_settings(compose_config([*TINY, *overrides]))


def _perturbed_ppo() -> tuple[PPO, PPO]:
    """(a CurveTrace champion, a copy whose weights moved away from it)."""
    from rlft.algos.factory import build_model
    from rlft.envs.factory import make_vec_env

    cfg = compose_config(TINY_CURVE)
    champion, model = (build_model(cfg.hparams, make_vec_env(cfg, 2, seed=0), seed=0, device="cpu") for _ in range(2))
    model.policy.load_state_dict(champion.policy.state_dict())
    with th.no_grad():
        for p in model.policy.parameters():
            p.add_(0.3 * th.randn_like(p))
    return champion, model


def _only_the_anchor_steps(model: PPO, steps: int) -> None:
    for group in model.policy.optimizer.param_groups:
        group["lr"] = 0.01
    for _ in range(steps):
        model.policy.optimizer.zero_grad()
        for p in model.policy.parameters():
            p.grad = th.zeros_like(p)
        model.policy.optimizer.step()


def test_fisher_is_per_weight_and_ewc_pulls_only_what_the_policy_uses() -> None:
    champion, model = _perturbed_ppo()
    states = champion_states(champion, champion.get_env(), 48)
    assert states.shape == (48, 2, 15, 15) and states.dtype == np.uint8
    fisher = diagonal_fisher(champion, states)
    assert set(fisher) == {n for n, _ in champion.policy.named_parameters()}
    assert th.cat([f.flatten() for f in fisher.values()]).mean() == pytest.approx(1.0, rel=1e-4)
    assert float(fisher["value_net.weight"].abs().sum()) == 0.0, "the value head does not change the policy"
    assert float(fisher["action_net.weight"].sum()) > 0
    anchor = anchor_weights(champion)
    value_before = model.policy.value_net.weight.detach().clone()
    distance_before = l2_distance(model, anchor)
    attach_l2sp(model, anchor, 10.0, importance=fisher)
    _only_the_anchor_steps(model, 20)
    th.testing.assert_close(model.policy.value_net.weight, value_before)  # F = 0: no pull
    assert l2_distance(model, anchor) < distance_before


def test_kl_anchor_brings_the_policy_back_to_the_champion() -> None:
    champion, model = _perturbed_ppo()
    states = champion_states(champion, champion.get_env(), 64)
    obs, _ = model.policy.obs_to_tensor(states)

    def kl(policy) -> float:
        with th.no_grad():
            return float(policy_kl(champion.policy, policy, obs))

    before = kl(model.policy)
    assert before > 0.01 and kl(champion.policy) == pytest.approx(0.0, abs=1e-6)
    attach_kl(model, champion, states, coef=1.0, batch_size=32, seed=0)
    _only_the_anchor_steps(model, 30)
    assert kl(model.policy) < 0.5 * before


@pytest.mark.parametrize("anchor", ["ewc", "kl"])
def test_ewc_and_kl_fine_tunes_run_from_the_cli(registry: Registry, tmp_path: Path, anchor: str) -> None:  # noqa: F811
    metrics, log = _fine_tune(
        registry, tmp_path / "run", f"finetune.anchor={anchor}", "finetune.anchor_coef=5", "finetune.anchor_samples=64"
    )
    assert metrics["status"] == "completed" and metrics["finetune"]["anchor"] == anchor
    assert f"{anchor} anchoring to base@v1 with coefficient 5 (64 champion states on 2)" in log


def test_kept_optimizer_starts_from_the_champions_moments(registry: Registry) -> None:  # noqa: F811
    from stable_baselines3.common.save_util import load_from_zip_file

    from rlft.algos.factory import build_model
    from rlft.champions.registry import load_optimizer_state
    from rlft.envs.factory import make_vec_env

    champion = registry.get("base")
    _, params, _ = load_from_zip_file(champion.folder / "model.zip", load_data=False, device="cpu")
    saved = params["policy.optimizer"]["state"]
    cfg = compose_config([*TINY_CURVE, "stage=2"])
    model = build_model(cfg.hparams, make_vec_env(cfg, 2, seed=0), seed=0, device="cpu")
    assert not model.policy.optimizer.state_dict()["state"], "a fresh optimizer has no moments"
    load_optimizer_state(champion, model)
    state = model.policy.optimizer.state_dict()["state"]
    assert set(state) == set(saved)
    for index, entry in saved.items():
        th.testing.assert_close(state[index]["exp_avg_sq"], entry["exp_avg_sq"])
    assert model.policy.optimizer.param_groups[0]["lr"] == cfg.hparams.lr, "the fine-tune's LR, not the champion's"


def test_progressive_phases_switch_the_stage_mix(registry: Registry, tmp_path: Path) -> None:  # noqa: F811
    phases = "finetune.phases=[{timesteps:256,mix:{original:1}},{timesteps:256,mix:{target:1,1:1}}]"
    metrics, log = _fine_tune(registry, tmp_path / "run", phases, "finetune.optimizer=kept")
    assert metrics["status"] == "completed" and metrics["total_timesteps"] == 512, "budget = the phases' sum"
    assert "2 phases; from step 0: 100% original" in log
    assert "phase 2 of 2 from step 256: 50% target + 50% 1" in log
    assert metrics["finetune"]["phases"][1] == {"timesteps": 256, "mix": {"target": 0.5, "1": 0.5}}
    assert metrics["finetune"]["optimizer"] == "kept"


def test_an_episode_budget_ends_the_run(tmp_path: Path) -> None:
    from rlft.runs.layout import RunFolder
    from rlft.training.run import run_training

    cfg = compose_config([*TINY_CURVE, "hparams.total_timesteps=20000", "hparams.episodes=3", "eval.every=0"])
    metrics = run_training(cfg, RunFolder(tmp_path / "run"))
    assert metrics["status"] == "completed" and 3 <= metrics["training_episodes"] < 3 + 2
    assert metrics["total_timesteps"] < 20000 and "trained" in metrics["message"] and "episodes=3" in metrics["message"]


@pytest.mark.parametrize("kind", ["DictObservation", "ChannelLastImage"])
def test_ewc_and_kl_take_dict_and_channel_last_image_states(kind: str) -> None:
    """Champion states keep the env's layout (Dict: one array per key); EWC and KL read them."""
    from stable_baselines3.common.vec_env import DummyVecEnv

    from tests import user_envs

    env_class = getattr(user_envs, kind)
    policy = "MultiInputPolicy" if kind == "DictObservation" else "CnnPolicy"
    kwargs = {"net_arch": [8], "features_extractor_kwargs": {"features_dim": 8}} if policy == "CnnPolicy" else {}
    champion = PPO(policy, DummyVecEnv([env_class, env_class]), n_steps=16, batch_size=16, seed=0, policy_kwargs=kwargs)
    model = PPO(policy, DummyVecEnv([env_class, env_class]), n_steps=16, batch_size=16, seed=1, policy_kwargs=kwargs)
    states = champion_states(champion, DummyVecEnv([env_class, env_class]), 10)  # as a fine-tune: the env's layout
    shapes = {k: v.shape for k, v in states.items()} if isinstance(states, dict) else states.shape
    assert shapes == ({"image": (10, 36, 36, 3), "vector": (10, 4)} if isinstance(states, dict) else (10, 36, 36, 3))
    fisher = diagonal_fisher(champion, states, chunk=4)
    assert float(fisher["action_net.weight"].sum()) > 0
    attach_kl(model, champion, states, coef=1.0, batch_size=4, seed=0)
    _only_the_anchor_steps(model, 2)
