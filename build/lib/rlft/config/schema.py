"""Typed schema of the configuration tree.

Every config group (``env``, ``stage``, ``hparams``, ``champion``, ``curriculum``) is a field of
:class:`RlftConfig` typed by its own dataclass, so Hydra rejects a wrong type or an unknown key at
composition time, naming the key. Cross-field rules live in :mod:`rlft.config.validate`.

This module must stay light: ``python -m rlft.train --cfg job`` imports it, and must not pull in
torch, stable-baselines3 or gymnasium.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Dict, List, Optional

from omegaconf import MISSING

if TYPE_CHECKING:
    from omegaconf import DictConfig

NONE = "none"  # the option name that switches an optional group (champion, curriculum) off


@dataclass
class NormalizeConfig:
    """VecNormalize settings; statistics are saved next to every model (``vecnormalize.npz``)."""

    obs: bool = False
    reward: bool = False
    clip_obs: float = 10.0
    clip_reward: float = 10.0


@dataclass
class EnvConfig:
    """Which environment to build and how to vectorise it.

    Exactly one of ``id`` (a gymnasium id, ``module:Id`` accepted) and ``_target_`` (a dotted path
    to a callable returning a ``gymnasium.Env``) is set. ``kwargs`` go to the constructor, merged
    under the stage's ``env_kwargs`` and the top-level ``stage_overrides``.
    """

    name: str = MISSING
    id: Optional[str] = None
    _target_: Optional[str] = None
    kwargs: Dict[str, Any] = field(default_factory=dict)
    n_envs: int = 8
    # "dummy" | "subproc" | dotted path of a batched VecEnv class taking (n_envs, seed=..., **kwargs)
    vec_env: str = "dummy"
    max_episode_steps: Optional[int] = None
    normalize: NormalizeConfig = field(default_factory=NormalizeConfig)


@dataclass
class StageConfig:
    """A named difficulty level: env-kwarg overrides applied on top of ``env.kwargs``."""

    name: str = NONE
    env_kwargs: Dict[str, Any] = field(default_factory=dict)


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
    freeze: List[str] = field(default_factory=list)  # module-name prefixes kept fixed, e.g. [features_extractor]
    gamma: Optional[float] = None
    batch_size: Optional[int] = None
    max_grad_norm: Optional[float] = None
    # on-policy (ppo, a2c)
    n_steps: Optional[int] = None
    gae_lambda: Optional[float] = None
    ent_coef: Optional[float] = None
    vf_coef: Optional[float] = None
    normalize_advantage: Optional[bool] = None
    # ppo
    n_epochs: Optional[int] = None
    clip_range: Optional[float] = None
    clip_schedule: str = "constant"  # constant | linear (from clip_range to 0)
    target_kl: Optional[float] = None
    # decoupled stop head (stop_ppo)
    lambda_stop: Optional[float] = None
    stop_label_coef: Optional[float] = None
    stop_pos_weight: Optional[float] = None
    # off-policy (dqn)
    buffer_size: Optional[int] = None
    learning_starts: Optional[int] = None
    train_freq: Optional[int] = None
    gradient_steps: Optional[int] = None
    target_update_interval: Optional[int] = None
    exploration_fraction: Optional[float] = None
    exploration_initial_eps: Optional[float] = None
    exploration_final_eps: Optional[float] = None
    tau: Optional[float] = None


@dataclass
class ChampionConfig:
    """A registered champion to start from (filled by the champion registry)."""

    name: str = NONE


@dataclass
class PromotionConfig:
    """When a curriculum stage is good enough to move on: ``metric`` (``mode`` max: >=, min: <=)
    ``threshold`` on a deterministic evaluation of at least ``episodes`` episodes.

    ``early``: end the stage at the first periodic evaluation that meets the rule (the stage's
    evaluations then use at least ``episodes`` episodes); otherwise train the stage's whole budget
    and decide on the final evaluation.
    """

    metric: str = "success_rate"
    mode: str = "max"
    threshold: float = 0.9
    episodes: int = 100
    early: bool = True


@dataclass
class CurriculumConfig:
    """Ordered stages, each starting from the previous stage's model (``rlft.curriculum``).

    ``stages`` entries (see ``rlft.curriculum.plan`` for the keys and the classic per-stage
    layout it also accepts) carry their own budget, hparams overrides, promotion rule and early
    stopping; ``promotion`` is the default rule of entries that name none.
    """

    name: str = NONE
    stages: List[Any] = field(default_factory=list)
    promotion: PromotionConfig = field(default_factory=PromotionConfig)
    handoff: str = "final"  # final | best: which model of a stage the next stage starts from
    on_fail: str = "stop"  # stop | continue: what a stage that misses its promotion rule does
    start: Optional[str] = None  # first stage to run (a stage name from the list); null = the first
    stop: Optional[str] = None  # last stage to run (inclusive); null = the last
    init: Optional[str] = None  # a run folder or model folder whose model starts the first stage
    max_timesteps_per_stage: Optional[int] = None  # caps every stage's budget (smoke tests)


@dataclass
class EvalConfig:
    """Periodic deterministic evaluation on fixed seeds ``seed, seed+1, ...`` (paired across runs)."""

    every: int = 10_000  # timesteps between evaluations; 0 = only the final evaluation
    episodes: int = 20
    final_episodes: int = 100
    seed: int = 1_000_000
    deterministic: bool = True
    n_envs: int = 8  # episodes evaluated side by side (batched policy calls)
    metric: str = "auto"  # what picks best/: auto (success_rate if reported) | success_rate | mean_reward


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

    metric: Optional[str] = None  # success_rate | mean_reward | mean_length; null disables
    mode: str = "max"
    target: Optional[float] = None
    threshold: Optional[float] = None
    patience: Optional[int] = None
    min_delta: float = 0.0


@dataclass
class PathsConfig:
    output_dir: str = "outputs"
    multirun_dir: str = "multirun"
    registry: str = "${oc.env:RLFT_REGISTRY,champions}"


FINETUNE_ANCHORS = ("none", "l2sp", "ewc", "kl")
ANCHORS_ON_CHAMPION_STATES = ("ewc", "kl")  # they play the champion on its original stage first


@dataclass
class FinetuneConfig:
    """How a fine-tune keeps what the champion knew (only with ``champion=...``).

    ``anchor`` pulls the fine-tune towards the champion with strength ``anchor_coef``:
    ``l2sp`` adds ``coef / 2 * ||w - w_champion||^2`` (L2-SP); ``ewc`` weighs that pull per weight
    by the champion's diagonal Fisher (normalised to mean 1, so coefficients compare with L2-SP);
    ``kl`` adds ``coef * KL(champion || policy)`` on states of the champion's original stage.
    EWC and KL play the champion on its original stage for ``anchor_samples`` states first.
    ``rehearsal``: a share of the envs keeps playing the champion's original stage, so every
    rollout still holds the old task. ``phases``: a progressive schedule, a list of
    ``{timesteps: N, mix: {<stage>: share, ...}}`` (stage: ``target``, ``original`` or a stage
    option such as ``"2"``); the budget is then the phases' sum. ``optimizer: kept`` starts from the
    champion's Adam moments (saved with the champion) instead of a fresh optimizer.
    """

    anchor: str = "none"  # none | l2sp | ewc | kl
    anchor_coef: float = 0.0
    anchor_samples: int = 2048  # ewc / kl: champion states collected on its original stage
    rehearsal: float = 0.0  # share of the training envs on the champion's original stage (0 = none)
    phases: List[Any] = field(default_factory=list)  # [{timesteps: N, mix: {target: 0.7, original: 0.3}}, ...]
    optimizer: str = "fresh"  # fresh | kept


@dataclass
class DistillConfig:
    """Behaviour cloning on recorded traces (``distill=<trace dir>``, see ``rlft.traces``).

    The policy (fresh, or ``champion=<base>``'s) is trained to give the traces' actions (cross
    entropy, plain torch loop), then its critic is fitted to the traces' discounted returns so RL
    can continue without a value shock; ``rl_timesteps`` > 0 continues with RL on the env.
    """

    traces: Optional[str] = None
    epochs: int = 10
    batch_size: int = 256
    lr: float = 1.0e-3
    critic_epochs: int = 3
    validation: float = 0.1  # share of episodes held out to report the imitation accuracy
    max_steps: Optional[int] = 2_000_000  # steps loaded into memory at most (the first episodes)
    rl_timesteps: int = 0


@dataclass
class RlftConfig:
    """The whole composed configuration of ``python -m rlft.train``."""

    env: EnvConfig = field(default_factory=EnvConfig)
    stage: StageConfig = field(default_factory=StageConfig)
    hparams: HparamsConfig = field(default_factory=HparamsConfig)
    champion: ChampionConfig = field(default_factory=ChampionConfig)
    curriculum: CurriculumConfig = field(default_factory=CurriculumConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    checkpoint: CheckpointConfig = field(default_factory=CheckpointConfig)
    early_stop: EarlyStopConfig = field(default_factory=EarlyStopConfig)
    paths: PathsConfig = field(default_factory=PathsConfig)
    stage_overrides: Dict[str, Any] = field(default_factory=dict)
    finetune: FinetuneConfig = field(default_factory=FinetuneConfig)
    distill: DistillConfig = field(default_factory=DistillConfig)
    experiment_name: str = MISSING
    optimized_metric: Optional[str] = None  # what a run returns to a sweeper: success_rate | mean_reward | mean_length; null = success_rate if reported, else mean_reward
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    torch_threads: int = 1  # measured: 4-5x faster than 2 threads for small policies on 2 cores
    resume: Optional[str] = None
    progress: str = "auto"  # auto (bar on a terminal, log lines otherwise) | bar | log | none
    progress_every_s: float = 30.0


SCHEMA_NAME = "rlft_schema"


# Free-form dicts: any key may be added by an override (``env.kwargs={...}``,
# ``stage_overrides.noise_sigma=0.1``) without Hydra's ``+`` prefix; their receivers validate them.
OPEN_DICTS = ("env.kwargs", "stage.env_kwargs", "stage_overrides", "hparams.policy_kwargs")


def schema_node() -> "DictConfig":
    from omegaconf import OmegaConf

    node = OmegaConf.structured(RlftConfig)
    for key in OPEN_DICTS:
        OmegaConf.set_struct(OmegaConf.select(node, key), False)
    return node


def register_configs() -> None:
    """Put the schema into Hydra's ConfigStore; ``conf/config.yaml`` extends it."""
    from hydra.core.config_store import ConfigStore

    ConfigStore.instance().store(name=SCHEMA_NAME, node=schema_node())
