"""The ``finetune`` block: schema and checks. Light: no torch or SB3 at module level."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, List

from omegaconf import DictConfig

from rlft.algos.spec import ALGORITHMS, has_action_distribution, has_one_optimizer
from rlft.config.checks import at_least, one_of, positive, require
from rlft.config.schema import NONE

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
    ``continue_steps``: the step counter starts at the champion's last step (SB3's
    ``reset_num_timesteps=False``), so LR / clip / exploration schedules continue from that position
    and TensorBoard's axis continues the champion's; ``hparams.total_timesteps`` is then the steps
    added. By default the counter starts at 0 and an exploring off-policy algorithm (DQN) starts at
    its final epsilon (``hparams.exploration_initial_eps``, unless set).
    """

    anchor: str = "none"  # none | l2sp | ewc | kl
    anchor_coef: float = 0.0
    anchor_samples: int = 2048  # ewc / kl: champion states collected on its original stage
    rehearsal: float = 0.0  # share of the training envs on the champion's original stage (0 = none)
    phases: List[Any] = field(default_factory=list)  # [{timesteps: N, mix: {target: 0.7, original: 0.3}}, ...]
    optimizer: str = "fresh"  # fresh | kept
    continue_steps: bool = False  # continue the champion's step count and schedules


def validate_finetune(cfg: DictConfig) -> None:
    ft = cfg.finetune
    one_of(cfg, "finetune.anchor", FINETUNE_ANCHORS)
    one_of(cfg, "finetune.optimizer", ("fresh", "kept"))
    at_least(cfg, "finetune.anchor_coef", 0)
    positive(cfg, "finetune.anchor_samples")
    share = ft.rehearsal
    require(0 <= share < 1, f"finetune.rehearsal={share} must be in [0, 1): the share of envs on the original stage")
    for switch, active, what in (
        ("finetune.rehearsal", share > 0, "replays a champion's original stage"),
        ("finetune.anchor", ft.anchor != "none", "anchors to a champion"),
        ("finetune.phases", bool(ft.phases), "mixes stages of a fine-tune"),
        ("finetune.optimizer", ft.optimizer == "kept", "keeps a champion's optimizer"),
        ("finetune.continue_steps", ft.continue_steps, "continues a champion's step count"),
    ):
        require(
            not active or cfg.champion.name != NONE,
            f"{switch} {what}: add champion=<name>, or leave {switch} at its default",
        )
    if share > 0:
        from rlft.envs.factory import rehearsal_split

        k = rehearsal_split(cfg.env.n_envs, share)
        require(
            k < cfg.env.n_envs,
            f"finetune.rehearsal={share} with env.n_envs={cfg.env.n_envs} leaves no env on "
            "the target stage: lower the share or raise env.n_envs",
        )
    if ft.anchor != "none":
        require(ft.anchor_coef > 0, f"finetune.anchor={ft.anchor} needs finetune.anchor_coef > 0")
    algo = cfg.hparams.algo
    if ft.anchor != "none":
        require(
            has_one_optimizer(algo),
            f"finetune.anchor={ft.anchor} hooks the policy's one optimizer, which algo {algo} does not "
            f"have: use finetune.anchor=none, or one of {', '.join(a for a in ALGORITHMS if has_one_optimizer(a))}",
        )
    if ft.anchor in ANCHORS_ON_CHAMPION_STATES:
        require(
            has_action_distribution(algo),
            f"finetune.anchor={ft.anchor} needs a stochastic policy without an LSTM "
            f"({', '.join(a for a in ALGORITHMS if has_action_distribution(a))}), not {algo}: use finetune.anchor=l2sp",
        )
    if ft.phases:
        from rlft.finetune.phases import parse_phases

        require(
            not ft.continue_steps,
            "finetune.phases count steps from the fine-tune's start: set finetune.continue_steps=false",
        )
        require(
            share == 0,
            "finetune.phases and finetune.rehearsal both mix stages: put the original stage "
            "in each phase's mix (original: 0.25) and set finetune.rehearsal=0",
        )
        for i, phase in enumerate(parse_phases(cfg)):
            require(
                len(phase.mix) <= cfg.env.n_envs,
                f"finetune.phases[{i}] mixes {len(phase.mix)} stages but env.n_envs={cfg.env.n_envs}: raise env.n_envs",
            )
