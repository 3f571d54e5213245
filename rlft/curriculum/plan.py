"""A curriculum config turned into checked, typed stage plans, and each stage's run config.

A stage is a named set of env kwargs. An entry of ``curriculum.stages`` names its stage one of two
ways, ``stage`` (a stage option: a file of the ``stage`` group, built in or the project's
``conf/stage/``) or ``name`` (an inline stage: its env kwargs are the entry's ``env_kwargs``), and
sets the rest of its keys as it likes (all optional but ``timesteps``); never both, and nothing
rlft keeps for its own bookkeeping (the name, the budget) reaches the env's constructor::

    - stage: 3                    # a stage option (conf/stage/3.yaml), or:
    # name: slippery              # an inline stage: its name (stage id, folder, reports; never an env kwarg)
      timesteps: 100000           # the budget
      max_timesteps: 200000       # keep training up to here while the promotion rule is unmet
      hparams: {lr: 1.0e-4, ent_coef: 0.005}   # any hparams field but algo/policy/policy_kwargs
      n_envs: 16                  # env.n_envs for this stage
      env_kwargs: {noise_sigma: 0.06}          # an inline stage's env kwargs; on top of a stage option's
      promotion: {threshold: 0.85}             # over curriculum.promotion
      early_stop: {metric: success_rate, threshold: 0.95, patience: 3}

The classic per-stage layout is accepted too and mapped key by key: ``name`` is the inline stage's
name and ``environment`` -> ``env_kwargs`` its env kwargs. ``environment.stage`` names the stage
when the entry has no ``name``; it is passed to the constructor only when the env takes a ``stage``
argument (CurveTrace: ``environment: {stage: 2}`` is stage 2), otherwise it is the stage's name
alone (:mod:`rlft.curriculum.constructor` reads the signature). ``ppo`` -> ``hparams``
(``learning_rate`` -> ``lr``; ``n_envs`` -> ``n_envs``), ``total_timesteps`` -> ``timesteps``,
``ess_threshold`` + ``ess_patience`` -> ``early_stop: {metric: success_rate, threshold, patience}``
(``ess_metric: info/ess`` names another metric for them).

Pure config code: no torch or SB3 import, and an env's module only for a classic
``environment.stage``, so validation stays instant.
"""

from __future__ import annotations

import difflib
import functools
from dataclasses import dataclass, fields
from typing import Any, Callable

from omegaconf import DictConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from rlft.config.checks import plain_folder_name
from rlft.config.metrics import check_metric_name, metric_value
from rlft.config.options import load_option
from rlft.config.schema import NONE, on_schema
from rlft.curriculum.constructor import takes_argument
from rlft.curriculum.schema import PromotionConfig
from rlft.errors import ConfigError
from rlft.training.schema import EarlyStopConfig, HparamsConfig

ALL = "all"
ENTRY_KEYS = (
    "stage",
    "name",
    "timesteps",
    "max_timesteps",
    "hparams",
    "n_envs",
    "env_kwargs",
    "promotion",
    "early_stop",
)
CLASSIC_KEYS = ("environment", "ppo", "total_timesteps", "ess_threshold", "ess_patience", "ess_metric")
FIXED_HPARAMS = ("algo", "policy", "policy_kwargs")  # the network carries over between stages
HPARAM_FIELDS = tuple(f.name for f in fields(HparamsConfig))
CLASSIC_PPO_NAMES = {"learning_rate": "lr"}


@dataclass(frozen=True)
class Promotion:
    """``metric`` >= (mode max) or <= (mode min) ``threshold`` over at least ``episodes`` episodes."""

    metric: str
    mode: str
    threshold: float
    episodes: int
    early: bool

    def met(self, summary: dict[str, Any]) -> bool:
        value = metric_value(summary, self.metric, "curriculum.promotion.metric")
        if value is None or summary.get("episodes", 0) < self.episodes:
            return False
        return value >= self.threshold if self.mode == "max" else value <= self.threshold

    def describe(self) -> str:
        return f"{self.metric} {'>=' if self.mode == 'max' else '<='} {self.threshold} over {self.episodes} episodes"


@dataclass(frozen=True)
class StagePlan:
    """One stage as it will run. ``id`` is unique in the curriculum (the stage name, ``-2`` for a repeat).

    ``stage`` is the stage's name: a stage option's (``option``; ``env_kwargs`` go on top of its
    own) or an inline stage's (its env kwargs are ``env_kwargs``).
    """

    id: str
    stage: str
    option: bool
    position: int  # 1-based position in curriculum.stages
    timesteps: int
    max_timesteps: int
    hparams: dict[str, Any]
    n_envs: int | None
    env_kwargs: dict[str, Any]
    early_stop: dict[str, Any]
    promotion: Promotion


def _plain(node: Any) -> Any:
    return OmegaConf.to_container(node, resolve=True) if OmegaConf.is_config(node) else node


def _from_classic(entry: dict[str, Any], where: str, takes_stage: Callable[[], bool]) -> dict[str, Any]:
    """Rename the classic per-stage keys to the entry keys (see the module docstring)."""
    out = {k: v for k, v in entry.items() if k not in CLASSIC_KEYS}
    pairs = (("environment", "env_kwargs"), ("ppo", "hparams"), ("total_timesteps", "timesteps"))
    for classic, key in pairs:
        if classic in entry:
            if key in entry:
                raise ConfigError(f"{where}: give either {classic} or {key}, not both")
            out[key] = entry[classic]
    if "ppo" in entry:
        ppo = dict(out["hparams"] or {})
        if "n_envs" in ppo:
            out.setdefault("n_envs", ppo.pop("n_envs"))
        out["hparams"] = {CLASSIC_PPO_NAMES.get(k, k): v for k, v in ppo.items()}
    env_kwargs = dict(out.get("env_kwargs") or {})
    if "environment" in entry and "stage" not in entry and "stage" in env_kwargs:
        if takes_stage():  # the env's own argument, and the stage's name when the entry has none
            out.setdefault("name", env_kwargs["stage"])
        else:  # bookkeeping only: the stage's name, never the constructor's
            named = env_kwargs.pop("stage")
            if "name" in entry and str(entry["name"]) != str(named):
                raise ConfigError(
                    f"{where}: name={entry['name']!r} and environment.stage={named!r} both name the "
                    "stage (the env takes no stage argument): keep one"
                )
            out["name"], out["env_kwargs"] = entry.get("name", named), env_kwargs
    if "ess_threshold" in entry or "ess_patience" in entry or "ess_metric" in entry:
        if "early_stop" in entry:
            raise ConfigError(f"{where}: give either ess_threshold/ess_patience/ess_metric or early_stop, not both")
        metric = entry.get("ess_metric", "success_rate")
        check_metric_name(metric, f"{where}.ess_metric")
        out["early_stop"] = {
            "metric": metric,
            "threshold": entry.get("ess_threshold"),
            "patience": entry.get("ess_patience", 1),
        }
    return out


def _check_keys(given: dict[str, Any], allowed: tuple[str, ...], where: str) -> None:
    for key in given:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f"; did you mean {close[0]}?" if close else f"; valid keys: {', '.join(allowed)}"
            raise ConfigError(f"{where}.{key} is not a valid key{hint}")


def _positive_int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ConfigError(f"{where}={value!r} must be a positive integer")
    return value


def _promotion(default: DictConfig, override: Any, where: str) -> Promotion:
    merged = dict(_plain(default))
    if override is not None:
        if not isinstance(override, dict):
            raise ConfigError(f"{where}={override!r} must be a mapping such as {{threshold: 0.9}}")
        _check_keys(override, tuple(f.name for f in fields(PromotionConfig)), where)
        merged.update(override)
    check_metric_name(merged["metric"], f"{where}.metric")
    if merged["mode"] not in ("max", "min"):
        raise ConfigError(f"{where}.mode={merged['mode']!r} is not valid: use max or min")
    if isinstance(merged["threshold"], bool) or not isinstance(merged["threshold"], (int, float)):
        raise ConfigError(f"{where}.threshold={merged['threshold']!r} must be a number")
    _positive_int(merged["episodes"], f"{where}.episodes")
    return Promotion(
        merged["metric"], merged["mode"], float(merged["threshold"]), merged["episodes"], bool(merged["early"])
    )


def _stage_name(entry: dict[str, Any], where: str) -> tuple[str, bool]:
    """The entry's stage name, and whether it is a stage option (else an inline stage)."""
    if entry.get("stage") is not None and entry.get("name") is not None:
        raise ConfigError(
            f"{where}: give either name (an inline stage: name + env_kwargs) or stage (a stage option), not both"
        )
    if entry.get("stage") is None and entry.get("name") is None:
        raise ConfigError(
            f"{where} names no stage: add name: <stage name> beside its env_kwargs, or stage: <option of conf/stage/>"
        )
    key = "name" if entry.get("name") is not None else "stage"
    stage = str(entry[key])
    if stage == ALL:
        raise ConfigError(f"{where}.{key}=all: a curriculum entry names one stage")
    if key == "name":
        plain_folder_name(stage, f"{where}.name")  # the stage's folder, stages/<name>/
        return stage, False
    load_option("stage", stage, f"{where}.stage")  # exists?
    return stage, True


def _entry_plan(
    raw: Any, position: int, curriculum: DictConfig, taken: set[str], takes_stage: Callable[[], bool]
) -> StagePlan:
    where = f"curriculum.stages[{position - 1}]"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} must be a mapping with at least a stage and timesteps, got {raw!r}")
    entry = _from_classic(raw, where, takes_stage) if any(k in raw for k in CLASSIC_KEYS) else raw
    _check_keys(entry, ENTRY_KEYS, where)
    stage, option = _stage_name(entry, where)
    timesteps = _positive_int(entry.get("timesteps"), f"{where}.timesteps")
    max_timesteps = _positive_int(entry.get("max_timesteps", timesteps), f"{where}.max_timesteps")
    if max_timesteps < timesteps:
        raise ConfigError(f"{where}.max_timesteps={max_timesteps} is below its timesteps={timesteps}: raise it")
    cap = curriculum.max_timesteps_per_stage
    if cap is not None:
        timesteps, max_timesteps = min(timesteps, cap), min(max_timesteps, cap)

    hparams = dict(entry.get("hparams") or {})
    _check_keys(hparams, (*HPARAM_FIELDS, "n_envs"), f"{where}.hparams")
    for key in FIXED_HPARAMS:
        if key in hparams:
            raise ConfigError(
                f"{where}.hparams.{key}: the network and algorithm carry over between stages; "
                f"set hparams.{key} for the whole curriculum instead"
            )
    if "total_timesteps" in hparams:
        raise ConfigError(f"{where}.hparams.total_timesteps: a stage's budget is its timesteps (and max_timesteps)")
    n_envs = hparams.pop("n_envs", entry.get("n_envs"))
    if n_envs is not None:
        _positive_int(n_envs, f"{where}.n_envs")
    early_stop = dict(entry.get("early_stop") or {})
    _check_keys(early_stop, tuple(f.name for f in fields(EarlyStopConfig)), f"{where}.early_stop")

    stage_id, n = stage, 2
    while stage_id in taken:
        stage_id, n = f"{stage}-{n}", n + 1
    taken.add(stage_id)
    return StagePlan(
        stage_id,
        stage,
        option,
        position,
        timesteps,
        max_timesteps,
        hparams,
        n_envs,
        dict(entry.get("env_kwargs") or {}),
        early_stop,
        _promotion(curriculum.promotion, entry.get("promotion"), f"{where}.promotion"),
    )


def _select(plans: list[StagePlan], cfg: DictConfig) -> list[StagePlan]:
    """Apply ``curriculum.start`` / ``curriculum.stop`` (or ``stage=<k>``: that stage only)."""
    start, stop = cfg.curriculum.start, cfg.curriculum.stop
    chosen = cfg.stage.name
    if chosen not in (NONE, ALL):
        if start is not None or stop is not None:
            raise ConfigError(
                f"stage={chosen} runs one stage of the curriculum: drop curriculum.start/stop, "
                "or use stage=all with them"
            )
        start = stop = chosen
    ids = [p.id for p in plans]
    for key, value in (("curriculum.start", start), ("curriculum.stop", stop)):
        if value is not None and str(value) not in ids:
            name = "stage" if chosen not in (NONE, ALL) else key
            raise ConfigError(
                f"{name}={value} is not a stage of curriculum {cfg.curriculum.name}: use one of {', '.join(ids)}"
            )
    first = ids.index(str(start)) if start is not None else 0
    last = ids.index(str(stop)) if stop is not None else len(ids) - 1
    if first > last:
        raise ConfigError(f"curriculum.start={start} comes after curriculum.stop={stop}: swap them")
    return plans[first : last + 1]


def plan_curriculum(cfg: DictConfig) -> list[StagePlan]:
    """The stages this run will train, in order, checked."""
    curriculum = cfg.curriculum
    raw = _plain(curriculum.stages)
    if not raw:
        raise ConfigError(f"curriculum {curriculum.name!r} has no stages: list them under curriculum.stages")
    taken: set[str] = set()
    takes_stage = functools.cache(lambda: takes_argument(cfg.env, "stage"))
    plans = [_entry_plan(entry, i, curriculum, taken, takes_stage) for i, entry in enumerate(raw, start=1)]
    return _select(plans, cfg)


def stage_config(cfg: DictConfig, plan: StagePlan) -> DictConfig:
    """The single-run config of one stage: the curriculum's config with the stage's settings."""
    base = {key: _plain(cfg[key]) for key in cfg if key != "hydra"}  # Hydra's node is not the run's
    if plan.option:
        base["stage"] = _plain(load_option("stage", plan.stage, "stage"))
        base["stage_overrides"] = {**base["stage_overrides"], **plan.env_kwargs}
    else:
        base["stage"] = {"name": plan.stage, "env_kwargs": plan.env_kwargs}
    base["hparams"].update(plan.hparams, total_timesteps=plan.max_timesteps)
    if plan.n_envs is not None:
        base["env"]["n_envs"] = plan.n_envs
    base["early_stop"].update(plan.early_stop)
    # Promotion is judged on evaluations of at least promotion.episodes episodes, on the same seeds
    # for the periodic and final evaluation, so the evaluation that promotes repeats at the end.
    episodes = max(base["eval"]["final_episodes"], plan.promotion.episodes)
    base["eval"]["final_episodes"] = episodes
    if plan.promotion.early:
        base["eval"]["episodes"] = episodes
    base["curriculum"] = {"name": NONE}
    base["experiment_name"] = f"{cfg.experiment_name}_stage{plan.id}"
    try:
        return on_schema(base)
    except OmegaConfBaseException as exc:
        key = getattr(exc, "full_key", None)
        raise ConfigError(
            f"curriculum.stages[{plan.position - 1}] (stage {plan.id})"
            f"{f' {key}' if key else ''}: {str(exc.msg).splitlines()[0]}"
        ) from None
