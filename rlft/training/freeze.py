"""Freeze parameters by module-name prefix (``hparams.freeze``), e.g. a fine-tune that keeps the
champion's features extractor and trains only the heads.

``requires_grad`` is not saved in a state dict, so the freeze is applied again every time a
model is built, restored from a checkpoint or started from a champion (``run_training`` does it
after any of them). Adam and AdamW skip parameters without a gradient, so frozen weights do not
move, restored optimizer moments included.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from rlft.errors import ConfigError

if TYPE_CHECKING:
    from stable_baselines3.common.base_class import BaseAlgorithm

# top-level modules of SB3's actor-critic and DQN policies (the prefixes validation accepts)
POLICY_MODULES = (
    "features_extractor",
    "pi_features_extractor",
    "vf_features_extractor",
    "mlp_extractor",
    "action_net",
    "value_net",
    "q_net",
    "q_net_target",
)


def check_prefixes(prefixes: Sequence[str]) -> None:
    for prefix in prefixes:
        if str(prefix).split(".")[0] not in POLICY_MODULES:
            raise ConfigError(
                f"hparams.freeze: {prefix!r} is not a policy module; prefixes start with one of "
                f"{', '.join(POLICY_MODULES)} (e.g. features_extractor, mlp_extractor.policy_net)"
            )


def apply_freeze(model: "BaseAlgorithm", prefixes: Sequence[str]) -> list[str]:
    """Set ``requires_grad=False`` on every policy parameter under ``prefixes``; return their names."""
    if not prefixes:
        return []
    frozen = []
    for name, parameter in model.policy.named_parameters(remove_duplicate=False):  # shared extractors too
        if any(name == p or name.startswith(f"{p}.") for p in prefixes):
            parameter.requires_grad_(False)
            frozen.append(name)
    unmatched = [p for p in prefixes if not any(n == p or n.startswith(f"{p}.") for n in frozen)]
    if unmatched:
        raise ConfigError(f"hparams.freeze: {', '.join(unmatched)} matches no parameter of this policy")
    return frozen
