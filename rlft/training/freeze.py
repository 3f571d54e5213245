"""Freeze parameters by meaning or by module prefix (``hparams.freeze``), e.g. a fine-tune that
keeps the champion's features extractor and trains only the heads.

A logical name (``features_extractor``, ``policy_head``, ``value_head``, ``lstm``) stands for the
modules that play that part in the chosen algorithm's policy: ``features_extractor`` is
``features_extractor`` (and ``pi_``/``vf_features_extractor``) for PPO, ``q_net.features_extractor``
for DQN, the actor's and the critics' extractors for SAC. Target networks go with their online
network: they are never trained by gradient, only copied from it, so a frozen online part keeps
its target equal too. Any other entry is a module-name prefix of the SB3 policy
(``mlp_extractor.policy_net``).

``requires_grad`` is not saved in a state dict, so the freeze is applied again every time a
model is built, restored from a checkpoint or started from a champion (``run_training`` does it
after any of them). Adam and AdamW skip parameters without a gradient, so frozen weights do not
move, restored optimizer moments included.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, Callable, Sequence

from rlft.algos.spec import ACTOR_CRITIC, ACTOR_Q, ALGORITHMS, LINEAR, Q_NET
from rlft.errors import ConfigError

if TYPE_CHECKING:
    from omegaconf import DictConfig
    from stable_baselines3.common.base_class import BaseAlgorithm
    from torch import nn

_END = r"(\.|$)"
# family -> logical name -> pattern on parameter names (their modules, targets included)
LOGICAL: dict[str, dict[str, str]] = {
    ACTOR_CRITIC: {
        "features_extractor": r"(pi_|vf_)?features_extractor\.",
        "policy_head": rf"(mlp_extractor\.policy_net|action_net|log_std){_END}",
        "value_head": rf"(mlp_extractor\.value_net|value_net){_END}",
        "lstm": r"lstm_(actor|critic)\.",
    },
    Q_NET: {
        "features_extractor": r"(q_net|quantile_net)(_target)?\.features_extractor\.",
        "policy_head": r"(q_net(_target)?\.q_net|quantile_net(_target)?\.quantile_net)\.",
    },
    ACTOR_Q: {
        "features_extractor": r"(actor|critic)(_target)?\.features_extractor\.",
        "policy_head": rf"actor(_target)?\.(latent_pi|mu|log_std){_END}",
        "value_head": rf"critic(_target)?\.(qf\d+|quantile_critics){_END}",
    },
}
# family -> the policy's top-level modules (algorithm-specific ones below)
TOP_LEVEL: dict[str, tuple[str, ...]] = {
    ACTOR_CRITIC: (
        "features_extractor",
        "pi_features_extractor",
        "vf_features_extractor",
        "mlp_extractor",
        "action_net",
        "value_net",
        "log_std",
    ),
    ACTOR_Q: ("actor", "critic", "actor_target", "critic_target"),
}
TOP_LEVEL_OF_ALGO = {
    "dqn": ("q_net", "q_net_target"),
    "qrdqn": ("quantile_net", "quantile_net_target"),
    "recurrent_ppo": (*TOP_LEVEL[ACTOR_CRITIC], "lstm_actor", "lstm_critic"),
}


def logical_names(algo: str) -> tuple[str, ...]:
    names = LOGICAL.get(ALGORITHMS[algo].family, {})
    return tuple(n for n in names if n != "lstm" or algo == "recurrent_ppo")


def top_level_modules(algo: str) -> tuple[str, ...]:
    return TOP_LEVEL_OF_ALGO.get(algo) or TOP_LEVEL.get(ALGORITHMS[algo].family, ())


def _available(algo: str) -> str:
    return (
        f"logical names {', '.join(logical_names(algo))}; or a module prefix starting with "
        f"{', '.join(top_level_modules(algo))}"
    )


def check_freeze_names(algo: str, names: Sequence[str]) -> None:
    """Each entry is a logical name or a prefix under a top-level module of ``algo``'s policy
    (config time: no model needed)."""
    if names and ALGORITHMS[algo].family == LINEAR:
        raise ConfigError(f"hparams.freeze={list(names)} is not used by algo {algo} (no gradient steps): remove it")
    for name in map(str, names):
        if name not in logical_names(algo) and name.split(".")[0] not in top_level_modules(algo):
            raise ConfigError(f"hparams.freeze: {name!r} is not a part of algo {algo}'s policy: use {_available(algo)}")


def _matcher(algo: str, name: str) -> Callable[[str], bool]:
    if name in logical_names(algo):
        pattern = re.compile(LOGICAL[ALGORITHMS[algo].family][name])
        return lambda parameter: pattern.match(parameter) is not None
    return lambda parameter: parameter == name or parameter.startswith(f"{name}.")


def frozen_parameters(policy: "nn.Module", algo: str, names: Sequence[str]) -> list[str]:
    """The parameter names ``names`` cover; a name covering none is an error (a policy without
    such a module, e.g. ``features_extractor`` of an MlpPolicy, whose flattening has no weights)."""
    parameters = [n for n, _ in policy.named_parameters(remove_duplicate=False)]  # shared extractors too
    covered: list[str] = []
    for name in map(str, names):
        matches = [p for p in parameters if _matcher(algo, name)(p)]
        if not matches:
            present = sorted({p.split(".")[0] for p in parameters})
            why = " (a flattening features extractor has no weights)" if name == "features_extractor" else ""
            raise ConfigError(
                f"hparams.freeze: {name!r} matches no parameter of this {algo} policy{why}; its modules with "
                f"weights: {', '.join(present)}; use {_available(algo)}"
            )
        covered += [p for p in matches if p not in covered]
    return covered


def apply_freeze(model: "BaseAlgorithm", algo: str, names: Sequence[str]) -> list[str]:
    """Set ``requires_grad=False`` on every policy parameter ``names`` cover; return their names."""
    if not names:
        return []
    frozen = frozen_parameters(model.policy, algo, names)
    chosen = set(frozen)
    for name, parameter in model.policy.named_parameters(remove_duplicate=False):
        if name in chosen:
            parameter.requires_grad_(False)
    return frozen


def check_freeze_matches(cfg: "DictConfig", observation_space: Any, action_space: Any) -> None:
    """Before any folder is written: build the policy alone (no replay buffer, no env) for these
    spaces and check every ``hparams.freeze`` entry covers some of its parameters."""
    hp = cfg.hparams
    if not hp.freeze:
        return
    from rlft.algos.factory import build_policy

    frozen_parameters(build_policy(hp, observation_space, action_space), hp.algo, list(hp.freeze))
