"""L2-SP anchoring: pull the weights towards the champion's on every optimizer step.

The penalty ``coef / 2 * ||w - w0||^2`` has the gradient ``coef * (w - w0)``; a step pre-hook on
the policy's optimizer adds it to each parameter's gradient, so it works for every algorithm
(PPO, StopPPO, A2C, DQN) without copying their ``train()`` loops. It is added after SB3's
gradient clipping, so the pull is never clipped away. Frozen parameters (no gradient) are left
alone. The hook is runtime state, so a fine-tune attaches it again after a resume.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch as th

if TYPE_CHECKING:
    from stable_baselines3.common.base_class import BaseAlgorithm


def anchor_weights(model: "BaseAlgorithm") -> dict[str, th.Tensor]:
    """A frozen copy of the policy's parameters (the anchor w0)."""
    return {name: p.detach().clone() for name, p in model.policy.named_parameters()}


def attach_l2sp(model: "BaseAlgorithm", anchor: dict[str, th.Tensor], coef: float) -> Any:
    """Register the pull on ``model.policy.optimizer``; returns the hook handle (``.remove()``)."""
    pairs = [(p, anchor[name].to(p.device)) for name, p in model.policy.named_parameters() if name in anchor]

    def pull(optimizer: th.optim.Optimizer, args: Any, kwargs: Any) -> None:
        with th.no_grad():
            for parameter, target in pairs:
                if parameter.grad is not None:
                    parameter.grad.add_(parameter - target, alpha=coef)

    return model.policy.optimizer.register_step_pre_hook(pull)


def l2_distance(model: "BaseAlgorithm", anchor: dict[str, th.Tensor]) -> float:
    """||w - w0|| over the anchored parameters (reported in metrics.json)."""
    with th.no_grad():
        total = sum(float(((p - anchor[n]) ** 2).sum()) for n, p in model.policy.named_parameters() if n in anchor)
    return total ** 0.5
