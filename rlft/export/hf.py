"""A Hugging Face-style model folder: ``README.md`` (model card), ``model.safetensors``,
``config.json`` and, for CurveTrace, ``episode.gif`` of the champion on its own stage."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rlft.config.metrics import is_info_metric

if TYPE_CHECKING:
    from rlft.export import Loaded

CURVE_TRACE_ID = "rlft/CurveTrace-v0"


def _config(loaded: "Loaded") -> dict[str, Any]:
    m = loaded.champion.manifest
    return {
        "champion": loaded.champion.ref,
        "algo": m["hparams"]["algo"],
        "policy": m["hparams"]["policy"],
        "policy_kwargs": m["hparams"]["policy_kwargs"],
        "architecture": m["architecture"],
        "observation_space": m["observation_space"],
        "model_observation_space": _model_observation(m),
        "action_space": m["action_space"],
        "env": m["env"],
        "stage": m["stage"],
        "stage_overrides": m["stage_overrides"],
        "hparams": m["hparams"],
        "metrics": m["metrics"],
        "parent": m.get("parent"),
        "packages": m.get("packages"),
        "weights": "model.safetensors (the policy's state_dict, safetensors)",
    }


def wrapping(env: dict[str, Any]) -> str:
    """The wrappers the model's env had (``rlft.envs.wrappers``): a plain SB3 user must rebuild them."""
    parts = [
        *(["the old gym API adapted (`api: gym`)"] if env.get("api") == "gym" else []),
        *(["SB3's AtariWrapper without life-loss ends or reward clipping (`atari: true`)"] if env.get("atari") else []),
        *(f"`{entry['_target_']}`" for entry in env.get("wrappers") or []),
        *([f"{env['frame_stack']} stacked frames (`frame_stack`)"] if env.get("frame_stack") else []),
    ]
    if not parts:
        return ""
    return (
        f"The env is wrapped, innermost first: {', '.join(parts)}. Build it the same way "
        "(`rlft.envs.factory.make_env` does, from config.json's `env`).\n\n"
    )


def _model_observation(manifest: dict[str, Any]) -> dict[str, Any]:
    """The observation space the model holds (:mod:`rlft.envs.spaces`: after SB3's image transposition)."""
    from rlft.envs.spaces import stored_model_specs

    return stored_model_specs(manifest["observation_space"], manifest["action_space"], manifest["env"])[0]


def observation_layout(manifest: dict[str, Any]) -> str:
    """One sentence on the layout of observations: the env's, and the model's when SB3 transposes."""
    env, held = manifest["observation_space"], _model_observation(manifest)
    pairs = [("", env, held)]
    if env.get("type") == "Dict" and "spaces" in env:
        pairs = [(f"`{key}`: ", sub, held["spaces"][key]) for key, sub in env["spaces"].items()]
    moved = [f"{key}`{a['shape']}` -> `{b['shape']}`" for key, a, b in pairs if a.get("shape") != b.get("shape")]
    if not moved:
        return "The model takes observations in the env's own layout."
    return (
        f"The env gives channel-last images; the model holds them channel-first ({', '.join(moved)}: SB3's "
        "VecTransposeImage). `model.predict` and the ONNX export take the env's layout; a bare "
        "`model.policy` takes the model's."
    )


def _card(loaded: "Loaded", gif: dict[str, Any] | None) -> str:
    m = loaded.champion.manifest
    metrics = m["metrics"]
    final = metrics.get("final") or {}
    env_id = m["env"].get("id") or m["env"].get("_target_")
    stage = m["stage"].get("name")
    rows = [("success rate (registered, " + str(metrics.get("source")) + ")", metrics.get("success_rate"))]
    rows += [
        (f"final evaluation: {key.replace('_', ' ')}", final.get(key))
        for key in ("success_rate", "mean_reward", "mean_length", *(k for k in final if is_info_metric(k)), "episodes")
        if final.get(key) is not None
    ]
    rows.append(("training timesteps", metrics.get("total_timesteps")))
    table = "\n".join(
        f"| {name} | {value if not isinstance(value, float) else round(value, 4)} |" for name, value in rows
    )
    success = metrics.get("success_rate")
    front = "\n".join(
        [
            "---",
            "library_name: stable-baselines3",
            "tags:",
            "- reinforcement-learning",
            "- rlft",
            f"- {m['hparams']['algo']}",
            f"- {env_id}",
            "model-index:",
            f"- name: {loaded.champion.ref}",
            "  results:",
            "  - task:",
            "      type: reinforcement-learning",
            "    dataset:",
            f"      name: {env_id} stage {stage}",
            f"      type: {env_id}",
            "    metrics:",
            "    - type: success_rate",
            f"      value: {success}",
            "---",
            "",
        ]
    )
    lineage = f"Fine-tuned from champion `{m['parent']}`." if m.get("parent") else "Trained from scratch."
    gate = m.get("gate") or {}
    gif_line = (
        f"![an episode on its own stage](episode.gif)\n\nOne deterministic episode (seed 0): "
        f"{'success' if gif['is_success'] else 'failure'}, {gif['steps']} steps.\n"
        if gif
        else ""
    )
    overrides = f" with stage overrides `{json.dumps(m['stage_overrides'])}`" if m["stage_overrides"] else ""
    hparams = json.dumps({k: v for k, v in m["hparams"].items() if v is not None and k != "policy_kwargs"}, indent=2)
    return (
        front
        + f"""# {loaded.champion.ref}

A {m["hparams"]["algo"].upper()} agent ({m["architecture"]} architecture) for `{env_id}`, stage `{stage}`{overrides},
banked with rlft as champion `{loaded.champion.ref}`. {lineage}
Registered {m.get("created_at")} from run `{Path(m.get("source_run", "")).name}`
({"promoted: it beat its parent" if "promotion" in gate else ("forced below the gate" if gate.get("forced") else f"passed the success gate {gate.get('min_success')}")}).

## Evaluation

| metric | value |
|---|---|
{table}

{gif_line}
## Use it

{wrapping(m["env"])}With rlft installed, from this folder (config.json + model.safetensors, nothing unpickled; the
class paths config.json names are checked against rlft's allowlist first):

```python
from rlft.champions.sources import load_export

model = load_export(".")  # a {type(loaded.model).__name__} on one env of its own config
obs = model.get_env().reset()
action, _ = model.predict(obs, deterministic=True)
print(action)
```

Evaluate it with `rlft evaluate DIR`; train on from it, with other env arguments if you like (the
new run records this folder's weights, path and sha256, as its parent; keep config.json's `hparams`
network): `rlft train env={m["env"].get("name")} init=DIR`.

A plain SB3 zip: `rlft export {loaded.champion.name} format=sb3 out=DIR`, then
`from {type(loaded.model).__module__} import {type(loaded.model).__name__}` and
`{type(loaded.model).__name__}.load("DIR/model.zip")`.

## Training configuration

Observation space `{json.dumps(m["observation_space"])}`, action space `{json.dumps(m["action_space"])}`.
{observation_layout(m)}
Policy `{m["hparams"]["policy"]}` with `{json.dumps(m["hparams"]["policy_kwargs"])}`.

```json
{hparams}
```

Packages: {", ".join(f"{k} {v}" for k, v in (m.get("packages") or {}).items())}.
"""
    )


def write(loaded: "Loaded", folder: Path) -> dict[str, Any]:
    from rlft.champions.manifest import WEIGHTS
    from rlft.envs.normalization import SETTINGS_FILE, STATS_FILE

    shutil.copy2(loaded.champion.folder / WEIGHTS, folder / "model.safetensors")
    (folder / "model.safetensors").chmod(0o644)
    for extra in (STATS_FILE, SETTINGS_FILE):  # observation normalisation: init= and evaluate load it back
        if (loaded.champion.folder / extra).is_file():
            shutil.copy2(loaded.champion.folder / extra, folder / extra)
    (folder / "config.json").write_text(json.dumps(_config(loaded), indent=2) + "\n")
    gif = None
    m = loaded.champion.manifest
    if m["env"].get("id") == CURVE_TRACE_ID:
        from rlft.champions.loading import manifest_config
        from rlft.envs.curve_trace.render import save_episode
        from rlft.envs.factory import env_kwargs

        gif = save_episode(loaded.model, env_kwargs(manifest_config(m)), folder / "episode.gif", seed=0)
    (folder / "README.md").write_text(_card(loaded, gif))
    return {"files": sorted(p.name for p in folder.iterdir()), "episode": gif}
