"""LR schedules (constant / linear / cyclical) and AdamW weight decay as config switches."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
import torch as th

from rlft.algos.factory import build_model
from rlft.algos.schedules import CyclicalSchedule
from rlft.envs.factory import make_vec_env
from rlft.errors import ConfigError
from rlft.training.schema import validate_hparams
from tests.conftest import TINY, compose_config


def test_cyclical_schedule_restarts_and_pickles() -> None:
    schedule = CyclicalSchedule(1e-3, 1e-5, cycles=2)
    assert schedule(1.0) == pytest.approx(1e-3)  # start of training: high
    assert schedule(0.75) == pytest.approx(0.5 * (1e-3 + 1e-5))  # half-way down the first cycle
    assert schedule(0.5 + 1e-9) == pytest.approx(1e-5, abs=1e-8)  # end of the first cycle: low
    assert schedule(0.5) == pytest.approx(1e-3)  # warm restart
    assert pickle.loads(pickle.dumps(schedule))(0.75) == schedule(0.75)


@pytest.mark.parametrize("kind,at_half", [("constant", 3e-4), ("linear", 1.5e-4 + 5e-6), ("cyclical", 1e-5)])
def test_lr_schedule_reaches_the_model(kind: str, at_half: float) -> None:
    cfg = compose_config(
        [*TINY, f"hparams.lr_schedule={kind}", "hparams.lr=3e-4", "hparams.lr_end=1e-5", "hparams.lr_cycles=2"]
    )
    venv = make_vec_env(cfg, 2, seed=0)
    model = build_model(cfg.hparams, venv, seed=0, device="cpu")
    assert model.lr_schedule(1.0) == pytest.approx(3e-4)
    assert model.lr_schedule(0.5 + 1e-9) == pytest.approx(at_half, rel=1e-3)
    venv.close()


def test_weight_decay_switches_to_adamw_and_survives_save_and_load(tmp_path: Path) -> None:
    cfg = compose_config([*TINY, "hparams.weight_decay=0.01"])
    venv = make_vec_env(cfg, 2, seed=0)
    model = build_model(cfg.hparams, venv, seed=0, device="cpu")
    assert isinstance(model.policy.optimizer, th.optim.AdamW)
    assert model.policy.optimizer.param_groups[0]["weight_decay"] == 0.01
    model.learn(128)
    model.save(tmp_path / "m.zip")
    loaded = type(model).load(tmp_path / "m.zip", env=venv)
    assert isinstance(loaded.policy.optimizer, th.optim.AdamW)
    assert loaded.policy.optimizer.param_groups[0]["weight_decay"] == 0.01
    plain = build_model(compose_config(TINY).hparams, venv, seed=0, device="cpu")
    assert type(plain.policy.optimizer) is th.optim.Adam
    venv.close()


@pytest.mark.parametrize(
    "override,message",
    [
        ("hparams.lr_schedule=cosine", "cyclical"),
        ("hparams.lr_cycles=0", "lr_cycles"),
        ("hparams.weight_decay=-0.1", "weight_decay"),
    ],
)
def test_bad_schedule_or_decay_settings(override: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        validate_hparams(compose_config([*TINY, override]))
