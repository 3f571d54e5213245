"""Episode generation: a curve, its image and the tube maps a step reads.

Everything is drawn from one ``numpy.random.Generator``, so an episode is a pure function of its
seed (:func:`episode_from_seed`). Coordinates are ``(y, x)`` in pixels of the unpadded image.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from rlft.envs.curve_trace.params import CurveParams

PATCH = 15
PAD = PATCH // 2  # image and visited arrays are padded so a patch never needs a bounds check
START_INDEX = 4  # the agent starts on curve point 4; points 0..4 are marked visited
VISITED = 255
_MAX_TRIES = 500
_FWHM_TO_SIGMA = 1.0 / (2.0 * math.sqrt(2.0 * math.log(2.0)))

# zone_map values: where a pixel lies relative to the target curve.
ON_CURVE, OFF_CURVE, OUTSIDE = 0, 1, 2


@dataclass(frozen=True)
class Episode:
    """One generated task; arrays are read-only and shared by every env that plays it.

    ``image`` and ``visited`` are padded by ``PAD`` px (``(H + 14, H + 14)`` uint8); ``zone_map``
    (int8: ON_CURVE / OFF_CURVE / OUTSIDE), ``idx_map`` (int16, nearest curve index within the tube,
    else -1) and ``dist_map`` (float32, px, inf outside the tube) are ``(H, H)``.
    """

    seed: int
    image: np.ndarray
    visited: np.ndarray
    zone_map: np.ndarray
    idx_map: np.ndarray
    dist_map: np.ndarray
    curve: np.ndarray  # (length, 2) float32
    start: tuple[int, int]
    end: tuple[float, float]

    @property
    def length(self) -> int:
        return len(self.curve)


def _random_walk(p: CurveParams, length: int, rng: np.random.Generator, check_sep: bool) -> np.ndarray | None:
    """Curvature-bounded walk at 1 px spacing from the central half, steered off the borders.

    None when it leaves the image (2 px margin) or, with ``check_sep``, when two of its points more
    than ``2 * min_sep`` apart along it come closer than ``min_sep``.
    """
    H = p.H
    y, x = rng.uniform(H / 4, 3 * H / 4, size=2)
    theta = rng.uniform(0.0, 2.0 * math.pi)
    kicks = rng.normal(0.0, 0.35 * p.kmax, size=length).tolist()
    kmax, lo, hi = p.kmax, 2.0, H - 3.0
    margin = min(12.0, H / 6)
    far = H - 1 - margin
    c = (H - 1) / 2.0
    sin, cos = math.sin, math.cos
    ys, xs = [], []
    k = 0.0
    for kick in kicks:
        if y < lo or y > hi or x < lo or x > hi:
            return None
        ys.append(y)
        xs.append(x)
        k = 0.85 * k + kick
        if k > kmax:
            k = kmax
        elif k < -kmax:
            k = -kmax
        if y < margin or x < margin or y > far or x > far:
            # Turn towards the centre at full curvature (sign of heading x to-centre).
            k = kmax if cos(theta) * (c - y) - sin(theta) * (c - x) > 0 else -kmax
        theta += k
        y += sin(theta)
        x += cos(theta)
    pts = np.column_stack((ys, xs))
    window = int(2 * p.min_sep)
    if check_sep and length > window + 1:
        dy = pts[:, None, 0] - pts[None, :, 0]
        dx = pts[:, None, 1] - pts[None, :, 1]
        close = dy * dy + dx * dx < p.min_sep**2
        if np.triu(close, k=window + 1).any():
            return None
    return pts


def _segment_candidates(pts: np.ndarray, seg_ok: np.ndarray, H: int, radius: float):
    """Every (pixel, segment) pair closer than ``radius``: flat ``(pix, d2, seg, t)``.

    ``d2`` is the squared distance to the segment and ``t`` in [0, 1] the position of the nearest
    point along it. Pixels come from a box around each segment's first point, which is enough at
    1 px spacing.
    """
    a, b = pts[:-1][seg_ok], pts[1:][seg_ok]
    seg_ids = np.flatnonzero(seg_ok)
    r = int(math.ceil(radius)) + 1
    off = np.arange(-r, r + 1)
    oy, ox = np.meshgrid(off, off, indexing="ij")
    disk = oy**2 + ox**2 <= (r + 0.5) ** 2
    oy, ox = oy[disk], ox[disk]
    base = np.rint(a).astype(np.int64)
    py = base[:, 0:1] + oy
    px = base[:, 1:2] + ox
    ab = b - a
    apy, apx = py - a[:, 0:1], px - a[:, 1:2]
    t = np.clip((apy * ab[:, 0:1] + apx * ab[:, 1:2]) / (ab**2).sum(1, keepdims=True), 0.0, 1.0)
    ey, ex = apy - t * ab[:, 0:1], apx - t * ab[:, 1:2]
    d2 = ey * ey + ex * ex
    keep = (py >= 0) & (py < H) & (px >= 0) & (px < H) & (d2 <= radius**2)
    seg = np.broadcast_to(seg_ids[:, None], keep.shape)[keep]
    return (py * H + px)[keep], d2[keep], seg, t[keep]


def _curve_signal(pts, seg_ok, intensity, width, H, out):
    """Max-combine a Gaussian cross-section (FWHM = ``width``) of the polyline into ``out`` (H*H)."""
    s = width * _FWHM_TO_SIGMA
    pix, d2, seg, t = _segment_candidates(pts, seg_ok, H, radius=3.0 * s + 0.5)
    value = (intensity[seg] * (1 - t) + intensity[seg + 1] * t) * np.exp(-d2 / (2 * s * s))
    np.maximum.at(out, pix, value)


def _intensity_profile(p: CurveParams, length: int, rng: np.random.Generator) -> np.ndarray:
    knots = rng.uniform(p.min_intensity, p.max_intensity, size=4)
    return np.interp(np.arange(length), np.linspace(0, length - 1, 4), knots)


def _walk(p: CurveParams, rng: np.random.Generator, check_sep: bool = True) -> np.ndarray:
    for _ in range(_MAX_TRIES):
        length = int(rng.integers(p.min_length, p.max_length + 1))
        pts = _random_walk(p, length, rng, check_sep)
        if pts is not None:
            return pts
    raise RuntimeError(f"no valid curve in {_MAX_TRIES} tries for {p}")


def generate_episode(p: CurveParams, rng: np.random.Generator, seed: int = -1) -> Episode:
    """Draw one episode from ``rng`` (deterministic given its state)."""
    H = p.H
    pts = _walk(p, rng)
    length = len(pts)
    intensity = _intensity_profile(p, length, rng)
    for _ in range(p.n_gaps):
        g0 = int(rng.integers(int(0.15 * length), int(0.8 * length) - p.gap_length + 1))
        intensity[g0 : g0 + p.gap_length] = 0.0
    width = rng.uniform(p.min_width, p.max_width)

    # Tube maps: the nearest curve point (not segment) decides progress.
    pix, d2, seg, t = _segment_candidates(pts, np.ones(length - 1, dtype=bool), H, p.tube_radius)
    nearest = np.full(H * H, np.inf)
    np.minimum.at(nearest, pix, d2)
    best = d2 <= nearest[pix]
    idx_map = np.full(H * H, -1, dtype=np.int16)
    idx_map[pix[best]] = seg[best] + (t[best] > 0.5)
    dist_map = np.sqrt(nearest).astype(np.float32)
    zone_map = np.where(dist_map <= p.on_curve_radius, ON_CURVE, np.where(idx_map >= 0, OFF_CURVE, OUTSIDE)).astype(
        np.int8
    )

    signal = np.zeros(H * H)
    _curve_signal(pts, np.ones(length - 1, dtype=bool), intensity, width, H, signal)
    for _ in range(p.n_distractors):
        other = _walk(p, rng, check_sep=False)
        o_int = _intensity_profile(p, len(other), rng)
        o_width = rng.uniform(p.min_width, p.max_width)
        oy, ox = np.rint(other).astype(np.int64).T
        inside = zone_map[oy * H + ox] != OUTSIDE
        # Cut 3 px (along the distractor) before it would touch the target's tube.
        cut = np.convolve(inside.astype(np.int8), np.ones(7, dtype=np.int8), mode="same") > 0
        seg_ok = ~cut[:-1] & ~cut[1:]
        if seg_ok.any():
            _curve_signal(other, seg_ok, o_int, o_width, H, signal)

    img = p.bg + (1.0 - p.bg) * signal.reshape(H, H)
    if p.n_blobs:
        yy = np.arange(H)
        mean_int = 0.5 * (p.min_intensity + p.max_intensity)
        for _ in range(p.n_blobs):
            cy, cx = rng.uniform(0, H, size=2)
            s = rng.uniform(2.0, 5.0)
            amp = rng.uniform(0.3, 0.8) * mean_int * (1.0 - p.bg)
            img += amp * np.outer(np.exp(-((yy - cy) ** 2) / (2 * s * s)), np.exp(-((yy - cx) ** 2) / (2 * s * s)))
    if p.speckle:
        img *= 1.0 + p.speckle * rng.standard_normal((H, H))
    if p.noise_sigma:
        img += p.noise_sigma * rng.standard_normal((H, H))
    image = np.zeros((H + 2 * PAD, H + 2 * PAD), dtype=np.uint8)
    image[PAD:-PAD, PAD:-PAD] = np.rint(np.clip(img, 0.0, 1.0) * 255.0)

    visited = np.zeros_like(image)
    first = np.rint(pts[: START_INDEX + 1]).astype(np.int64)
    visited[first[:, 0] + PAD, first[:, 1] + PAD] = VISITED
    arrays = dict(
        image=image,
        visited=visited,
        zone_map=zone_map.reshape(H, H),
        idx_map=idx_map.reshape(H, H),
        dist_map=dist_map.reshape(H, H),
        curve=pts.astype(np.float32),
    )
    for a in arrays.values():
        a.flags.writeable = False
    sy, sx = first[START_INDEX]
    return Episode(seed=seed, start=(int(sy), int(sx)), end=(float(pts[-1, 0]), float(pts[-1, 1])), **arrays)


@lru_cache(maxsize=128)
def episode_from_seed(p: CurveParams, seed: int) -> Episode:
    """The episode of ``seed``: the same for every env and model (paired evaluation); cached."""
    return generate_episode(p, np.random.default_rng(seed), seed=seed)
