"""Every algorithm of ``hparams.algo`` trains on an env that fits it, and its champion loads back
(built from the manifest, never unpickled) with the weights it was banked with. The slow loop
also fine-tunes each champion and evaluates it; the default suite keeps the algorithms whose
evaluation differs (masks, LSTM state, continuous actions, sb3-contrib Q-learning)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch as th
from omegaconf import OmegaConf

from rlft.algos.factory import algorithm_class
from rlft.algos.spec import ALGORITHMS
from rlft.champions.registry import Registry
from rlft.runs.layout import RunFolder
from rlft.training.run import run_training
from rlft.workflows import prepare, validate
from tests.algos.cases import ALGO_CASES, algo_config
from tests.conftest import compose_config

FAST = ("sac", "qrdqn", "recurrent_ppo", "maskable_ppo")


def test_every_algorithm_has_a_case() -> None:
    assert set(ALGO_CASES) == set(ALGORITHMS) - {"stop_ppo"}  # stop_ppo: tests/algos/test_stop_ppo.py


@pytest.fixture(autouse=True)
def _trust_the_test_envs(monkeypatch) -> None:
    monkeypatch.setenv("RLFT_TRUSTED_MODULES", "tests")  # the masked test env is a champion's env._target_


def _train(algo: str, root: Path) -> RunFolder:
    cfg = compose_config(algo_config(algo))
    validate(cfg)
    run = RunFolder(root / "run")
    run.hydra_dir.mkdir(parents=True)
    run.config_file.write_text(OmegaConf.to_yaml(cfg))
    metrics = run_training(cfg, run)
    assert metrics["status"] == "completed" and metrics["total_timesteps"] >= 256
    return run


def _bank_and_load_back(algo: str, run: RunFolder, root: Path) -> Registry:
    registry = Registry(root / "champions")
    champion = registry.register(run.root, algo, force=True)
    assert champion.manifest["hparams"]["algo"] == algo
    model, _ = registry.load_model(algo)
    assert type(model) is algorithm_class(algo)
    banked = algorithm_class(algo).load(run.best_dir / "model.zip", device="cpu").policy.state_dict()
    loaded = model.policy.state_dict()
    assert banked.keys() == loaded.keys()
    assert all(th.equal(loaded[k], banked[k]) for k in banked)
    return registry


def _onnx_export_acts_like_the_model(algo: str, registry: Registry, out: Path) -> None:
    """A feed-forward policy exports to ONNX whose actions are SB3's predict's (checked by the
    export itself, on 256 observations); a recurrent one is refused in one line."""
    import json

    from rlft.errors import ConfigError
    from rlft.export import export

    if algo == "recurrent_ppo":
        with pytest.raises(
            ConfigError, match="ONNX export covers feed-forward SB3 policies, not RecurrentActorCriticPolicy"
        ):
            export(str(registry.root), algo, "onnx", out)
        return
    export(str(registry.root), algo, "onnx", out)
    assert json.loads((out / "onnx_check.json").read_text())["actions_equal"] is True


@pytest.mark.parametrize("algo", FAST)
def test_train_bank_and_load_back(algo: str, tmp_path: Path) -> None:
    run = _train(algo, tmp_path)
    registry = _bank_and_load_back(algo, run, tmp_path)
    if algo in ("sac", "qrdqn", "recurrent_ppo"):  # continuous actions, quantile Q-values, an LSTM state
        _onnx_export_acts_like_the_model(algo, registry, tmp_path / "onnx")


@pytest.mark.slow
@pytest.mark.parametrize("algo", sorted(ALGO_CASES))
def test_train_bank_fine_tune_and_evaluate(algo: str, tmp_path: Path) -> None:
    from rlft.evaluate import run as evaluate
    from rlft.finetune.run import run_finetune

    registry = _bank_and_load_back(algo, _train(algo, tmp_path), tmp_path)
    _onnx_export_acts_like_the_model(algo, registry, tmp_path / "onnx")
    overrides = [*algo_config(algo), f"champion={algo}", f"paths.registry={registry.root}"]
    cfg = prepare(compose_config(overrides), overrides)
    run = RunFolder(tmp_path / "finetune")
    run.hydra_dir.mkdir(parents=True)
    run.config_file.write_text(OmegaConf.to_yaml(cfg))
    metrics = run_finetune(cfg, run)
    assert metrics["status"] == "completed" and metrics["champion"] == f"{algo}@v1"
    result, _ = evaluate([algo, f"paths.registry={registry.root}", "episodes=2", f"paths.output_dir={tmp_path}"])
    (stage,) = result["stages"]
    assert np.isfinite(stage["mean_reward"])


def test_maskable_ppo_never_takes_a_masked_action(tmp_path: Path) -> None:
    """The env forbids action 1: evaluation passes each env's masks, so only action 0 is taken."""
    from rlft.envs.factory import env_factory
    from rlft.evaluation import evaluate

    cfg = compose_config(algo_config("maskable_ppo"))
    model = algorithm_class("maskable_ppo")("MlpPolicy", "CartPole-v1", seed=0, device="cpu")
    result = evaluate(model, env_factory(cfg), range(3), n_parallel=2, deterministic=False)
    assert result.action_counts.keys() == {"0"}


class _CountingPolicy:
    """A recurrent stand-in: its state counts the steps of each slot's episode, reset at starts."""

    def predict(self, observation, state=None, episode_start=None, deterministic=False):
        counts = np.zeros(len(observation), dtype=int) if state is None else state
        counts = np.where(episode_start, 0, counts) + 1
        self.seen.append(counts.copy())
        return np.zeros(len(observation), dtype=int), counts


def test_recurrent_state_restarts_per_slot_when_episodes_end_at_different_times() -> None:
    import gymnasium

    from rlft.evaluation import evaluate

    policy = _CountingPolicy()
    policy.seen = []
    result = evaluate(policy, lambda: gymnasium.make("CartPole-v1"), range(5), n_parallel=2)
    # every episode's state counted exactly its own steps: its last count is its length
    assert len(set(result.lengths)) > 1  # the slots restarted at different times
    per_slot_last = [int(max(s[slot] for s in policy.seen)) for slot in range(2)]
    assert max(per_slot_last) == max(result.lengths)


def test_an_off_policy_resume_continues_with_its_replay_buffer(tmp_path: Path) -> None:
    from rlft.training.run import RunOptions

    run = RunFolder(tmp_path / "run")
    run.root.mkdir()
    saved = ["checkpoint.save_replay_buffer=true"]
    run_training(compose_config(algo_config("sac", *saved)), run)
    sizes: list[int] = []
    longer = compose_config(algo_config("sac", *saved, "hparams.total_timesteps=384"))
    metrics = run_training(longer, run, RunOptions(resume=True, prepare=lambda m: sizes.append(m.replay_buffer.size())))
    assert sizes == [128] and metrics["total_timesteps"] == 384  # 256 transitions over 2 envs came back
