"""Pictures of CurveTrace episodes: one RGB frame, or a PNG / GIF of a whole episode."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from rlft.envs.curve_trace.generator import PAD, Episode

_SCALE = 4


def render_frame(episode: Episode, visited: np.ndarray, agent: tuple[int, int], scale: int = _SCALE) -> np.ndarray:
    """``(H * scale, H * scale, 3)`` uint8: the image in grey, the visited path in blue, the curve's
    end in green (a ring of the stop radius is not drawn: the end dot is 3x3 px) and the agent in red.

    ``visited`` is the padded visited mask of the env; ``agent`` is ``(y, x)`` in image pixels.
    """
    img = episode.image[PAD:-PAD, PAD:-PAD]
    rgb = np.repeat(img[:, :, None], 3, axis=2).astype(np.float32)
    path = visited[PAD:-PAD, PAD:-PAD] != 0
    rgb[path] = 0.4 * rgb[path] + 0.6 * np.array([60, 120, 255])
    H = img.shape[0]
    ey, ex = (int(round(v)) for v in episode.end)
    rgb[max(ey - 1, 0) : ey + 2, max(ex - 1, 0) : ex + 2] = (0, 220, 0)
    rgb[agent[0], agent[1]] = (255, 40, 40)
    frame = np.clip(rgb, 0, 255).astype(np.uint8)
    return np.kron(frame, np.ones((scale, scale, 1), dtype=np.uint8)) if scale > 1 else frame.reshape(H, H, 3)


def _frame(env: Any) -> np.ndarray:
    """The env's frame: it renders once reset with a render mode (as :func:`save_episode` makes it)."""
    frame = env.render()
    assert frame is not None
    return frame


def save_episode(
    policy: Any,
    env_or_kwargs: Any,
    path: str | Path,
    seed: int = 0,
    deterministic: bool = True,
    max_frames: int = 400,
    fps: int = 10,
) -> dict[str, Any]:
    """Play one episode of ``policy`` (anything with SB3's ``predict``) and save it as a picture.

    ``env_or_kwargs``: a ``CurveTraceEnv`` or the kwargs to build one. ``path`` ending in ``.gif``
    gets an animation (one frame per step, at most ``max_frames``), anything else (``.png``) the
    last frame. Returns ``{"path", "steps", "return", "is_success"}``.
    """
    from PIL import Image

    from rlft.envs.curve_trace.env import CurveTraceEnv

    env = (
        env_or_kwargs
        if isinstance(env_or_kwargs, CurveTraceEnv)
        else CurveTraceEnv(**{**dict(env_or_kwargs), "render_mode": "rgb_array"})
    )
    if env.render_mode is None:
        env.render_mode = "rgb_array"
    obs, _ = env.reset(seed=seed)
    frames = [_frame(env)]
    state, start, total, steps = None, np.ones(1, dtype=bool), 0.0, 0
    info: dict[str, Any] = {}
    done = False
    while not done:
        action, state = policy.predict(obs[None], state=state, episode_start=start, deterministic=deterministic)
        start = np.zeros(1, dtype=bool)
        obs, reward, terminated, truncated, info = env.step(action[0])
        total += reward
        steps += 1
        done = terminated or truncated
        if len(frames) < max_frames:
            frames.append(_frame(env))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".gif":
        images = [Image.fromarray(f) for f in frames]
        images[0].save(path, save_all=True, append_images=images[1:], duration=int(1000 / fps), loop=0)
    else:
        Image.fromarray(_frame(env)).save(path)
    return {"path": str(path), "steps": steps, "return": total, "is_success": bool(info.get("is_success", False))}
