"""The policy's deterministic action as an ONNX graph, checked against torch before it is kept.

Input ``obs`` (for a Dict observation one input ``obs_<key>`` per entry): a batch of raw
observations in the env's own layout (uint8 images as the env gives them, channel-last ones too:
SB3's transposition to channel-first is part of the graph, like the normalisation stats when the
champion has them). Outputs ``action`` (Discrete: the argmax; MultiDiscrete: one argmax per
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


def _inputs(loaded: "Loaded") -> list[tuple[str | None, bool]]:
    """The graph's inputs in the env's own layout: (Dict entry or None, whether SB3 transposes it
    to channel-first) for each; one input ``obs``, or ``obs_<key>`` per entry of a Dict."""
    from gymnasium import spaces

    held, env = loaded.model.observation_space, loaded.champion.manifest["observation_space"]
    if not isinstance(held, spaces.Dict):
        return [(None, list(held.shape or ()) != list(env["shape"]))]
    if "spaces" not in env:
        raise ConfigError(
            f"champion {loaded.champion.ref} was registered before rlft wrote Dict spaces entry by entry: "
            "register its run again to export it as ONNX"
        )
    return [(key, list(sub.shape or ()) != list(env["spaces"][key]["shape"])) for key, sub in held.spaces.items()]


def input_name(key: str | None) -> str:
    return "obs" if key is None else f"obs_{key}"


def _parts(observations: Any, inputs: list[tuple[str | None, bool]]) -> list[np.ndarray]:
    return [observations if key is None else observations[key] for key, _ in inputs]


def _normalised(loaded: "Loaded", observations: Any) -> Any:
    """What the SB3 model is given for ``observations``: normalised with the champion's stats."""
    from rlft.envs.normalization import ObservationNormalizer, has_normalization

    folder = loaded.champion.folder
    return ObservationNormalizer(folder)(observations) if has_normalization(folder) else observations


def _module(loaded: "Loaded", inputs: list[tuple[str | None, bool]]) -> Any:
    import torch as th
    from gymnasium import spaces

    from rlft.envs.normalization import ObservationNormalizer, has_normalization

    policy: Any = loaded.model.policy
    action_space = loaded.model.action_space
    if type(policy).__name__.startswith("Recurrent") or not hasattr(policy, "_predict"):
        raise ConfigError(
            f"ONNX export covers feed-forward SB3 policies, not {type(policy).__name__} "
            "(a recurrent state or a non-SB3 policy): export format=sb3 or hf instead"
        )
    discrete = isinstance(action_space, (spaces.Discrete, spaces.MultiDiscrete))
    heads = (
        [int(action_space.n)]
        if isinstance(action_space, spaces.Discrete)
        else [int(n) for n in action_space.nvec]
        if isinstance(action_space, spaces.MultiDiscrete)
        else []
    )
    if not discrete and not isinstance(action_space, spaces.Box):
        raise ConfigError(f"ONNX export covers Discrete, MultiDiscrete and Box actions, not {action_space}")
    actor_critic_logits = discrete and hasattr(policy, "action_net") and hasattr(policy, "pi_features_extractor")
    box = action_space if isinstance(action_space, spaces.Box) else None
    norm = ObservationNormalizer(loaded.champion.folder) if has_normalization(loaded.champion.folder) else None
    stats = norm.stats if norm is not None and norm.enabled else {}
    epsilon, clip = (norm.epsilon, norm.clip) if norm is not None else (0.0, 0.0)

    class DeterministicAction(th.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.policy = policy
            self.normalised = []  # per input: its statistics are buffers mean_<i>, std_<i>
            for index, (key, _) in enumerate(inputs):
                self.normalised.append((key or "") in stats)
                if self.normalised[-1]:
                    mean, var = stats[key or ""]
                    self.register_buffer(f"mean_{index}", th.as_tensor(mean, dtype=th.float32))
                    self.register_buffer(f"std_{index}", th.as_tensor(np.sqrt(var + epsilon), dtype=th.float32))
            self.clip = clip

        def forward(self, *parts: th.Tensor) -> tuple[th.Tensor, th.Tensor]:
            seen = []
            for index, ((_, transpose), obs) in enumerate(zip(inputs, parts)):
                if self.normalised[index]:
                    mean, std = getattr(self, f"mean_{index}"), getattr(self, f"std_{index}")
                    obs = th.clamp((obs.float() - mean) / std, -self.clip, self.clip)
                if transpose:  # the env's channel-last images, as SB3's VecTransposeImage gives them to the model
                    obs = obs.permute(0, 3, 1, 2)
                seen.append(obs)
            observation = seen[0] if inputs[0][0] is None else {key: obs for (key, _), obs in zip(inputs, seen)}
            if actor_critic_logits:  # PPO, A2C, TRPO, StopPPO: the action logits are an output too
                features = self.policy.extract_features(observation, self.policy.pi_features_extractor)
                logits = self.policy.action_net(self.policy.mlp_extractor.forward_actor(features))
                actions = [part.argmax(dim=1) for part in th.split(logits, heads, dim=1)]
                return (actions[0] if len(actions) == 1 else th.stack(actions, dim=1)), logits
            # any other SB3 policy (DQN, QR-DQN, SAC, TD3, DDPG, TQC, continuous actor-critics): its
            # own deterministic _predict, then what SB3's predict does to Box actions
            action = self.policy._predict(observation, deterministic=True)
            if box is not None:
                low = th.as_tensor(box.low, dtype=th.float32)
                high = th.as_tensor(box.high, dtype=th.float32)
                action = action.float().reshape(-1, *box.shape)
                if self.policy.squash_output:
                    action = low + 0.5 * (action + 1.0) * (high - low)
                else:
                    action = th.max(th.min(action, high), low)
            return action, action.float()

    return DeterministicAction().eval()


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    """Discrete actions equal; continuous ones within the graph's float tolerance."""
    a, b = np.asarray(a), np.asarray(b).reshape(np.shape(a))
    return bool(np.array_equal(a, b) if a.dtype.kind in "iub" else np.allclose(a, b, atol=TOLERANCE, rtol=0))


def _sample_observations(loaded: "Loaded") -> Any:
    from rlft.champions.loading import manifest_config
    from rlft.envs.factory import make_vec_env
    from rlft.scoring import collect_states

    venv = make_vec_env(manifest_config(loaded.champion.manifest), 8, 0)
    try:
        return collect_states(loaded.model, venv, CHECK_SAMPLES)
    finally:
        venv.close()


def _export(module: Any, parts: list[np.ndarray], names: list[str], path: Path) -> None:
    import contextlib
    import io
    import logging
    import warnings

    import torch as th

    batch = th.export.Dim("batch")
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings(), th.no_grad():
        warnings.simplefilter("ignore")  # the exporter narrates its passes and warns about its internals
        logging.getLogger("torch.onnx").setLevel(logging.ERROR)
        th.onnx.export(
            module,
            tuple(th.as_tensor(part[:2]) for part in parts),
            str(path),
            input_names=names,
            output_names=["action", "logits"],
            dynamic_shapes=(tuple({0: batch} for _ in names),),  # forward(*parts): one batch size for all
            dynamo=True,
            external_data=False,
        )


def write(loaded: "Loaded", folder: Path) -> dict[str, Any]:
    import onnxruntime
    import torch as th

    inputs = _inputs(loaded)
    module = _module(loaded, inputs)
    observations = _sample_observations(loaded)
    parts = _parts(observations, inputs)
    names = [input_name(key) for key, _ in inputs]
    path = folder / "policy.onnx"
    validating = th.distributions.Distribution._validate_args  # SB3's Gaussian checks its std: data-dependent
    th.distributions.Distribution.set_default_validate_args(False)
    try:
        _export(module, parts, names, path)
    finally:
        th.distributions.Distribution.set_default_validate_args(validating)
    with th.no_grad():
        want_action, want_logits = (t.numpy() for t in module(*(th.as_tensor(part) for part in parts)))
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got_action, got_logits = session.run(["action", "logits"], dict(zip(names, parts)))
    sb3_action = loaded.model.predict(_normalised(loaded, observations), deterministic=True)[0]
    check: dict[str, Any] = {
        "samples": len(parts[0]),
        "actions_equal": bool(_same(got_action, want_action) and _same(got_action, sb3_action)),
        "max_abs_logit_diff": float(np.abs(got_logits - want_logits).max()),
        "tolerance": TOLERANCE,
        "inputs": [
            {"name": name, "dtype": str(part.dtype), "shape": ["batch", *part.shape[1:]], "transposed_in_graph": t}
            for name, part, (_, t) in zip(names, parts, inputs)
        ],
    }
    if not check["actions_equal"] or check["max_abs_logit_diff"] > TOLERANCE:
        raise ConfigError(
            f"the ONNX graph disagrees with torch (actions equal: {check['actions_equal']}, largest "
            f"logit difference {check['max_abs_logit_diff']:.2e}); nothing was written"
        )
    (folder / "onnx_check.json").write_text(json.dumps(check, indent=2) + "\n")
    return {"files": ["policy.onnx", "onnx_check.json"], "check": check}
