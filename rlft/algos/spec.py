"""Which hyperparameters each algorithm takes, without importing stable-baselines3.

Validation uses this table to reject a setting the chosen algorithm would ignore; the model
factory uses it to pass exactly these fields to the SB3 constructor.
"""

from __future__ import annotations

ON_POLICY = frozenset({"gamma", "max_grad_norm", "n_steps", "gae_lambda", "ent_coef", "vf_coef", "normalize_advantage"})
PPO_ONLY = frozenset({"batch_size", "n_epochs", "clip_range", "target_kl"})
STOP_HEAD = frozenset({"lambda_stop", "stop_label_coef", "stop_pos_weight"})
OFF_POLICY = frozenset(
    {
        "gamma",
        "max_grad_norm",
        "batch_size",
        "buffer_size",
        "learning_starts",
        "train_freq",
        "gradient_steps",
        "target_update_interval",
        "exploration_fraction",
        "exploration_initial_eps",
        "exploration_final_eps",
        "tau",
    }
)

# algo name -> (stable-baselines3 class path, hyperparameter fields it accepts)
ALGORITHMS: dict[str, tuple[str, frozenset[str]]] = {
    "ppo": ("stable_baselines3:PPO", ON_POLICY | PPO_ONLY),
    "stop_ppo": ("rlft.algos.stop_ppo:StopPPO", ON_POLICY | PPO_ONLY | STOP_HEAD),
    "a2c": ("stable_baselines3:A2C", ON_POLICY),
    "dqn": ("stable_baselines3:DQN", OFF_POLICY),
}

# every optional algorithm-specific field of HparamsConfig
ALGO_SPECIFIC_FIELDS = ON_POLICY | PPO_ONLY | STOP_HEAD | OFF_POLICY


def is_on_policy(algo: str) -> bool:
    return "n_steps" in ALGORITHMS[algo][1]
