"""The whole composed configuration of ``python -m rlft.train``: every feature's block in one typed tree.

It sits above the features (each owns its block's dataclass and checks) and registers itself as
the root schema of :mod:`rlft.config.schema`, whose ``schema_node()`` / ``register_configs()``
every caller uses. Light: ``python -m rlft.train --cfg job`` and ``--help`` import it, so no
torch, stable-baselines3 or gymnasium here or in the block modules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Optional

from omegaconf import MISSING

from rlft.champions.schema import ChampionConfig
from rlft.config.schema import EnvConfig, PathsConfig, StageConfig, register_configs, schema_node, set_root_schema
from rlft.curriculum.schema import CurriculumConfig
from rlft.finetune.schema import FinetuneConfig
from rlft.traces.schema import DistillConfig
from rlft.training.schema import CheckpointConfig, EarlyStopConfig, EvalConfig, HparamsConfig

__all__ = ["RlftConfig", "register_configs", "schema_node"]


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
    optimized_metric: Optional[str] = (
        None  # what a run returns to a sweeper: an own metric or info/<key>; null = success_rate if reported, else mean_reward
    )
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    torch_threads: int = 1  # measured: 4-5x faster than 2 threads for small policies on 2 cores
    resume: Optional[str] = None
    # a model to start from (rlft.champions.sources): a champion NAME[@vN], a run / curriculum /
    # fine-tune / model folder, an exported HF folder or an SB3 zip; recorded as the run's parent
    init: Optional[str] = None
    init_which: str = "final"  # final | best: which model of a run folder
    init_checkpoint: Optional[int] = None  # a run folder's checkpoint at this step instead
    trust_pickle: bool = False  # an SB3 zip unpickles its data: read one only when this is true
    progress: str = "auto"  # auto (bar on a terminal, log lines otherwise) | bar | log | none
    progress_every_s: float = 30.0


set_root_schema(RlftConfig)
