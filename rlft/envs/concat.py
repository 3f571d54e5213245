"""``ConcatVecEnv``: several VecEnvs side by side as one (e.g. a fine-tune's rehearsal: most envs
on the target stage, a share on the champion's original stage, in every rollout)."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from stable_baselines3.common.vec_env.base_vec_env import VecEnv, VecEnvIndices, VecEnvObs, VecEnvStepReturn

from rlft.errors import ConfigError


class ConcatVecEnv(VecEnv):
    """Env ``i`` of the whole is env ``i - offset[k]`` of part ``k``; parts must share their spaces."""

    def __init__(self, parts: Sequence[VecEnv]) -> None:
        if not parts:
            raise ConfigError("ConcatVecEnv needs at least one VecEnv")
        first = parts[0]
        for part in parts[1:]:
            if part.observation_space != first.observation_space or part.action_space != first.action_space:
                raise ConfigError(
                    f"ConcatVecEnv: parts differ in spaces ({part.observation_space}, "
                    f"{part.action_space} vs {first.observation_space}, {first.action_space})"
                )
        self.parts = list(parts)
        self.bounds = np.cumsum([0] + [p.num_envs for p in self.parts])
        super().__init__(int(self.bounds[-1]), first.observation_space, first.action_space)

    def replace_parts(self, parts: Sequence[VecEnv]) -> None:
        """Swap in new parts (a progressive fine-tune's next phase) and close the old ones. The env
        count and spaces stay, so the model and wrappers above keep working; reset next."""
        replacement = ConcatVecEnv(parts)
        if (replacement.num_envs, replacement.observation_space, replacement.action_space) != (
            self.num_envs,
            self.observation_space,
            self.action_space,
        ):
            replacement.close()
            raise ConfigError(
                f"ConcatVecEnv: new parts ({replacement.num_envs} envs) must match the old "
                f"({self.num_envs} envs) in env count and spaces"
            )
        old, self.parts, self.bounds = self.parts, replacement.parts, replacement.bounds
        for part in old:
            part.close()

    def _locate(self, indices: VecEnvIndices) -> list[tuple[VecEnv, list[int]]]:
        chosen = list(self._get_indices(indices))
        routed = []
        for k, part in enumerate(self.parts):
            local = [i - int(self.bounds[k]) for i in chosen if self.bounds[k] <= i < self.bounds[k + 1]]
            if local:
                routed.append((part, local))
        return routed

    def reset(self) -> VecEnvObs:
        observations = []
        for k, part in enumerate(self.parts):
            lo, hi = self.bounds[k], self.bounds[k + 1]
            if self._seeds[lo] is not None:
                part.seed(self._seeds[lo])
            if any(self._options[lo:hi]):
                part.set_options(self._options[lo:hi])
            obs = part.reset()
            assert isinstance(obs, np.ndarray)  # the parts are flat-observation envs (concatenated)
            observations.append(obs)
        self.reset_infos = [info for part in self.parts for info in part.reset_infos]
        self._reset_seeds()
        self._reset_options()
        return np.concatenate(observations)

    def step_async(self, actions: np.ndarray) -> None:
        for k, part in enumerate(self.parts):
            part.step_async(actions[self.bounds[k] : self.bounds[k + 1]])

    def step_wait(self) -> VecEnvStepReturn:
        results = [part.step_wait() for part in self.parts]
        self.reset_infos = [info for part in self.parts for info in part.reset_infos]
        return (
            np.concatenate([r[0] for r in results]),
            np.concatenate([r[1] for r in results]),
            np.concatenate([r[2] for r in results]),
            [info for r in results for info in r[3]],
        )

    def close(self) -> None:
        for part in self.parts:
            part.close()

    def get_attr(self, attr_name: str, indices: VecEnvIndices = None) -> list[Any]:
        return [v for part, local in self._locate(indices) for v in part.get_attr(attr_name, local)]

    def set_attr(self, attr_name: str, value: Any, indices: VecEnvIndices = None) -> None:
        for part, local in self._locate(indices):
            part.set_attr(attr_name, value, local)

    def env_method(self, method_name: str, *method_args, indices: VecEnvIndices = None, **method_kwargs) -> list[Any]:
        return [
            v
            for part, local in self._locate(indices)
            for v in part.env_method(method_name, *method_args, indices=local, **method_kwargs)
        ]

    def env_is_wrapped(self, wrapper_class: type, indices: VecEnvIndices = None) -> list[bool]:
        return [v for part, local in self._locate(indices) for v in part.env_is_wrapped(wrapper_class, local)]

    def get_images(self) -> Sequence[np.ndarray | None]:
        return [image for part in self.parts for image in part.get_images()]
