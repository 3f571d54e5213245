"""One tiny config per algorithm on an env that fits it (few hundred steps, small networks)."""

from __future__ import annotations

BASE = [
    "env=cartpole",
    "env.n_envs=2",
    "hparams.total_timesteps=256",
    "eval.every=128",
    "eval.episodes=2",
    "eval.final_episodes=2",
    "eval.n_envs=2",
    "checkpoint.every=128",
    "checkpoint.keep=2",
    "progress=none",
]
PENDULUM = ["env.id=Pendulum-v1", "env.name=pendulum", "env.max_episode_steps=50"]
MASKED = ["env.id=null", "env._target_=tests.algos.masked_env.LeftOnlyCartPole", "env.name=left_only"]
ROLLOUT = ["hparams.n_steps=64", "hparams.batch_size=64"]
REPLAY = ["hparams.learning_starts=64", "hparams.buffer_size=1000", "hparams.batch_size=32", "hparams.gradient_steps=1"]
SMALL = ["hparams.policy_kwargs.net_arch=[16]"]

ALGO_CASES: dict[str, list[str]] = {
    "ppo": ["hparams=ppo", *ROLLOUT, "hparams.n_epochs=1", *SMALL],
    "a2c": ["hparams=a2c", "hparams.n_steps=16", *SMALL],
    "dqn": ["hparams=dqn", *REPLAY, "hparams.train_freq=16", *SMALL],
    "qrdqn": ["hparams=qrdqn", *REPLAY, "hparams.train_freq=16", *SMALL],
    "sac": ["hparams=sac", *PENDULUM, *REPLAY, *SMALL],
    "td3": ["hparams=td3", *PENDULUM, *REPLAY, *SMALL],
    "ddpg": ["hparams=ddpg", *PENDULUM, *REPLAY, *SMALL],
    "tqc": ["hparams=tqc", *PENDULUM, *REPLAY, "hparams.train_freq=1", *SMALL],
    "trpo": ["hparams=trpo", *ROLLOUT, *SMALL],
    "recurrent_ppo": [
        "hparams=recurrent_ppo",
        *ROLLOUT,
        "hparams.n_epochs=1",
        *SMALL,
        "+hparams.policy_kwargs.lstm_hidden_size=8",
    ],
    "maskable_ppo": ["hparams=maskable_ppo", *MASKED, *ROLLOUT, "hparams.n_epochs=1", *SMALL],
    "ars": ["hparams=ars", *PENDULUM, "hparams.n_delta=2"],
}


def algo_config(algo: str, *extra: str) -> list[str]:
    return [*BASE, *ALGO_CASES[algo], *extra]
