"""Scoring a policy on a config, shared by every feature that judges a model (assess's evaluate
and compare, a fine-tune's before / after, export's checks): fixed-seed evaluation with the model
folder's normalisation, summaries with intervals, paired changes, and states a model visits.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from omegaconf import DictConfig, OmegaConf

from rlft.stats import bootstrap_mean, probability_of_improvement, wilson

if TYPE_CHECKING:
    from stable_baselines3.common.base_class import BaseAlgorithm
    from stable_baselines3.common.vec_env import VecEnv


def stage_label(cfg: DictConfig) -> str:
    """``3``, or ``3+overrides`` when stage overrides apply."""
    overrides = OmegaConf.to_container(cfg.stage_overrides, resolve=True)
    return f"{cfg.stage.name}" + ("+overrides" if overrides else "")


def summarise(result: Any) -> dict[str, Any]:
    """Success with its Wilson interval, mean reward with a bootstrap interval, length, the env's
    ``info/`` metrics with bootstrap intervals, and the per-episode outcomes (for pairing)."""
    summary = result.summary()
    if result.successes is not None:
        summary["success_ci95"] = list(wilson(sum(result.successes), result.episodes))
        summary["successes"] = [int(s) for s in result.successes]
    summary["mean_reward_ci95"] = list(bootstrap_mean(result.rewards))
    summary["rewards"] = [round(r, 4) for r in result.rewards]
    summary["lengths"] = list(result.lengths)
    if result.info_episodes:  # each info/ metric's interval and per-episode values
        summary["info_ci95"] = {name: list(bootstrap_mean(values)) for name, values in result.info_episodes.items()}
        summary["info_episodes"] = {
            name: [round(v, 4) for v in values] for name, values in result.info_episodes.items()
        }
        rates = counter_rates(result.info_episodes)
        if rates:
            summary["info_rates"] = rates
    shares = result.action_shares()
    if shares:
        summary["action_shares"] = shares
    return summary


def counter_rates(info_episodes: dict[str, list[float]]) -> dict[str, dict[str, Any]]:
    """For each entry of a counter dict (``info/<key>/<name>``: a Crafter achievement), the share of
    episodes where its count is above 0, with its Wilson interval: how often an agent does a thing
    at all says more than its mean count, which a few long episodes can carry."""
    rates = {}
    for name, values in info_episodes.items():
        if name.count("/") == 2 and values:
            hits = sum(v > 0 for v in values)
            rates[name] = {"rate": hits / len(values), "ci95": list(wilson(hits, len(values)))}
    return rates


def evaluate_on(
    cfg: DictConfig, policy: Any, model_dir: Path | None, episodes: int, deterministic: bool | None = None
) -> Any:
    """``episodes`` episodes of ``cfg``'s env from seeds ``eval.seed, eval.seed + 1, ...``, with the
    model folder's observation normalisation when it has one; an :class:`~rlft.evaluation.EvalResult`."""
    from rlft.envs.factory import env_factory
    from rlft.envs.normalization import ObservationNormalizer, has_normalization
    from rlft.evaluation import evaluate

    transform = ObservationNormalizer(model_dir) if model_dir is not None and has_normalization(model_dir) else None
    return evaluate(
        policy,
        env_factory(cfg),
        range(cfg.eval.seed, cfg.eval.seed + episodes),
        deterministic=cfg.eval.deterministic if deterministic is None else deterministic,
        n_parallel=cfg.eval.n_envs,
        obs_transform=transform,
    )


def metric_of(stage: dict[str, Any]) -> str:
    return "success_rate" if stage.get("success_rate") is not None else "mean_reward"


def paired_change(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """B - A on one stage: the difference, its paired bootstrap interval, P(B better)."""
    if a.get("successes") is not None and b.get("successes") is not None:
        metric, xs, ys = "success_rate", a["successes"], b["successes"]
    else:
        metric, xs, ys = "mean_reward", a["rewards"], b["rewards"]
    return {"metric": metric, **paired_difference(xs, ys), "delta": b[metric] - a[metric]}


def paired_difference(xs: list[float], ys: list[float]) -> dict[str, Any]:
    """Mean of ``ys - xs`` episode by episode, its bootstrap interval and P(mean > 0)."""
    diffs = [y - x for x, y in zip(xs, ys, strict=True)]
    return {
        "delta": float(np.mean(ys)) - float(np.mean(xs)),
        "delta_ci95": list(bootstrap_mean(diffs)),
        "p_improvement": probability_of_improvement(diffs),
    }


States = Any  # an array of observations, or for Dict observations a dict of arrays (one row per state)


def collect_states(model: "BaseAlgorithm", venv: "VecEnv", n_states: int) -> States:
    """``n_states`` observations of ``model`` playing (stochastically) in ``venv``, in the env's
    layout (Dict observations: one array per key)."""
    observations: list[Any] = []
    obs: Any = venv.reset()  # an array, or a dict of arrays (VecEnv observations are never tuples here)
    while len(observations) * venv.num_envs < n_states:
        observations.append(
            {k: np.array(v, copy=True) for k, v in obs.items()} if isinstance(obs, dict) else np.array(obs, copy=True)
        )
        actions, _ = model.predict(obs, deterministic=False)
        obs, _, _, _ = venv.step(actions)
    if isinstance(observations[0], dict):
        return {key: np.concatenate([o[key] for o in observations])[:n_states] for key in observations[0]}
    return np.concatenate(observations)[:n_states]


def state_count(states: States) -> int:
    return len(next(iter(states.values()))) if isinstance(states, dict) else len(states)


def take_states(states: States, index: Any) -> States:
    """The states at ``index`` (a slice or an index array), per key for Dict observations."""
    return {key: value[index] for key, value in states.items()} if isinstance(states, dict) else states[index]
