"""The policy's deterministic action as an ONNX graph, checked against torch before it is kept.

Input ``obs``: a batch of raw observations in the env's own layout (uint8 images as the env gives
them, channel-last ones too: SB3's transposition to channel-first is part of the graph, like the
normalisation stats when the champion has them). Dict observations are refused (one input per
entry is not supported yet). Outputs ``action`` (Discrete: the argmax; MultiDiscrete: one argmax per
head) and ``logits``. The check plays the champion in its own env for sample observations and
compares both outputs with onnxruntime, and the actions with the SB3 model's ``predict``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from rlft.errors import ConfigError

if TYPE_CHECKING:
    from rlft.export import Loaded

CHECK_SAMPLES = 256
TOLERANCE = 1e-4


def _transposes(loaded: "Loaded") -> bool:
    """Whether the model holds the env's observations channel-first (SB3's VecTransposeImage);
    Dict observations are refused here, before anything is written."""
    from gymnasium import spaces

    held = loaded.model.observation_space
    if isinstance(held, spaces.Dict):
        raise ConfigError(
            f"champion {loaded.champion.ref} takes Dict observations ({', '.join(held.spaces)}): ONNX export "
            "takes single-array observations; use format=sb3 or format=hf"
        )
    return list(held.shape or ()) != list(loaded.champion.manifest["observation_space"]["shape"])


def _normalised(loaded: "Loaded", observations: np.ndarray) -> np.ndarray:
    """What the SB3 model is given for ``observations``: normalised with the champion's stats."""
    from rlft.envs.normalization import ObservationNormalizer, has_normalization

    folder = loaded.champion.folder
    return ObservationNormalizer(folder)(observations) if has_normalization(folder) else observations


def _module(loaded: "Loaded") -> Any:
    import torch as th
    from gymnasium import spaces

    from rlft.envs.normalization import ObservationNormalizer, has_normalization

    policy: Any = loaded.model.policy  # an actor-critic policy (pi_features_extractor, action_net)
    transpose = _transposes(loaded)
    action_space = loaded.model.action_space
    if isinstance(action_space, spaces.Discrete):
        heads = [int(action_space.n)]
    elif isinstance(action_space, spaces.MultiDiscrete):
        heads = [int(n) for n in action_space.nvec]
    else:
        raise ConfigError(f"ONNX export covers Discrete and MultiDiscrete actions, not {action_space}")
    norm = ObservationNormalizer(loaded.champion.folder) if has_normalization(loaded.champion.folder) else None

    class DeterministicAction(th.nn.Module):
        mean: th.Tensor  # buffers, registered when normalising
        std: th.Tensor

        def __init__(self) -> None:
            super().__init__()
            self.policy = policy
            self.normalise = False
            if norm is not None and norm.enabled:
                self.normalise = True
                self.register_buffer("mean", th.as_tensor(norm.mean, dtype=th.float32))
                self.register_buffer("std", th.as_tensor(np.sqrt(norm.var + norm.epsilon), dtype=th.float32))
                self.clip = norm.clip

        def forward(self, obs: th.Tensor) -> tuple[th.Tensor, th.Tensor]:
            if self.normalise:
                obs = th.clamp((obs.float() - self.mean) / self.std, -self.clip, self.clip)
            if transpose:  # the env's channel-last images, as SB3's VecTransposeImage gives them to the model
                obs = obs.permute(0, 3, 1, 2)
            features = self.policy.extract_features(obs, self.policy.pi_features_extractor)
            logits = self.policy.action_net(self.policy.mlp_extractor.forward_actor(features))
            actions = [part.argmax(dim=1) for part in th.split(logits, heads, dim=1)]
            return (actions[0] if len(actions) == 1 else th.stack(actions, dim=1)), logits

    return DeterministicAction().eval()


def _sample_observations(loaded: "Loaded") -> np.ndarray:
    from rlft.champions.loading import manifest_config
    from rlft.envs.factory import make_vec_env
    from rlft.scoring import collect_states

    venv = make_vec_env(manifest_config(loaded.champion.manifest), 8, 0)
    try:
        return collect_states(loaded.model, venv, CHECK_SAMPLES)
    finally:
        venv.close()


def write(loaded: "Loaded", folder: Path) -> dict[str, Any]:
    import contextlib
    import io
    import logging
    import warnings

    import onnxruntime
    import torch as th

    module = _module(loaded)
    observations = _sample_observations(loaded)
    example = th.as_tensor(observations[:2])
    path = folder / "policy.onnx"
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings(), th.no_grad():
        warnings.simplefilter("ignore")  # the exporter narrates its passes and warns about its internals
        logging.getLogger("torch.onnx").setLevel(logging.ERROR)
        th.onnx.export(
            module,
            (example,),
            str(path),
            input_names=["obs"],
            output_names=["action", "logits"],
            dynamic_axes={"obs": {0: "batch"}, "action": {0: "batch"}, "logits": {0: "batch"}},
            dynamo=True,
            external_data=False,
        )
    with th.no_grad():
        want_action, want_logits = (t.numpy() for t in module(th.as_tensor(observations)))
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got_action, got_logits = session.run(["action", "logits"], {"obs": observations})
    sb3_action = loaded.model.predict(_normalised(loaded, observations), deterministic=True)[0]
    check: dict[str, Any] = {
        "samples": len(observations),
        "actions_equal": bool(np.array_equal(got_action, want_action) and np.array_equal(got_action, sb3_action)),
        "max_abs_logit_diff": float(np.abs(got_logits - want_logits).max()),
        "tolerance": TOLERANCE,
        "input": {"name": "obs", "dtype": str(observations.dtype), "shape": ["batch", *observations.shape[1:]]},
    }
    if not check["actions_equal"] or check["max_abs_logit_diff"] > TOLERANCE:
        raise ConfigError(
            f"the ONNX graph disagrees with torch (actions equal: {check['actions_equal']}, largest "
            f"logit difference {check['max_abs_logit_diff']:.2e}); nothing was written"
        )
    (folder / "onnx_check.json").write_text(json.dumps(check, indent=2) + "\n")
    return {"files": ["policy.onnx", "onnx_check.json"], "check": check}
