"""The ``hparams``, ``eval``, ``checkpoint`` and ``early_stop`` blocks: schema and checks.

Light on purpose (``python -m rlft.train --cfg job`` imports it): no torch, SB3 or gymnasium at
module level.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

from omegaconf import DictConfig, OmegaConf

from rlft.algos.spec import ALGO_SPECIFIC_FIELDS, ALGORITHMS, check_installed, is_on_policy, needs_action_masks
from rlft.config.checks import at_least, in_unit_interval, one_of, positive, require, seed
from rlft.config.metrics import check_metric_name
from rlft.errors import ConfigError

ACTION_NOISES = ("normal", "ornstein_uhlenbeck")


@dataclass
class HparamsConfig:
    """Algorithm and hyperparameters.

    Fields left ``null`` keep the algorithm's own default; a field the chosen algorithm does not use
    must stay ``null`` (validation says so), so a PPO setting never silently vanishes under DQN.
    """

    algo: str = "ppo"
    policy: str = "MlpPolicy"
    policy_kwargs: Dict[str, Any] = field(default_factory=dict)
    total_timesteps: int = 100_000
    episodes: Optional[int] = None  # set: also end after this many training episodes (timesteps stays the cap)
    lr: float = 3e-4
    lr_schedule: str = "constant"  # constant | linear (lr to lr_end) | cyclical (lr to lr_end, lr_cycles times)
    lr_end: float = 0.0
    lr_cycles: int = 4  # cyclical only: warm restarts over the run
    weight_decay: Optional[float] = None  # set: AdamW with this decoupled weight decay instead of Adam
    freeze: List[str] = field(default_factory=list)  # parts kept fixed: features_extractor, ... or prefixes
    gamma: Optional[float] = None
    batch_size: Optional[int] = None
    max_grad_norm: Optional[float] = None
    # on-policy (ppo, a2c, trpo, recurrent_ppo, maskable_ppo)
    n_steps: Optional[int] = None
    gae_lambda: Optional[float] = None
    ent_coef: Any = None  # a number; sac/tqc also "auto" or "auto_<initial value>"
    vf_coef: Optional[float] = None
    normalize_advantage: Optional[bool] = None
    # generalised state-dependent exploration (ppo, a2c, trpo, recurrent_ppo, sac, tqc)
    use_sde: Optional[bool] = None
    sde_sample_freq: Optional[int] = None
    # ppo
    n_epochs: Optional[int] = None
    clip_range: Optional[float] = None
    clip_schedule: str = "constant"  # constant | linear (from clip_range to 0)
    target_kl: Optional[float] = None
    # trpo
    cg_max_steps: Optional[int] = None
    cg_damping: Optional[float] = None
    # decoupled stop head (stop_ppo)
    lambda_stop: Optional[float] = None
    stop_label_coef: Optional[float] = None
    stop_pos_weight: Optional[float] = None
    # off-policy (dqn, qrdqn; the replay settings also sac, td3, ddpg, tqc)
    buffer_size: Optional[int] = None
    learning_starts: Optional[int] = None
    train_freq: Optional[int] = None
    gradient_steps: Optional[int] = None
    target_update_interval: Optional[int] = None
    exploration_fraction: Optional[float] = None
    exploration_initial_eps: Optional[float] = None
    exploration_final_eps: Optional[float] = None
    tau: Optional[float] = None
    # continuous-action off-policy (ddpg, td3, sac, tqc)
    action_noise: Optional[str] = None  # normal | ornstein_uhlenbeck: exploration noise added to actions
    action_noise_sigma: Optional[float] = None  # its scale (default 0.1), per action dimension
    target_entropy: Any = None  # sac/tqc: a number or "auto"
    policy_delay: Optional[int] = None  # td3
    target_policy_noise: Optional[float] = None  # td3
    target_noise_clip: Optional[float] = None  # td3
    top_quantiles_to_drop_per_net: Optional[int] = None  # tqc (n_quantiles, n_critics: policy_kwargs)
    # ars (augmented random search: no gradients)
    n_delta: Optional[int] = None
    n_top: Optional[int] = None
    delta_std: Optional[float] = None
    zero_policy: Optional[bool] = None


@dataclass
class EvalConfig:
    """Periodic deterministic evaluation on fixed seeds ``seed, seed+1, ...`` (paired across runs)."""

    every: int = 10_000  # timesteps between evaluations; 0 = only the final evaluation
    episodes: int = 20
    final_episodes: int = 100
    seed: int = 1_000_000
    deterministic: bool = True
    n_envs: int = 8  # episodes evaluated side by side (batched policy calls)
    # what picks best/: auto (success_rate if reported, else mean_reward), an own metric or info/<key>
    metric: str = "auto"
    mode: str = "max"  # max: best/ keeps the highest value of eval.metric; min: the lowest (an error, a length)


@dataclass
class CheckpointConfig:
    every: int = 50_000  # timesteps between checkpoints; 0 disables
    keep: int = 3
    save_replay_buffer: bool = False  # off-policy only; large


@dataclass
class EarlyStopConfig:
    """Stop a run on an evaluation metric.

    ``target``: stop at the first evaluation that reaches it. ``threshold``: stop once the metric has
    stayed at or beyond it for ``patience`` consecutive evaluations. Without a threshold,
    ``patience`` counts evaluations without an improvement of more than ``min_delta``.
    """

    metric: Optional[str] = None  # an own metric (success_rate, mean_reward, ...) or info/<key>; null disables
    mode: str = "max"
    target: Optional[float] = None
    threshold: Optional[float] = None
    patience: Optional[int] = None
    min_delta: float = 0.0


def validate_hparams(cfg: DictConfig) -> None:
    hp = cfg.hparams
    algos = tuple(ALGORITHMS)
    one_of(cfg, "hparams.algo", algos)
    check_installed(hp.algo)
    check_policy(cfg)
    for key in (
        "hparams.lr",
        "hparams.total_timesteps",
        "hparams.episodes",
        "hparams.stop_pos_weight",
        "hparams.n_steps",
        "hparams.batch_size",
        "hparams.n_epochs",
        "hparams.clip_range",
        "hparams.buffer_size",
        "hparams.train_freq",
        "hparams.max_grad_norm",
        "hparams.target_kl",
        "hparams.target_update_interval",
        "hparams.cg_max_steps",
        "hparams.cg_damping",
        "hparams.action_noise_sigma",
        "hparams.policy_delay",
        "hparams.n_delta",
        "hparams.n_top",
        "hparams.delta_std",
    ):
        positive(cfg, key)
    at_least(cfg, "hparams.lr_end", 0)
    one_of(cfg, "hparams.lr_schedule", ("constant", "linear", "cyclical"))
    require(hp.lr_cycles >= 1, f"hparams.lr_cycles={hp.lr_cycles} must be >= 1")
    from rlft.training.freeze import check_freeze_names

    check_freeze_names(hp.algo, hp.freeze)
    at_least(cfg, "hparams.weight_decay", 0)
    if hp.weight_decay is not None and "optimizer_class" in hp.policy_kwargs:
        raise ConfigError(
            "hparams.weight_decay picks AdamW: drop hparams.policy_kwargs.optimizer_class, or "
            "set weight_decay through policy_kwargs.optimizer_kwargs yourself"
        )
    one_of(cfg, "hparams.clip_schedule", ("constant", "linear"))
    for key in ("hparams.gamma", "hparams.gae_lambda"):
        in_unit_interval(cfg, key, low_open=True)
    for key in (
        "hparams.exploration_fraction",
        "hparams.exploration_initial_eps",
        "hparams.exploration_final_eps",
        "hparams.tau",
    ):
        in_unit_interval(cfg, key)
    for key in (
        "hparams.vf_coef",
        "hparams.lambda_stop",
        "hparams.stop_label_coef",
        "hparams.learning_starts",
        "hparams.target_policy_noise",
        "hparams.target_noise_clip",
        "hparams.top_quantiles_to_drop_per_net",
    ):
        at_least(cfg, key, 0)
    at_least(cfg, "hparams.sde_sample_freq", -1, "-1: only at the start of each rollout")

    accepted = ALGORITHMS[hp.algo].fields
    for name in sorted(ALGO_SPECIFIC_FIELDS - accepted):
        value = hp[name]
        require(
            value is None,
            f"hparams.{name}={value} is not used by algo {hp.algo}: remove it (or set hparams.{name}=null)",
        )

    _check_algo_settings(cfg)
    if is_on_policy(hp.algo):
        require(hp.n_steps is not None, f"hparams.n_steps must be set for algo {hp.algo}")
        rollout = hp.n_steps * cfg.env.n_envs
        if hp.batch_size is not None and rollout % hp.batch_size:
            divisors = [d for d in (32, 64, 128, 256, 512, 1024) if rollout % d == 0 and d <= rollout]
            hint = f" such as {', '.join(map(str, divisors))}" if divisors else ""
            raise ConfigError(
                f"hparams.batch_size={hp.batch_size} does not divide hparams.n_steps * env.n_envs = "
                f"{hp.n_steps} * {cfg.env.n_envs} = {rollout}: choose a divisor{hint}"
            )


def _auto_entropy(key: str, value: str, initial: bool) -> None:
    """sac/tqc's ``auto`` (``ent_coef`` also ``auto_<initial value>``)."""
    rest = value[len("auto_") :] if initial and value.startswith("auto_") else None
    try:
        ok = value == "auto" or (rest is not None and 0 < float(rest) < math.inf)
    except ValueError:
        ok = False
    forms = "auto or auto_<initial value> (e.g. auto_0.1)" if initial else "auto"
    require(ok, f"{key}={value!r} is not valid: use a number or {forms}")


def _check_algo_settings(cfg: DictConfig) -> None:
    """The settings whose valid values depend on the algorithm (after unused ones are refused)."""
    hp = cfg.hparams
    for name, initial in (("ent_coef", True), ("target_entropy", False)):
        value, key = hp[name], f"hparams.{name}"
        if isinstance(value, str) and hp.algo in ("sac", "tqc"):
            _auto_entropy(key, value, initial)
        elif value is not None:
            require(
                isinstance(value, (int, float)) and not isinstance(value, bool),
                f"{key}={value!r} is not valid for algo {hp.algo}: use a number",
            )
    if not isinstance(hp.ent_coef, str):
        at_least(cfg, "hparams.ent_coef", 0)
    if hp.action_noise is not None:
        one_of(cfg, "hparams.action_noise", ACTION_NOISES)
    require(
        hp.action_noise_sigma is None or hp.action_noise is not None,
        f"hparams.action_noise_sigma={hp.action_noise_sigma} needs hparams.action_noise ({' or '.join(ACTION_NOISES)})",
    )
    require(
        hp.n_top is None or hp.n_top <= (hp.n_delta or 8),
        f"hparams.n_top={hp.n_top} must be <= hparams.n_delta={hp.n_delta or 8}",
    )
    if hp.algo == "ars":  # no gradients: no optimizer to decay
        require(
            hp.weight_decay is None,
            f"hparams.weight_decay={hp.weight_decay} is not used by algo ars (no gradient steps): remove it",
        )


def check_policy(cfg: DictConfig) -> None:
    """``hparams.policy`` is a policy name the algorithm knows (checked without importing it) or an
    importable dotted path; ``policy_kwargs.net_arch`` is layer sizes (a list, or ``{pi: [...], vf: [...]}``)."""
    policy = cfg.hparams.policy
    if "." in policy:
        from rlft.envs.checks import locate

        locate(policy, "hparams.policy")
    else:
        names = ALGORITHMS[cfg.hparams.algo].policies
        require(
            policy in names,
            f"hparams.policy={policy!r} is not valid for algo {cfg.hparams.algo}: use one of "
            f"{', '.join(names)}, or a dotted path to a policy class (module.Class)",
        )
    net_arch = OmegaConf.select(cfg, "hparams.policy_kwargs.net_arch")
    if net_arch is None:
        return
    layers = OmegaConf.to_container(net_arch) if OmegaConf.is_config(net_arch) else net_arch
    heads = layers if isinstance(layers, dict) else {"": layers}
    for head, sizes in heads.items():
        key = f"hparams.policy_kwargs.net_arch{'.' + str(head) if head else ''}"
        ok = isinstance(sizes, list) and all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in sizes)
        require(ok, f"{key}={sizes} is not valid: give layer sizes as positive integers, e.g. [64, 64]")
    require(
        not isinstance(layers, dict) or set(layers) <= {"pi", "vf", "qf"},
        f"hparams.policy_kwargs.net_arch={layers}: a dict takes the keys pi and vf (or qf)",
    )


def validate_run_settings(cfg: DictConfig) -> None:
    seed(cfg, "seed")
    seed(cfg, "eval.seed")
    positive(cfg, "progress_every_s")
    positive(cfg, "env.n_envs")
    positive(cfg, "eval.episodes")
    positive(cfg, "eval.final_episodes")
    positive(cfg, "eval.n_envs")
    positive(cfg, "checkpoint.keep")
    positive(cfg, "torch_threads")
    for key in ("eval.every", "checkpoint.every"):
        at_least(cfg, key, 0, "0 disables")
    if cfg.eval.metric != "auto":
        check_metric_name(cfg.eval.metric, "eval.metric")
    one_of(cfg, "eval.mode", ("max", "min"))
    require(
        cfg.eval.metric != "auto" or cfg.eval.mode == "max",
        "eval.mode=min needs a named eval.metric (auto picks success_rate or mean_reward, higher is better)",
    )
    for i, name in enumerate(cfg.env.metrics):
        check_metric_name(name, f"env.metrics[{i}]")
    one_of(cfg, "progress", ("auto", "bar", "log", "none"))
    if cfg.optimized_metric is not None:
        check_metric_name(cfg.optimized_metric, "optimized_metric")
    device = cfg.device
    require(
        device in ("auto", "cpu", "cuda") or device.startswith("cuda:"),
        f"device={device!r} is not valid: use auto, cpu, cuda or cuda:N",
    )
    es = cfg.early_stop
    if es.metric is not None:
        check_metric_name(es.metric, "early_stop.metric")
        one_of(cfg, "early_stop.mode", ("max", "min"))
        require(
            es.target is not None or es.patience is not None,
            "early_stop.metric is set but neither early_stop.target nor early_stop.patience: set one",
        )
        require(es.patience is None or es.patience >= 1, f"early_stop.patience={es.patience} must be >= 1")
        at_least(cfg, "early_stop.min_delta", 0)


def validate_spaces(cfg: DictConfig) -> None:
    """Build one env (surfacing bad kwargs) and check the algorithm can act in it."""
    from rlft.envs.factory import probe_spaces

    algo = cfg.hparams.algo
    observation_space, action_space = probe_spaces(cfg)
    allowed = ALGORITHMS[algo].actions
    kind = type(action_space).__name__
    if kind not in allowed:
        fitting = [name for name, a in ALGORITHMS.items() if kind in a.actions]
        raise ConfigError(
            f"hparams.algo={algo} needs a {' or '.join(allowed)} action space but env "
            f"{cfg.env.name!r} has {action_space}: pick another env, or an algo for {kind} actions "
            f"({', '.join(fitting)})"
        )
    require(
        not cfg.hparams.use_sde or kind == "Box",
        f"hparams.use_sde=true needs continuous (Box) actions but env {cfg.env.name!r} has {action_space}",
    )
    if needs_action_masks(algo):
        from rlft.algos.masks import check_action_masks

        check_action_masks(cfg)
    from rlft.training.freeze import check_freeze_matches

    check_freeze_matches(cfg, observation_space, action_space)


def validate_resumed_spaces(cfg: DictConfig) -> None:
    """A resumed run keeps its model's spaces (:mod:`rlft.envs.spaces`, after SB3's image
    transposition): its checkpoint cannot act in another env (an ``env.id=`` or env kwarg changed
    on resume), which SB3 would only find when loading it."""
    from pathlib import Path

    from rlft.envs.factory import probe_spaces
    from rlft.envs.spaces import model_specs, obs_clip, spaces_mismatch
    from rlft.runs.layout import RunFolder
    from rlft.runs.reading import run_config

    saved = run_config(RunFolder(Path(cfg.resume)))
    wrong = spaces_mismatch(
        model_specs(*probe_spaces(saved), obs_clip(saved.env)), probe_spaces(cfg), obs_clip(cfg.env)
    )
    require(
        wrong is None,
        f"resume={cfg.resume}: the run was trained on env {saved.env.name!r} and this config's env "
        f"differs: {wrong}; resume without changing the env, or start a new run",
    )
