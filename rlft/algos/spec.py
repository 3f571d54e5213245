"""Which algorithms rlft trains and what each takes, without importing stable-baselines3.

Validation uses this table to reject a setting the chosen algorithm would ignore, a policy name it
does not know and an action space it cannot act in; the model factory passes exactly these fields
to the constructor; a champion may name only these algorithms and their policies.
"""

from __future__ import annotations

from typing import NamedTuple

SDE = frozenset({"use_sde", "sde_sample_freq"})
ON_POLICY = frozenset({"gamma", "max_grad_norm", "n_steps", "gae_lambda", "ent_coef", "vf_coef", "normalize_advantage"})
PPO_ONLY = frozenset({"batch_size", "n_epochs", "clip_range", "target_kl"})
STOP_HEAD = frozenset({"lambda_stop", "stop_label_coef", "stop_pos_weight"})
TRPO_ONLY = frozenset({"cg_max_steps", "cg_damping"})
REPLAY = frozenset({"gamma", "batch_size", "buffer_size", "learning_starts", "train_freq", "gradient_steps", "tau"})
# Q-learning on discrete actions (dqn, qrdqn)
OFF_POLICY = REPLAY | frozenset(
    {
        "max_grad_norm",
        "target_update_interval",
        "exploration_fraction",
        "exploration_initial_eps",
        "exploration_final_eps",
    }
)
# actor + Q critics on continuous actions (ddpg, td3, sac, tqc); action_noise* build SB3's noise object
ACTOR_CRITIC_Q = REPLAY | frozenset({"action_noise", "action_noise_sigma"})
TD3_ONLY = frozenset({"policy_delay", "target_policy_noise", "target_noise_clip"})
SAC_ONLY = frozenset({"ent_coef", "target_entropy", "target_update_interval"}) | SDE
TQC_ONLY = frozenset({"top_quantiles_to_drop_per_net"})
ARS_ONLY = frozenset({"n_delta", "n_top", "delta_std", "zero_policy"})

SB3_POLICIES = ("MlpPolicy", "CnnPolicy", "MultiInputPolicy")
LSTM_POLICIES = ("MlpLstmPolicy", "CnnLstmPolicy", "MultiInputLstmPolicy")
ANY_ACTION = ("Box", "Discrete", "MultiDiscrete", "MultiBinary")
DISCRETE = ("Discrete", "MultiDiscrete", "MultiBinary")

# the policy's module layout, onto which rlft.training.freeze maps logical names (features_extractor, ...)
ACTOR_CRITIC, Q_NET, ACTOR_Q, LINEAR = "actor_critic", "q_net", "actor_q", "linear"


class Algorithm(NamedTuple):
    path: str  # module:Class
    fields: frozenset[str]  # the optional hparams fields it takes
    actions: tuple[str, ...]  # gymnasium action-space classes it acts in (its constructor's supported_action_spaces)
    family: str  # the policy's module layout
    policies: tuple[str, ...] = SB3_POLICIES

    @property
    def contrib(self) -> bool:
        """Needs sb3-contrib (the ``contrib`` extra)."""
        return self.path.startswith("sb3_contrib")


ALGORITHMS: dict[str, Algorithm] = {
    "ppo": Algorithm("stable_baselines3:PPO", ON_POLICY | PPO_ONLY | SDE, ANY_ACTION, ACTOR_CRITIC),
    "stop_ppo": Algorithm(
        "rlft.algos.stop_ppo:StopPPO", ON_POLICY | PPO_ONLY | STOP_HEAD, ("MultiDiscrete", "Discrete"), ACTOR_CRITIC
    ),
    "a2c": Algorithm("stable_baselines3:A2C", ON_POLICY | SDE, ANY_ACTION, ACTOR_CRITIC),
    "dqn": Algorithm("stable_baselines3:DQN", OFF_POLICY, ("Discrete",), Q_NET),
    "sac": Algorithm("stable_baselines3:SAC", ACTOR_CRITIC_Q | SAC_ONLY, ("Box",), ACTOR_Q),
    "td3": Algorithm("stable_baselines3:TD3", ACTOR_CRITIC_Q | TD3_ONLY, ("Box",), ACTOR_Q),
    "ddpg": Algorithm("stable_baselines3:DDPG", ACTOR_CRITIC_Q, ("Box",), ACTOR_Q),
    "qrdqn": Algorithm("sb3_contrib:QRDQN", OFF_POLICY, ("Discrete",), Q_NET),
    "tqc": Algorithm("sb3_contrib:TQC", ACTOR_CRITIC_Q | SAC_ONLY | TQC_ONLY, ("Box",), ACTOR_Q),
    "trpo": Algorithm(
        "sb3_contrib:TRPO",
        frozenset({"gamma", "n_steps", "gae_lambda", "normalize_advantage", "batch_size", "target_kl"})
        | TRPO_ONLY
        | SDE,
        ANY_ACTION,
        ACTOR_CRITIC,
    ),
    "recurrent_ppo": Algorithm(
        "sb3_contrib:RecurrentPPO", ON_POLICY | PPO_ONLY | SDE, ANY_ACTION, ACTOR_CRITIC, LSTM_POLICIES
    ),
    "maskable_ppo": Algorithm("sb3_contrib:MaskablePPO", ON_POLICY | PPO_ONLY, DISCRETE, ACTOR_CRITIC),
    "ars": Algorithm("sb3_contrib:ARS", ARS_ONLY, ("Box", "Discrete"), LINEAR, ("MlpPolicy", "LinearPolicy")),
}

# every optional algorithm-specific field of HparamsConfig
ALGO_SPECIFIC_FIELDS: frozenset[str] = frozenset().union(*(a.fields for a in ALGORITHMS.values()))


def is_on_policy(algo: str) -> bool:
    """Collects rollouts of ``n_steps`` per env (ppo, a2c, trpo and their kin)."""
    return "n_steps" in ALGORITHMS[algo].fields


def needs_action_masks(algo: str) -> bool:
    return algo == "maskable_ppo"


def check_installed(algo: str) -> None:
    """An sb3-contrib algorithm without sb3-contrib installed: one line naming the extra."""
    from importlib.util import find_spec

    from rlft.errors import ConfigError

    if ALGORITHMS[algo].contrib and find_spec("sb3_contrib") is None:
        raise ConfigError(f"hparams.algo={algo} needs sb3-contrib: pip install rlft[contrib]")


def has_one_optimizer(algo: str) -> bool:
    """``model.policy.optimizer`` trains the whole policy (not SAC-like actor/critic pairs, not ARS)."""
    return ALGORITHMS[algo].family in (ACTOR_CRITIC, Q_NET)


def has_action_distribution(algo: str) -> bool:
    """``policy.get_distribution(obs)`` alone gives the action distribution (no LSTM state, no Q-values)."""
    return ALGORITHMS[algo].family == ACTOR_CRITIC and algo != "recurrent_ppo"
