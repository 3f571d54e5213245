"""The rules of CurveTrace, shared by the single env and the batched VecEnv.

The functions here are written with arithmetic and comparisons only, so the same code runs on
Python scalars (:class:`~rlft.envs.curve_trace.env.CurveTraceEnv`) and on arrays with a leading
batch axis (:class:`~rlft.envs.curve_trace.vec_env.CurveTraceVecEnv`). The envs only move the
agent, read the maps and write the visited mask.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium import spaces

from rlft.envs.curve_trace.generator import OFF_CURVE, ON_CURVE, OUTSIDE, PATCH
from rlft.envs.curve_trace.params import CurveParams
from rlft.errors import ConfigError

# Compass moves as (dy, dx), clockwise from north; action 8 is STOP in standard mode.
MOVES = np.array([(-1, 0), (-1, 1), (0, 1), (1, 1), (1, 0), (1, -1), (0, -1), (-1, -1)], dtype=np.int64)
STOP = 8
STOP_MODES = ("standard", "decoupled")
MOVE_NAMES = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")
RENDER_MODES = ("rgb_array",)


def check_stop_mode(stop_mode: Any) -> str:
    if stop_mode not in STOP_MODES:
        raise ConfigError(f"stop_mode={stop_mode!r} is not valid: must be one of {', '.join(STOP_MODES)}")
    return stop_mode


def check_render_mode(render_mode: Any) -> str | None:
    if render_mode is not None and render_mode not in RENDER_MODES:
        raise ConfigError(f"render_mode={render_mode!r} is not valid: must be 'rgb_array' or None")
    return render_mode


def observation_space() -> spaces.Box:
    """Image patch (channel 0) and visited mask (channel 1, 0 or 255), centred on the agent."""
    return spaces.Box(0, 255, (2, PATCH, PATCH), np.uint8)


def action_space(stop_mode: str) -> spaces.Space:
    """standard: Discrete(9) = 8 moves + STOP; decoupled: MultiDiscrete([8, 2]) = (move, stop flag)."""
    return spaces.Discrete(9) if stop_mode == "standard" else spaces.MultiDiscrete([8, 2])


def action_names(stop_mode: str) -> tuple[str, ...]:
    """A name per action (per head value, head after head, for decoupled), for plots and reports."""
    return (*MOVE_NAMES, "STOP") if stop_mode == "standard" else (*MOVE_NAMES, "go", "STOP")


def coverage(best: Any, length: Any) -> Any:
    """Fraction of the curve's points traced: ``best`` is the furthest index reached by progress."""
    return (best + 1) / length


def stop_outcome(end_error: Any, best: Any, length: Any, p: CurveParams) -> tuple[Any, Any]:
    """(would STOP succeed here, the reward of STOP here)."""
    ok = (end_error <= p.stop_radius) & (coverage(best, length) >= p.min_coverage)
    return ok, p.r_step + p.r_fail_stop + (p.r_success - p.r_fail_stop) * ok


def stop_label(end_error: Any, best: Any, length: Any, p: CurveParams) -> Any:
    """``info["stop_label"]``: at the end (within ``label_radius``, inside the success disk) with the coverage."""
    return (end_error <= p.label_radius) & (coverage(best, length) >= p.min_coverage)


def move_outcome(zone: Any, idx: Any, best: Any, penalised: Any, p: CurveParams) -> tuple[Any, Any]:
    """(reward, progress in px) of a move onto a pixel of ``zone`` whose nearest curve index is ``idx``.

    ``penalised``: the pixel was already visited or the move hit the image border. Progress counts
    only on the curve and for jumps of at most ``max_jump`` points, so the tube of a nearby part of
    the curve never pays.
    """
    jump = idx - best
    gain = jump * ((zone == ON_CURVE) & (jump > 0) & (jump <= p.max_jump))
    reward = (
        p.r_step
        + p.r_progress * gain
        + p.r_off_curve * (zone == OFF_CURVE)
        + p.r_revisit * penalised
        + p.r_leave * (zone == OUTSIDE)
    )
    return reward, gain


def failure_kind(stopped: bool, truncated: bool, success: bool, cov: float, p: CurveParams) -> dict[str, int]:
    """How an episode failed, as four exclusive 0/1 flags (all 0 on success), for diagnosis.

    ``early_stop``: STOP before the curve was covered. ``late_stop``: the curve was covered but the
    episode did not end with STOP at its end (stopped off the end, ran past it, or ran out of time).
    ``lost``: left the tube before covering the curve. ``stuck``: ran out of time before covering it
    (a deterministic policy caught in a loop, typically).
    """
    short = not success and cov < p.min_coverage
    return {
        "early_stop": int(short and stopped),
        "late_stop": int(not success and cov >= p.min_coverage),
        "lost": int(short and not stopped and not truncated),
        "stuck": int(short and not stopped and truncated),
    }


def achievements(cov: float, success: bool, end_error: float, p: CurveParams) -> tuple[str, ...]:
    """Milestones reached by the end of an episode (sorted names), for curricula and traces."""
    names = [f"coverage_{int(q * 100)}" for q in (0.25, 0.5, 0.75, 0.9) if cov >= q]
    if end_error <= p.stop_radius:
        names.append("reached_end")
    if success:
        names.append("stopped_at_end")
    return tuple(sorted(names))
