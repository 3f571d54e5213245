"""Anchoring a fine-tune to its champion: L2-SP, EWC and KL, each a step pre-hook on the optimizer.

A hook on ``model.policy.optimizer`` adds the anchor's gradient to each parameter's gradient just
before the step, so one mechanism serves every algorithm (PPO, StopPPO, A2C; L2-SP also DQN)
without copying their ``train()`` loops. It runs after SB3's gradient clipping, so the pull is never
clipped away. Frozen parameters (no gradient) are left alone. Hooks are runtime state: a fine-tune
attaches them again after a resume (EWC's Fisher and KL's states are recollected, seeded).

- L2-SP: ``coef / 2 * ||w - w0||^2``, gradient ``coef * (w - w0)``.
- EWC: ``coef / 2 * sum F_i (w_i - w0_i)^2`` with F the champion's diagonal Fisher, the mean of
  squared per-sample gradients of ``log pi(a|s)`` (a sampled from the champion) over champion
  states, normalised to mean 1 so a coefficient means the same average pull as L2-SP.
- KL: ``coef * KL(pi_champion(.|s) || pi(.|s))`` averaged over a minibatch of champion states of its
  original stage (batch size as PPO's), a fresh minibatch every step: the fine-tune may change what
  it does on the new stage, but pays for changing what the champion did on the old one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import torch as th

from rlft.scoring import States, state_count, take_states
from rlft.scoring import collect_states as champion_states  # noqa: F401  (the states EWC and KL use)

if TYPE_CHECKING:
    from stable_baselines3.common.base_class import BaseAlgorithm


def anchor_weights(model: "BaseAlgorithm") -> dict[str, th.Tensor]:
    """A frozen copy of the policy's parameters (the anchor w0)."""
    return {name: p.detach().clone() for name, p in model.policy.named_parameters()}


def attach_l2sp(
    model: "BaseAlgorithm", anchor: dict[str, th.Tensor], coef: float, importance: dict[str, th.Tensor] | None = None
) -> Any:
    """Register the pull ``coef * F * (w - w0)`` (F = 1 for L2-SP, the Fisher for EWC) on
    ``model.policy.optimizer``; returns the hook handle (``.remove()``)."""
    triples = []
    for name, p in model.policy.named_parameters():
        if name in anchor:
            weight = None if importance is None else importance[name].to(p.device)
            triples.append((p, anchor[name].to(p.device), weight))

    def pull(optimizer: th.optim.Optimizer, args: Any, kwargs: Any) -> None:
        with th.no_grad():
            for parameter, target, weight in triples:
                if parameter.grad is None:
                    continue
                if weight is None:
                    parameter.grad.add_(parameter - target, alpha=coef)
                else:
                    parameter.grad.add_(weight * (parameter - target), alpha=coef)

    return model.policy.optimizer.register_step_pre_hook(pull)


def diagonal_fisher(champion: "BaseAlgorithm", states: States, chunk: int = 256) -> dict[str, th.Tensor]:
    """Per-parameter mean of squared per-sample gradients of ``log pi(a|s)``, ``a ~ pi(.|s)``
    (torch.func: one vmapped gradient per state), normalised to mean 1 over all entries."""
    import copy

    from torch.func import functional_call, grad, vmap

    # a copy: functional_call under vmap leaves tied parameters (a features extractor the actor and
    # critic share, as CnnPolicy and MultiInputPolicy have) wrapped in the module it swaps them into
    policy: Any = copy.deepcopy(champion.policy)  # an actor-critic policy: it has get_distribution
    module = _LogProb(policy)
    params = {f"policy.{name}": p.detach() for name, p in policy.named_parameters()}
    sums = {name: th.zeros_like(p) for name, p in params.items()}

    def log_prob(values: dict[str, th.Tensor], obs: Any, action: th.Tensor) -> th.Tensor:
        one = {k: v.unsqueeze(0) for k, v in obs.items()} if isinstance(obs, dict) else obs.unsqueeze(0)
        return functional_call(module, values, (one, action.unsqueeze(0))).sum()

    per_sample = vmap(grad(log_prob), in_dims=(None, 0, 0))
    validate = th.distributions.Distribution._validate_args
    th.distributions.Distribution.set_default_validate_args(False)  # no data-dependent checks under vmap
    policy.set_training_mode(False)
    try:
        for lo in range(0, state_count(states), chunk):
            obs, _ = policy.obs_to_tensor(take_states(states, slice(lo, lo + chunk)))
            with th.no_grad():
                actions = policy.get_distribution(obs).get_actions(deterministic=False)
            for name, g in per_sample(params, obs, actions).items():
                sums[name] += (g**2).sum(0)
    finally:
        th.distributions.Distribution.set_default_validate_args(validate)
    fisher = {name.removeprefix("policy."): total / state_count(states) for name, total in sums.items()}
    mean = th.cat([f.flatten() for f in fisher.values()]).mean()
    return {name: f / mean for name, f in fisher.items()} if mean > 0 else fisher


class _LogProb(th.nn.Module):
    """``forward(obs, action) -> log pi(action|obs)`` of an SB3 policy, for ``functional_call``."""

    def __init__(self, policy: Any) -> None:
        super().__init__()
        self.policy = policy

    def forward(self, obs: Any, action: th.Tensor) -> th.Tensor:  # obs: a tensor, or a dict of them
        return self.policy.get_distribution(obs).log_prob(action)


def policy_kl(reference: Any, policy: Any, obs: th.Tensor | dict[str, th.Tensor]) -> th.Tensor:
    """Mean ``KL(reference(.|s) || policy(.|s))`` for Categorical and MultiCategorical policies."""
    from torch.distributions import kl_divergence

    with th.no_grad():
        ref = reference.get_distribution(obs).distribution
    new = policy.get_distribution(obs).distribution
    if isinstance(ref, list):  # MultiCategorical: one Categorical per head, independent
        total = sum(kl_divergence(r, n) for r, n in zip(ref, new))
        assert isinstance(total, th.Tensor)  # one head at least
        return total.mean()
    return kl_divergence(ref, new).mean()


def attach_kl(
    model: "BaseAlgorithm", champion: "BaseAlgorithm", states: States, coef: float, batch_size: int, seed: int
) -> Any:
    """Register ``coef * KL(champion || policy)`` on a fresh minibatch of ``states`` per step
    (``champion`` is a separate, untrained model: it is only read, under ``no_grad``)."""
    reference = champion.policy.to(model.device)
    reference.set_training_mode(False)
    rng = np.random.default_rng(seed)
    policy = model.policy
    count = state_count(states)
    batch = min(batch_size, count)

    def pull(optimizer: th.optim.Optimizer, args: Any, kwargs: Any) -> None:
        obs, _ = policy.obs_to_tensor(take_states(states, rng.choice(count, size=batch, replace=False)))
        with th.enable_grad():
            (coef * policy_kl(reference, policy, obs)).backward()

    return policy.optimizer.register_step_pre_hook(pull)


def l2_distance(model: "BaseAlgorithm", anchor: dict[str, th.Tensor]) -> float:
    """||w - w0|| over the anchored parameters (reported in metrics.json)."""
    with th.no_grad():
        total = sum(float(((p - anchor[n]) ** 2).sum()) for n, p in model.policy.named_parameters() if n in anchor)
    return total**0.5
