"""The config of a fine-tune: what the user chose, the rest from the champion.

``python -m rlft.train champion=best_stop stage=11 hparams.lr=1e-6`` should fine-tune the
champion on the env it was trained on, with its hyperparameters, on stage 11, with a smaller LR.
So each of the ``env``, ``stage`` and ``hparams`` groups comes from the champion's manifest
unless the user chose an option for it (on the command line or in the ``experiment`` file's
defaults list); then every key the user set under them (``hparams.lr=...`` on the command line,
``hparams: {lr: ...}`` in the experiment file) is put back on top. A chosen env without a chosen
stage does not inherit the champion's stage (it may not exist there). The network (``algo``,
``policy``, ``policy_kwargs``) is always the champion's. The resolved version (``name@vN``) is
pinned in ``champion.name`` so a resume loads the same one. With ``finetune.phases`` the budget
(``hparams.total_timesteps``) is the phases' sum. An exploring off-policy algorithm (DQN) starts at
the champion's final epsilon unless the user set ``hparams.exploration_initial_eps`` or continues
the champion's schedules (``finetune.continue_steps``); the value is written into the run's config.
"""

from __future__ import annotations

from typing import Sequence

from omegaconf import DictConfig, OmegaConf

from rlft.config.complete import complete_from_model, user_choices

NETWORK_KEYS = ("algo", "policy", "policy_kwargs")
INITIAL_EPS = "exploration_initial_eps"
SB3_FINAL_EPS = 0.05  # DQN's exploration_final_eps when unset


def start_exploring_at_final_eps(cfg: DictConfig, overrides: Sequence[str]) -> None:
    """A fine-tune of a trained Q-network explores like its end of training, not at epsilon 1.0."""
    from rlft.algos.spec import ALGORITHMS

    hparams = cfg.hparams
    if INITIAL_EPS not in ALGORITHMS[hparams.algo][1] or cfg.finetune.continue_steps:
        return
    if f"hparams.{INITIAL_EPS}" in user_choices(overrides)[1]:
        return
    final = hparams.exploration_final_eps
    hparams[INITIAL_EPS] = SB3_FINAL_EPS if final is None else final


def finetune_config(cfg: DictConfig, overrides: Sequence[str]) -> DictConfig:
    """The champion-completed config (see the module docstring)."""
    from rlft.champions.registry import Registry

    champion = Registry.for_config(cfg).get(cfg.champion.name)
    manifest = champion.manifest
    merged = complete_from_model(cfg, overrides, manifest)
    merged.champion.name = champion.ref
    for key in NETWORK_KEYS:
        merged.hparams[key] = manifest["hparams"][key]
    if merged.finetune.phases:  # a progressive fine-tune's budget is its phases' sum
        from rlft.finetune.phases import parse_phases

        merged.hparams.total_timesteps = sum(phase.timesteps for phase in parse_phases(merged))
    start_exploring_at_final_eps(merged, overrides)
    OmegaConf.set_struct(merged, True)
    return merged
