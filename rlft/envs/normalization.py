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


def _obs_stats(norm: "VecNormalize") -> dict[str, "RunningMeanStd"]:
    """The observation statistics by key: ``""`` for a single observation, each normalised entry
    of a Dict observation; none when observations are not normalised."""
    if not norm.norm_obs:
        return {}
    obs_rms: Any = norm.obs_rms  # one RunningMeanStd, or a dict of them for a Dict observation space
    return dict(obs_rms) if isinstance(obs_rms, dict) else {"": obs_rms}


def _suffix(key: str) -> str:
    """Array-name suffix of a Dict entry's statistics (``obs_mean.image``); none for a single one."""
    return f".{key}" if key else ""


def save_normalization(venv: "VecEnv", folder: Path) -> bool:
    """Write the stats of ``venv``'s VecNormalize into ``folder``; False if there is none."""
    norm = find_vecnormalize(venv)
    if norm is None:
        return False
    arrays: dict[str, Any] = {  # savez's stubs would read a dict of arrays as its keyword options
        "ret_mean": norm.ret_rms.mean,
        "ret_var": norm.ret_rms.var,
        "ret_count": np.array(norm.ret_rms.count),
    }
    for key, rms in _obs_stats(norm).items():
        arrays |= {
            f"obs_mean{_suffix(key)}": rms.mean,
            f"obs_var{_suffix(key)}": rms.var,
            f"obs_count{_suffix(key)}": np.array(rms.count),
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
    with np.load(folder / STATS_FILE, allow_pickle=False) as data:
        for key, rms in _obs_stats(norm).items():
            rms.mean, rms.var = data[f"obs_mean{_suffix(key)}"], data[f"obs_var{_suffix(key)}"]
            rms.count = float(data[f"obs_count{_suffix(key)}"])
        norm.ret_rms.mean, norm.ret_rms.var = data["ret_mean"], data["ret_var"]
        norm.ret_rms.count = float(data["ret_count"])


def has_normalization(folder: Path) -> bool:
    return (folder / STATS_FILE).is_file()


class ObservationNormalizer:
    """Frozen observation normalisation for evaluation, read from a model folder's stats (Dict
    observations entry by entry, as VecNormalize does)."""

    def __init__(self, folder: Path) -> None:
        settings = read_json(folder / SETTINGS_FILE)
        self.enabled = bool(settings["norm_obs"])
        self.clip = float(settings["clip_obs"])
        self.epsilon = float(settings["epsilon"])
        self.stats: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # key ("" for a single observation) -> mean, var
        with np.load(folder / STATS_FILE, allow_pickle=False) as data:
            for name in data.files:
                if name.startswith("obs_mean"):
                    key = name[len("obs_mean.") :]
                    self.stats[key] = data[name], data[f"obs_var{_suffix(key)}"]

    @property
    def mean(self) -> np.ndarray:
        return self.stats[""][0]

    @property
    def var(self) -> np.ndarray:
        return self.stats[""][1]

    def _normalize(self, obs: np.ndarray, key: str) -> np.ndarray:
        mean, var = self.stats[key]
        return np.clip((obs - mean) / np.sqrt(var + self.epsilon), -self.clip, self.clip).astype(np.float32)

    def __call__(self, obs: Any) -> Any:
        if not self.enabled:
            return obs
        if isinstance(obs, dict):
            return {key: self._normalize(value, key) if key in self.stats else value for key, value in obs.items()}
        return self._normalize(obs, "")
