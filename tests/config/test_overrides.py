"""The command-line short forms (read with Hydra's override grammar) and the unknown-key hints."""

from __future__ import annotations

import pytest

from rlft.config.compose import normalize_overrides
from rlft.config.keys import suggest


@pytest.mark.parametrize(
    "given, expected",
    [
        (["stage=3"], ["stage='3'"]),
        (["stage=1,2"], ["stage='1','2'"]),
        (["+stage=3"], ["+stage='3'"]),
        (["stage=all"], ["stage=all", "curriculum=curve_trace"]),
        (["stage='all'", "--cfg", "job"], ["stage='all'", "curriculum=curve_trace", "--cfg", "job"]),
        (["stage=all", "curriculum=curve_trace_short"], ["stage=all", "curriculum=curve_trace_short"]),
        (["env=cartpole", "stage=all"], ["env=cartpole", "stage=all"]),  # cartpole has no curriculum: validation asks
        # an experiment may choose the env or the curriculum itself: nothing is added, validation asks
        (["experiment=mine", "stage=all"], ["experiment=mine", "stage=all"]),
        (["champion=best_stop@v2"], ["champion.name=best_stop@v2"]),
        (["champion=a,b"], ["champion.name=a,b"]),
        (["champion=none"], ["champion=none"]),  # an option of conf/champion/ stays a group choice
        (["distill=/tmp/traces"], ["distill.traces=/tmp/traces"]),
        (["hparams.lr=3", "seed=3", "--cfg", "job"], ["hparams.lr=3", "seed=3", "--cfg", "job"]),
    ],
)
def test_short_forms(given: list[str], expected: list[str]) -> None:
    assert normalize_overrides(given) == expected


@pytest.mark.parametrize(
    "key, hint",
    [
        ("hparams.learning_rate", "rlft calls it hparams.lr"),
        ("learning_rate", "rlft calls it hparams.lr"),
        ("ppo_clip", "rlft calls it hparams.clip_range"),
        ("hparams.entropy_coef", "rlft calls it hparams.ent_coef"),
        ("minibatch_size", "rlft calls it hparams.batch_size"),
        ("n_envs", "rlft calls it env.n_envs"),
        ("noise", "rlft calls it stage_overrides.noise_sigma"),
        ("n_stack", "rlft calls it env.frame_stack"),
        ("hparams.noise_type", "rlft calls it hparams.action_noise"),
        ("hparams.n_quantiles", "rlft calls it hparams.policy_kwargs.n_quantiles"),
        ("hparams.target_entropie", "did you mean hparams.target_entropy"),
        ("eval.evry", "did you mean eval.every?"),
        ("hparams.n_step", "did you mean hparams.n_steps"),
    ],
)
def test_unknown_keys_name_the_right_one(key: str, hint: str) -> None:
    assert hint in (suggest(key) or "")


def test_no_suggestion_for_nonsense() -> None:
    assert suggest("zzzqqq") is None
