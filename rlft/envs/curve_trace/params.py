"""CurveTrace parameters: the 12-stage table, validated overrides and the ``curve_config.json`` format.

Every number that shapes an episode, its rewards or its success test lives in :class:`CurveParams`,
so one JSON file reproduces a task exactly. Names follow ``CURVE_TRACE.md``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import numbers
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rlft.errors import ConfigError

N_STAGES = 12
CONFIG_FORMAT = "rlft.curve_trace/1"


@dataclass(frozen=True)
class CurveParams:
    """All parameters of a CurveTrace task. Lengths and distances are in pixels.

    Image and curve: ``H`` (image side), ``min_length``/``max_length`` (curve length, px at 1 px
    spacing), ``kmax`` (curvature bound, rad/px), ``min_width``/``max_width`` (FWHM of the Gaussian
    cross-section), ``min_intensity``/``max_intensity`` (range of the 4 intensity knots, in [0, 1]),
    ``bg`` (background level), ``noise_sigma`` (additive Gaussian noise), ``speckle`` (multiplicative
    noise), ``n_gaps`` x ``gap_length`` (zeroed segments), ``n_distractors`` (other curves, cut
    before the target's tube), ``n_blobs`` (bright Gaussian smudges), ``min_sep`` (closest approach
    of two parts of the target curve more than ``2 * min_sep`` px apart along it).

    Reward: ``r_step`` every step, ``r_progress`` per px of progress along the curve (when within
    ``on_curve_radius`` and the jump is at most ``max_jump`` px), ``r_off_curve`` within the tube
    but off the curve, ``r_revisit`` for a visited pixel or a move out of the image, ``r_leave``
    (and termination) beyond ``tube_radius``, ``r_success`` / ``r_fail_stop`` for STOP.

    Success: STOP within ``stop_radius`` px of the end with coverage >= ``min_coverage``.
    ``info["stop_label"]`` (the dense target of a supervised stop head) is True within
    ``label_radius`` (<= ``stop_radius``) px of the end with that coverage: a classifier trained on
    the success disk itself fires at its rim, where a pixel decides between +5 and -2; a smaller
    label disk makes it stop inside the success disk instead.
    Episodes are truncated at ``time_limit_factor * length + time_limit_offset`` steps.
    """

    H: int = 64
    min_length: int = 30
    max_length: int = 45
    kmax: float = 0.02
    min_width: float = 3.0
    max_width: float = 4.0
    min_intensity: float = 0.8
    max_intensity: float = 1.0
    bg: float = 0.1
    noise_sigma: float = 0.0
    speckle: float = 0.0
    n_gaps: int = 0
    gap_length: int = 0
    n_distractors: int = 0
    n_blobs: int = 0
    min_sep: float = 5.0
    tube_radius: float = 6.0
    on_curve_radius: float = 2.0
    max_jump: int = 3
    r_step: float = -0.01
    r_progress: float = 0.1
    r_off_curve: float = -0.05
    r_revisit: float = -0.05
    r_leave: float = -1.0
    r_success: float = 5.0
    r_fail_stop: float = -2.0
    stop_radius: float = 4.0
    label_radius: float = 2.0
    min_coverage: float = 0.9
    time_limit_factor: float = 1.5
    time_limit_offset: int = 20

    @classmethod
    def names(cls) -> list[str]:
        return [f.name for f in dataclasses.fields(cls)]

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def max_steps(self, length: int) -> int:
        """Episode step limit for a curve of ``length`` px (truncate when t >= this)."""
        return int(math.ceil(self.time_limit_factor * length + self.time_limit_offset))


# One row per stage (CURVE_TRACE.md): H, length, kmax, width, intensity, bg, sigma, speckle,
# gaps n x len, distractors, blobs.
_STAGE_ROWS = [
    (64, (30, 45), 0.02, (3.0, 4.0), (0.80, 1.00), 0.10, 0.00, 0.00, (0, 0), 0, 0),
    (64, (35, 55), 0.05, (2.0, 4.0), (0.70, 1.00), 0.10, 0.03, 0.00, (0, 0), 0, 0),
    (96, (50, 90), 0.08, (2.0, 3.0), (0.60, 0.90), 0.10, 0.05, 0.00, (0, 0), 0, 0),
    (96, (60, 110), 0.10, (2.0, 3.0), (0.50, 0.80), 0.15, 0.06, 0.05, (0, 0), 0, 1),
    (128, (80, 140), 0.10, (1.5, 3.0), (0.45, 0.70), 0.15, 0.07, 0.05, (1, 2), 0, 2),
    (128, (80, 160), 0.12, (1.5, 3.0), (0.40, 0.65), 0.15, 0.08, 0.05, (1, 3), 1, 2),
    (128, (100, 180), 0.12, (1.5, 2.5), (0.35, 0.60), 0.20, 0.08, 0.10, (2, 3), 1, 3),
    (128, (100, 200), 0.14, (1.5, 2.5), (0.30, 0.55), 0.20, 0.09, 0.10, (2, 4), 2, 3),
    (128, (120, 200), 0.15, (1.2, 2.0), (0.30, 0.50), 0.20, 0.09, 0.10, (2, 4), 2, 4),
    (128, (120, 220), 0.16, (1.2, 2.0), (0.30, 0.45), 0.25, 0.08, 0.10, (3, 4), 3, 4),
    (128, (140, 240), 0.18, (1.0, 2.0), (0.30, 0.45), 0.25, 0.08, 0.10, (3, 5), 4, 5),
    (128, (150, 250), 0.20, (1.0, 2.0), (0.28, 0.42), 0.25, 0.09, 0.10, (4, 5), 4, 6),
]


def _row_to_params(row: tuple) -> CurveParams:
    H, (l0, l1), kmax, (w0, w1), (i0, i1), bg, sigma, speckle, (ng, gl), nd, nb = row
    return CurveParams(
        H=H,
        min_length=l0,
        max_length=l1,
        kmax=kmax,
        min_width=w0,
        max_width=w1,
        min_intensity=i0,
        max_intensity=i1,
        bg=bg,
        noise_sigma=sigma,
        speckle=speckle,
        n_gaps=ng,
        gap_length=gl,
        n_distractors=nd,
        n_blobs=nb,
    )


STAGES: dict[int, CurveParams] = {i + 1: _row_to_params(row) for i, row in enumerate(_STAGE_ROWS)}

_INT_FIELDS = {f.name for f in dataclasses.fields(CurveParams) if f.type in ("int", int)}

# Valid closed ranges; None = unbounded on that side. Open bounds are listed in _OPEN_LOW.
_RANGES: dict[str, tuple[float | None, float | None]] = {
    "H": (32, 512),
    "min_length": (10, 2000),
    "max_length": (10, 2000),
    "kmax": (0.0, 0.5),
    "min_width": (0.5, 8.0),
    "max_width": (0.5, 8.0),
    "min_intensity": (0.0, 1.0),
    "max_intensity": (0.0, 1.0),
    "bg": (0.0, 0.95),
    "noise_sigma": (0.0, 1.0),
    "speckle": (0.0, 1.0),
    "n_gaps": (0, 20),
    "gap_length": (0, 50),
    "n_distractors": (0, 30),
    "n_blobs": (0, 50),
    "min_sep": (1.0, 12.0),
    "tube_radius": (1.0, 7.0),
    "on_curve_radius": (0.5, 7.0),
    "max_jump": (1, 7),
    "stop_radius": (0.5, 7.0),
    "label_radius": (0.0, 7.0),
    "min_coverage": (0.0, 1.0),
    "time_limit_factor": (1.0, 100.0),
    "time_limit_offset": (0, 100_000),
}
_OPEN_LOW = {"kmax", "min_coverage"}
_REWARDS = {"r_step", "r_progress", "r_off_curve", "r_revisit", "r_leave", "r_success", "r_fail_stop"}


def _check_value(name: str, value: Any) -> float | int:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ConfigError(f"{name}={value!r} is not a number")
    if name in _INT_FIELDS:
        if not float(value).is_integer():
            raise ConfigError(f"{name}={value!r} must be an integer")
        value = math.trunc(value)  # int() of an integral Real (numbers.Real has no __int__ in the stubs)
    else:
        value = float(value)
    if not math.isfinite(value):
        raise ConfigError(f"{name}={value!r} must be finite")
    if name in _REWARDS:
        return value
    lo, hi = _RANGES[name]
    low_ok = value > lo if name in _OPEN_LOW else value >= lo
    if not low_ok or value > hi:
        left = "(" if name in _OPEN_LOW else "["
        raise ConfigError(f"{name}={value!r} is out of range: must be in {left}{lo}, {hi}]")
    return value


def _check_consistency(p: CurveParams) -> None:
    for lo, hi in (
        ("min_length", "max_length"),
        ("min_width", "max_width"),
        ("min_intensity", "max_intensity"),
        ("on_curve_radius", "tube_radius"),
        ("label_radius", "stop_radius"),
    ):
        if getattr(p, lo) > getattr(p, hi):
            raise ConfigError(f"{lo}={getattr(p, lo)} is larger than {hi}={getattr(p, hi)}: need {lo} <= {hi}")
    room = 0.65 * p.min_length
    if p.n_gaps * (p.gap_length + 2) > room:
        raise ConfigError(
            f"n_gaps={p.n_gaps} x gap_length={p.gap_length} does not fit in 15-80% of "
            f"min_length={p.min_length}: need n_gaps * (gap_length + 2) <= {room:.0f}"
        )
    if p.max_length > 6 * p.H:
        raise ConfigError(f"max_length={p.max_length} is too long for H={p.H}: need max_length <= 6 * H")


def make_params(base: CurveParams, overrides: dict[str, Any]) -> CurveParams:
    """``base`` with ``overrides`` applied; every value and their consistency are checked."""
    valid = CurveParams.names()
    unknown = sorted(set(overrides) - set(valid))
    if unknown:
        raise ConfigError(f"unknown CurveTrace parameter(s) {', '.join(unknown)}; valid names: {', '.join(valid)}")
    values = base.to_dict()
    values.update(overrides)
    checked: dict[str, Any] = {name: _check_value(name, v) for name, v in values.items()}
    params = CurveParams(**checked)
    _check_consistency(params)
    return params


def check_stage(stage: Any) -> int:
    if isinstance(stage, bool) or not isinstance(stage, numbers.Integral) or not 1 <= int(stage) <= N_STAGES:
        raise ConfigError(f"stage={stage!r} is out of range: must be an integer in 1..{N_STAGES}")
    return int(stage)


def stage_params(stage: int = 1, **overrides: Any) -> CurveParams:
    """The parameters of ``stage`` (1..12) with ``overrides`` (any :class:`CurveParams` field)."""
    return make_params(STAGES[check_stage(stage)], overrides)


def to_json(params: CurveParams, path: str | Path, stage: int | None = None) -> Path:
    """Write ``curve_config.json``: every parameter, plus the stage it came from (informative)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"format": CONFIG_FORMAT, "stage": stage, "params": params.to_dict()}
    path.write_text(json.dumps(doc, indent=2) + "\n")
    return path


def from_json(path: str | Path) -> CurveParams:
    """Read a ``curve_config.json`` written by :func:`to_json`; values are validated again."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"curve_config={str(path)!r} does not exist") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"curve_config={str(path)!r} is not valid JSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("format") != CONFIG_FORMAT or not isinstance(doc.get("params"), dict):
        raise ConfigError(
            f"curve_config={str(path)!r} is not a CurveTrace config "
            f"(expected format {CONFIG_FORMAT!r} with a 'params' object)"
        )
    missing = sorted(set(CurveParams.names()) - set(doc["params"]))
    if missing:
        raise ConfigError(f"curve_config={str(path)!r} lacks parameter(s) {', '.join(missing)}")
    return make_params(CurveParams(), doc["params"])


def resolve_params(stage: int | None, curve_config: str | Path | None, overrides: dict[str, Any]) -> CurveParams:
    """The env's parameters: ``curve_config`` (a JSON file) or ``stage`` (default 1), plus overrides."""
    if curve_config is not None:
        if stage is not None:
            raise ConfigError(f"give stage={stage!r} or curve_config={str(curve_config)!r}, not both")
        return make_params(from_json(curve_config), overrides)
    return stage_params(1 if stage is None else stage, **overrides)
