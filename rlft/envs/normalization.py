"""VecNormalize statistics as ``vecnormalize.npz`` + ``vecnormalize.json``, never pickled.

SB3's ``VecNormalize.save`` pickles the whole wrapper; these files hold only arrays (loaded with
``allow_pickle=False``) and plain settings, so they are safe to share and stay tied to the model
folder they sit in (best/ and final/ each get their own).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rlft.io import atomic_path, atomic_write_json, read_json

if TYPE_CHECKING:
    from stable_baselines3.common.running_mean_std import RunningMeanStd
    from stable_baselines3.common.vec_env import VecEnv, VecNormalize

STATS_FILE = "vecnormalize.npz"
SETTINGS_FILE = "vecnormalize.json"


def find_vecnormalize(venv: "VecEnv") -> "VecNormalize | None":
    from stable_baselines3.common.vec_env import VecEnvWrapper, VecNormalize

    while isinstance(venv, VecEnvWrapper):
        if isinstance(venv, VecNormalize):
            return venv
        venv = venv.venv
    return None


def _flat_obs_rms(norm: "VecNormalize") -> "RunningMeanStd":
    """The observation statistics: one RunningMeanStd (SB3 keeps a dict of them for a Dict
    observation space, which the saved stats file does not hold)."""
    from stable_baselines3.common.running_mean_std import RunningMeanStd

    assert isinstance(norm.obs_rms, RunningMeanStd)
    return norm.obs_rms


def save_normalization(venv: "VecEnv", folder: Path) -> bool:
    """Write the stats of ``venv``'s VecNormalize into ``folder``; False if there is none."""
    norm = find_vecnormalize(venv)
    if norm is None:
        return False
    obs_rms = _flat_obs_rms(norm)
    arrays: dict[str, Any] = {  # savez's stubs would read a dict of arrays as its keyword options
        "obs_mean": obs_rms.mean,
        "obs_var": obs_rms.var,
        "obs_count": np.array(obs_rms.count),
        "ret_mean": norm.ret_rms.mean,
        "ret_var": norm.ret_rms.var,
        "ret_count": np.array(norm.ret_rms.count),
    }
    with atomic_path(folder / STATS_FILE) as tmp:
        with open(tmp, "wb") as handle:
            np.savez(handle, **arrays)
    atomic_write_json(
        folder / SETTINGS_FILE,
        {
            "norm_obs": norm.norm_obs,
            "norm_reward": norm.norm_reward,
            "clip_obs": norm.clip_obs,
            "clip_reward": norm.clip_reward,
            "gamma": norm.gamma,
            "epsilon": norm.epsilon,
        },
    )
    return True


def load_normalization_into(norm: "VecNormalize", folder: Path) -> None:
    """Restore saved statistics into an existing VecNormalize (e.g. when resuming)."""
    obs_rms = _flat_obs_rms(norm)
    with np.load(folder / STATS_FILE, allow_pickle=False) as data:
        obs_rms.mean, obs_rms.var = data["obs_mean"], data["obs_var"]
        obs_rms.count = float(data["obs_count"])
        norm.ret_rms.mean, norm.ret_rms.var = data["ret_mean"], data["ret_var"]
        norm.ret_rms.count = float(data["ret_count"])


def has_normalization(folder: Path) -> bool:
    return (folder / STATS_FILE).is_file()


class ObservationNormalizer:
    """Frozen observation normalisation for evaluation, read from a model folder's stats."""

    def __init__(self, folder: Path) -> None:
        settings = read_json(folder / SETTINGS_FILE)
        with np.load(folder / STATS_FILE, allow_pickle=False) as data:
            self.mean, self.var = data["obs_mean"], data["obs_var"]
        self.enabled = bool(settings["norm_obs"])
        self.clip = float(settings["clip_obs"])
        self.epsilon = float(settings["epsilon"])

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        if not self.enabled:
            return obs
        return np.clip((obs - self.mean) / np.sqrt(self.var + self.epsilon), -self.clip, self.clip).astype(np.float32)
