"""Suggestions for a config key that does not exist: the closest rlft key, or rlft's name for a
setting that stable-baselines3 / RL Zoo configs spell differently (``learning_rate`` -> ``hparams.lr``).

Aliases are named in the error, never applied silently: a key that means something else in rlft
would otherwise change a run without a word.
"""

from __future__ import annotations

import difflib
from typing import Any, Iterator

# other libraries' names -> rlft's key
ALIASES = {
    "learning_rate": "hparams.lr",
    "lr_rate": "hparams.lr",
    "ent_coef": "hparams.ent_coef",
    "entropy_coef": "hparams.ent_coef",
    "entropy_coeff": "hparams.ent_coef",
    "ent_coeff": "hparams.ent_coef",
    "clip_range": "hparams.clip_range",
    "ppo_clip": "hparams.clip_range",
    "clip_param": "hparams.clip_range",
    "clip_eps": "hparams.clip_range",
    "clip_epsilon": "hparams.clip_range",
    "n_envs": "env.n_envs",
    "num_envs": "env.n_envs",
    "minibatch_size": "hparams.batch_size",
    "mini_batch_size": "hparams.batch_size",
    "batch_size": "hparams.batch_size",
    "n_timesteps": "hparams.total_timesteps",
    "total_timesteps": "hparams.total_timesteps",
    "num_timesteps": "hparams.total_timesteps",
    "n_steps": "hparams.n_steps",
    "num_steps": "hparams.n_steps",
    "n_epochs": "hparams.n_epochs",
    "num_epochs": "hparams.n_epochs",
    "ppo_epochs": "hparams.n_epochs",
    "gamma": "hparams.gamma",
    "discount": "hparams.gamma",
    "gae_lambda": "hparams.gae_lambda",
    "vf_coef": "hparams.vf_coef",
    "value_coef": "hparams.vf_coef",
    "max_grad_norm": "hparams.max_grad_norm",
    "policy_kwargs": "hparams.policy_kwargs",
    "policy": "hparams.policy",
    "algo": "hparams.algo",
    "algorithm": "hparams.algo",
    "noise_type": "hparams.action_noise",  # RL Zoo's TD3 / DDPG / SAC exploration noise
    "noise_std": "hparams.action_noise_sigma",
    "action_noise_std": "hparams.action_noise_sigma",
    "n_quantiles": "hparams.policy_kwargs.n_quantiles",  # qrdqn, tqc: a policy setting in SB3
    "n_critics": "hparams.policy_kwargs.n_critics",
    "lstm_hidden_size": "hparams.policy_kwargs.lstm_hidden_size",
    "top_quantiles_to_drop": "hparams.top_quantiles_to_drop_per_net",
    "noise": "stage_overrides.noise_sigma",
    "noise_sigma": "stage_overrides.noise_sigma",
    "env_id": "env.id",
    "n_stack": "env.frame_stack",
    "env_wrapper": "env.wrappers",
    "normalize": "env.normalize",
    "eval_freq": "eval.every",
    "n_eval_episodes": "eval.episodes",
    "save_freq": "checkpoint.every",
    "tensorboard_log": "paths.output_dir",
    "log_dir": "paths.output_dir",
    "output_dir": "paths.output_dir",
    "registry": "paths.registry",
}


def _leaf_keys(node: Any, prefix: str = "") -> Iterator[str]:
    from omegaconf import DictConfig

    for key in node.keys() if isinstance(node, DictConfig) else ():
        full = prefix + str(key)
        child = node._get_node(key)
        if isinstance(child, DictConfig) and not child._is_none() and len(child):
            yield from _leaf_keys(child, f"{full}.")
        else:
            yield full


def known_keys() -> list[str]:
    """Every key of the schema (``hparams.lr``, ``eval.every``, ...)."""
    from rlft.config.schema import schema_node

    return list(_leaf_keys(schema_node()))


def suggest(full_key: str) -> str | None:
    """``rlft calls it hparams.lr`` / ``did you mean hparams.lr?`` for an unknown key, or None."""
    leaf = full_key.rsplit(".", 1)[-1]
    alias = ALIASES.get(leaf)
    if alias and alias != full_key:
        return f"rlft calls it {alias}"
    keys = known_keys()
    close = difflib.get_close_matches(full_key, keys, n=2, cutoff=0.75)
    if not close:  # a right leaf in the wrong place, or a typo in the leaf alone
        leaves = {k.rsplit(".", 1)[-1]: k for k in keys}
        close = [leaves[m] for m in difflib.get_close_matches(leaf, list(leaves), n=2, cutoff=0.75)]
    return f"did you mean {' or '.join(close)}?" if close else None
