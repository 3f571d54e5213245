"""Cross-field checks run before anything heavy is imported or any run folder is written.

Each failure is a :class:`~rlft.errors.ConfigError` whose one-line message names the key, the
value and what to change. Types and unknown keys are already caught by the schema.
"""

from __future__ import annotations

import difflib
import importlib
from pathlib import Path
from typing import Any, Callable

from omegaconf import DictConfig, OmegaConf

from rlft.algos.spec import ALGO_SPECIFIC_FIELDS, ALGORITHMS, is_on_policy
from rlft.errors import ConfigError, RunFolderError

EVAL_METRICS = ("success_rate", "mean_reward", "mean_length")


def _require(ok: bool, message: str) -> None:
    if not ok:
        raise ConfigError(message)


def _positive(cfg: DictConfig, key: str) -> None:
    value = OmegaConf.select(cfg, key)
    if value is not None:
        _require(value > 0, f"{key}={value} must be > 0")


def _one_of(cfg: DictConfig, key: str, allowed: tuple[str, ...]) -> None:
    value = OmegaConf.select(cfg, key)
    _require(value in allowed, f"{key}={value!r} is not valid: use one of {', '.join(allowed)}")


def _in_unit_interval(cfg: DictConfig, key: str, *, low_open: bool = False) -> None:
    value = OmegaConf.select(cfg, key)
    if value is None:
        return
    ok = (0 < value <= 1) if low_open else (0 <= value <= 1)
    _require(ok, f"{key}={value} must be in {'(0, 1]' if low_open else '[0, 1]'}")


def validate_hparams(cfg: DictConfig) -> None:
    hp = cfg.hparams
    algos = tuple(ALGORITHMS)
    _one_of(cfg, "hparams.algo", algos)
    for key in ("hparams.lr", "hparams.total_timesteps", "hparams.episodes", "hparams.stop_pos_weight", "hparams.n_steps", "hparams.batch_size",
                "hparams.n_epochs", "hparams.clip_range", "hparams.buffer_size", "hparams.train_freq",
                "hparams.max_grad_norm"):
        _positive(cfg, key)
    _require(hp.lr_end >= 0, f"hparams.lr_end={hp.lr_end} must be >= 0")
    _one_of(cfg, "hparams.lr_schedule", ("constant", "linear", "cyclical"))
    _require(hp.lr_cycles >= 1, f"hparams.lr_cycles={hp.lr_cycles} must be >= 1")
    from rlft.training.freeze import check_prefixes

    check_prefixes(hp.freeze)
    _require(hp.weight_decay is None or hp.weight_decay >= 0, f"hparams.weight_decay={hp.weight_decay} must be >= 0")
    if hp.weight_decay is not None and "optimizer_class" in hp.policy_kwargs:
        raise ConfigError("hparams.weight_decay picks AdamW: drop hparams.policy_kwargs.optimizer_class, or "
                          "set weight_decay through policy_kwargs.optimizer_kwargs yourself")
    _one_of(cfg, "hparams.clip_schedule", ("constant", "linear"))
    for key in ("hparams.gamma", "hparams.gae_lambda"):
        _in_unit_interval(cfg, key, low_open=True)
    for key in ("hparams.exploration_fraction", "hparams.exploration_initial_eps",
                "hparams.exploration_final_eps", "hparams.tau"):
        _in_unit_interval(cfg, key)
    for key in ("hparams.ent_coef", "hparams.vf_coef", "hparams.lambda_stop", "hparams.stop_label_coef",
                "hparams.learning_starts"):
        value = OmegaConf.select(cfg, key)
        _require(value is None or value >= 0, f"{key}={value} must be >= 0")

    accepted = ALGORITHMS[hp.algo][1]
    for name in sorted(ALGO_SPECIFIC_FIELDS - accepted):
        value = hp[name]
        _require(value is None, f"hparams.{name}={value} is not used by algo {hp.algo}: remove it "
                                f"(or set hparams.{name}=null)")

    if is_on_policy(hp.algo):
        _require(hp.n_steps is not None, f"hparams.n_steps must be set for algo {hp.algo}")
        rollout = hp.n_steps * cfg.env.n_envs
        if hp.batch_size is not None and rollout % hp.batch_size:
            divisors = [d for d in (32, 64, 128, 256, 512, 1024) if rollout % d == 0 and d <= rollout]
            hint = f" such as {', '.join(map(str, divisors))}" if divisors else ""
            raise ConfigError(
                f"hparams.batch_size={hp.batch_size} does not divide hparams.n_steps * env.n_envs = "
                f"{hp.n_steps} * {cfg.env.n_envs} = {rollout}: choose a divisor{hint}"
            )


def validate_run_settings(cfg: DictConfig) -> None:
    _positive(cfg, "env.n_envs")
    _positive(cfg, "eval.episodes")
    _positive(cfg, "eval.final_episodes")
    _positive(cfg, "eval.n_envs")
    _positive(cfg, "checkpoint.keep")
    _positive(cfg, "torch_threads")
    for key in ("eval.every", "checkpoint.every"):
        value = OmegaConf.select(cfg, key)
        _require(value >= 0, f"{key}={value} must be >= 0 (0 disables)")
    _one_of(cfg, "eval.metric", ("auto", "success_rate", "mean_reward"))
    _one_of(cfg, "progress", ("auto", "bar", "log", "none"))
    if cfg.optimized_metric is not None:
        _one_of(cfg, "optimized_metric", EVAL_METRICS)
    device = cfg.device
    _require(device in ("auto", "cpu", "cuda") or device.startswith("cuda:"),
             f"device={device!r} is not valid: use auto, cpu, cuda or cuda:N")
    es = cfg.early_stop
    if es.metric is not None:
        _one_of(cfg, "early_stop.metric", EVAL_METRICS)
        _one_of(cfg, "early_stop.mode", ("max", "min"))
        _require(es.target is not None or es.patience is not None,
                 "early_stop.metric is set but neither early_stop.target nor early_stop.patience: set one")
        _require(es.patience is None or es.patience >= 1, f"early_stop.patience={es.patience} must be >= 1")
        _require(es.min_delta >= 0, f"early_stop.min_delta={es.min_delta} must be >= 0")


def _locate(path: str, key: str) -> Callable[..., Any]:
    module_name, _, attr = path.replace(":", ".").rpartition(".")
    try:
        return getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError, ValueError) as exc:
        raise ConfigError(f"{key}={path!r} cannot be imported ({exc}): give a dotted path module.name") from None


def check_env_id(env_id: str) -> None:
    """Fail with close matches when ``env_id`` is not a registered gymnasium id."""
    import gymnasium

    import rlft.envs  # noqa: F401  (registers rlft/CurveTrace-v0)

    module, _, bare_id = env_id.rpartition(":")
    if module:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            raise ConfigError(f"env.id={env_id!r}: cannot import module {module!r} ({exc})") from None
    if bare_id not in gymnasium.registry:
        close = difflib.get_close_matches(bare_id, list(gymnasium.registry), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise ConfigError(f"env.id={env_id!r} is not a registered gymnasium environment{hint}")


def validate_env(cfg: DictConfig) -> None:
    env = cfg.env
    _require((env.id is None) != (env._target_ is None),
             "set exactly one of env.id (a gymnasium id) and env._target_ (a dotted path to an env factory)")
    if env.id is not None:
        check_env_id(env.id)
    else:
        _locate(env._target_, "env._target_")
    if env.vec_env not in ("dummy", "subproc"):
        _locate(env.vec_env, "env.vec_env")


def validate_resume(cfg: DictConfig) -> None:
    if not cfg.resume:
        return
    from rlft.runs.layout import RunFolder

    folder = RunFolder(Path(cfg.resume))
    if not folder.is_run():
        raise RunFolderError(
            f"resume={cfg.resume!r} is not an rlft run folder (expected {folder.config_file.name} in "
            f".hydra/ and {folder.metrics_file.name}): pass a folder under {cfg.paths.output_dir}/"
        )


# algorithms that only handle some action spaces (gymnasium space class names)
ACTION_SPACES = {"dqn": ("Discrete",), "stop_ppo": ("MultiDiscrete", "Discrete")}


def validate_spaces(cfg: DictConfig) -> None:
    """Build one env (surfacing bad kwargs) and check the algorithm can act in it."""
    from rlft.envs.factory import probe_spaces

    _, action_space = probe_spaces(cfg)
    allowed = ACTION_SPACES.get(cfg.hparams.algo)
    if allowed and type(action_space).__name__ not in allowed:
        raise ConfigError(f"hparams.algo={cfg.hparams.algo} needs a {' or '.join(allowed)} action space but env "
                          f"{cfg.env.name!r} has {action_space}: pick another hparams option or env")


def validate_curriculum(cfg: DictConfig) -> None:
    """Every selected stage's own config passes the single-run checks, and its env builds."""
    from rlft.curriculum.handoff import HANDOFFS, resolve_init
    from rlft.curriculum.plan import plan_curriculum, stage_config

    _one_of(cfg, "curriculum.handoff", HANDOFFS)
    _one_of(cfg, "curriculum.on_fail", ("stop", "continue"))
    _positive(cfg, "curriculum.max_timesteps_per_stage")
    if cfg.curriculum.init and not cfg.resume:
        resolve_init(cfg.curriculum.init, cfg.curriculum.handoff, cfg.paths.registry)
    for plan in plan_curriculum(cfg):
        stage_cfg = stage_config(cfg, plan)
        try:
            validate_hparams(stage_cfg)
            validate_run_settings(stage_cfg)
            validate_spaces(stage_cfg)
        except ConfigError as exc:
            raise ConfigError(f"curriculum stage {plan.id}: {exc}") from None


def validate_finetune_settings(cfg: DictConfig) -> None:
    from rlft.config.schema import ANCHORS_ON_CHAMPION_STATES, FINETUNE_ANCHORS

    ft = cfg.finetune
    _one_of(cfg, "finetune.anchor", FINETUNE_ANCHORS)
    _one_of(cfg, "finetune.optimizer", ("fresh", "kept"))
    _require(ft.anchor_coef >= 0, f"finetune.anchor_coef={ft.anchor_coef} must be >= 0")
    _require(ft.anchor_samples > 0, f"finetune.anchor_samples={ft.anchor_samples} must be > 0")
    share = ft.rehearsal
    _require(0 <= share < 1, f"finetune.rehearsal={share} must be in [0, 1): the share of envs on the original stage")
    for switch, active, what in (("finetune.rehearsal", share > 0, "replays a champion's original stage"),
                                 ("finetune.anchor", ft.anchor != "none", "anchors to a champion"),
                                 ("finetune.phases", bool(ft.phases), "mixes stages of a fine-tune"),
                                 ("finetune.optimizer", ft.optimizer == "kept", "keeps a champion's optimizer")):
        _require(not active or cfg.champion.name != "none",
                 f"{switch} {what}: add champion=<name>, or leave {switch} at its default")
    if share > 0:
        from rlft.envs.factory import rehearsal_split

        k = rehearsal_split(cfg.env.n_envs, share)
        _require(k < cfg.env.n_envs, f"finetune.rehearsal={share} with env.n_envs={cfg.env.n_envs} leaves no env on "
                                     "the target stage: lower the share or raise env.n_envs")
    if ft.anchor != "none":
        _require(ft.anchor_coef > 0, f"finetune.anchor={ft.anchor} needs finetune.anchor_coef > 0")
    if ft.anchor in ANCHORS_ON_CHAMPION_STATES:
        _require(cfg.hparams.algo != "dqn", f"finetune.anchor={ft.anchor} needs a stochastic policy (ppo, stop_ppo, "
                                            "a2c), not dqn: use finetune.anchor=l2sp")
    if ft.phases:
        from rlft.finetune.phases import parse_phases

        _require(share == 0, "finetune.phases and finetune.rehearsal both mix stages: put the original stage "
                             "in each phase's mix (original: 0.25) and set finetune.rehearsal=0")
        for i, phase in enumerate(parse_phases(cfg)):
            _require(len(phase.mix) <= cfg.env.n_envs, f"finetune.phases[{i}] mixes {len(phase.mix)} stages but "
                                                        f"env.n_envs={cfg.env.n_envs}: raise env.n_envs")


def validate_distill(cfg: DictConfig) -> None:
    """The trace store exists, its chunks agree, and its observations and actions fit the env."""
    from rlft.envs.factory import probe_spaces
    from rlft.traces.distill import check_traces_fit

    d = cfg.distill
    for key in ("epochs", "batch_size", "lr"):
        _positive(cfg, f"distill.{key}")
    _require(d.critic_epochs >= 0, f"distill.critic_epochs={d.critic_epochs} must be >= 0")
    _require(d.rl_timesteps >= 0, f"distill.rl_timesteps={d.rl_timesteps} must be >= 0")
    _require(0 <= d.validation < 1, f"distill.validation={d.validation} must be in [0, 1)")
    _require(d.max_steps is None or d.max_steps > 0, f"distill.max_steps={d.max_steps} must be > 0")
    check_traces_fit(Path(d.traces), *probe_spaces(cfg))


def validate_champion(cfg: DictConfig) -> None:
    """The champion verifies (checksums, allowlist) and the env's spaces are the ones it was trained on."""
    from rlft.champions.registry import Registry, check_fits
    from rlft.envs.factory import probe_spaces

    from rlft.champions.manifest import OPTIMIZER

    champion = Registry(cfg.paths.registry).verify(cfg.champion.name)
    check_fits(champion, *probe_spaces(cfg))
    _require(cfg.finetune.optimizer == "fresh" or (champion.folder / OPTIMIZER).is_file(),
             f"champion {champion.ref} has no saved optimizer state (registered before rlft kept it): "
             "use finetune.optimizer=fresh")


def validate(cfg: DictConfig) -> None:
    """All checks that need no model: call before creating anything on disk."""
    from rlft.config.run_kind import CURRICULUM, DISTILL, FINETUNE, run_kind

    validate_resume(cfg)
    validate_hparams(cfg)
    validate_run_settings(cfg)
    validate_finetune_settings(cfg)
    validate_env(cfg)
    kind = run_kind(cfg)
    if kind == CURRICULUM:
        validate_curriculum(cfg)
        return
    _require(cfg.stage.name != "all", "stage=all runs a whole curriculum: choose one with curriculum=<name> "
                                      "(conf/curriculum/), e.g. curriculum=curve_trace")
    if kind == FINETUNE or (kind == DISTILL and cfg.champion.name != "none"):
        validate_champion(cfg)
    if kind == DISTILL:
        validate_distill(cfg)
    validate_spaces(cfg)
