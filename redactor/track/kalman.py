"""Constant-velocity motion of box centre and size, for many tracks at once.

Why a Kalman filter and not a fixed-gain alpha-beta filter: frames arrive with
uneven gaps (dropped frames, detection on a reduced cadence, coasting for up to
`hold_s`), and a track is born from a single box with no velocity. A Kalman
filter's gain follows both: a young track trusts its second box almost fully
(velocity from the first difference), a mature one smooths detector jitter, and
a long gap widens the uncertainty by exactly the time elapsed. A fixed alpha-beta
pair would need retuning for every cadence and starts every track with a wrong
velocity.

Why it stays cheap: the four coordinates (cx, cy, w, h) are modelled as four
independent 1-D (position, velocity) filters, so each track's covariance is
four 2x2 symmetric blocks (p00, p01, p11) and every step is element-wise NumPy
over (n_tracks, 4) arrays: no per-track Python, no matrix inverses. Noise is
scaled by the box's size, so one setting serves a 20 px plate and a 300 px face.
The process noise is the white-noise-acceleration model (q*dt^3/3, q*dt^2/2, q*dt).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

F64 = npt.NDArray[np.float64]

MIN_SIZE_PX = 1.0
"""Estimated width/height never goes below this (keeps noise scales positive)."""


@dataclass(frozen=True, slots=True)
class MotionNoise:
    """Noise scales, all relative to the box's longer side."""

    accel_std: float
    """process noise: random acceleration, box sizes per s^2"""
    meas_std: float
    """detector jitter: one box's position/size error, box sizes"""
    init_vel_std: float
    """velocity uncertainty of a new track, box sizes per s"""


@dataclass(slots=True)
class MotionState:
    """Filters for n tracks: position and velocity of (cx, cy, w, h), covariance blocks."""

    x: F64  # (n, 4) cx, cy, w, h in px
    v: F64  # (n, 4) px/s
    p00: F64  # (n, 4) var(position)
    p01: F64  # (n, 4) cov(position, velocity)
    p11: F64  # (n, 4) var(velocity)

    @classmethod
    def empty(cls) -> MotionState:
        z = np.zeros((0, 4), np.float64)
        return cls(z, z.copy(), z.copy(), z.copy(), z.copy())

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def select(self, keep: npt.NDArray[np.bool_] | npt.NDArray[np.intp]) -> MotionState:
        return MotionState(
            self.x[keep], self.v[keep], self.p00[keep], self.p01[keep], self.p11[keep]
        )

    @staticmethod
    def concat(a: MotionState, b: MotionState) -> MotionState:
        return MotionState(
            *(
                np.concatenate([getattr(a, f), getattr(b, f)])
                for f in ("x", "v", "p00", "p01", "p11")
            )
        )


def boxes_to_cxcywh(boxes: npt.NDArray[np.float32]) -> F64:
    b = boxes.astype(np.float64)
    size = np.maximum(b[:, 2:] - b[:, :2], MIN_SIZE_PX)
    return np.concatenate([(b[:, :2] + b[:, 2:]) / 2, size], axis=1)


def cxcywh_to_boxes(x: F64) -> npt.NDArray[np.float32]:
    half = np.maximum(x[:, 2:], MIN_SIZE_PX) / 2
    return np.concatenate([x[:, :2] - half, x[:, :2] + half], axis=1).astype(np.float32)


def _scale(x: F64) -> F64:
    """(n, 1) noise scale per track: its longer side in px."""
    longer: F64 = x[:, 2:].max(axis=1, keepdims=True)
    return np.maximum(longer, MIN_SIZE_PX)


def start(boxes: npt.NDArray[np.float32], noise: MotionNoise) -> MotionState:
    """New filters, one per box, at rest with a wide velocity prior."""
    x = boxes_to_cxcywh(boxes)
    s = _scale(x)
    n = x.shape[0]
    r = np.broadcast_to((noise.meas_std * s) ** 2, (n, 4)).copy()
    p11 = np.broadcast_to((noise.init_vel_std * s) ** 2, (n, 4)).copy()
    return MotionState(x, np.zeros((n, 4)), r, np.zeros((n, 4)), p11)


def predict(st: MotionState, dt_s: float, noise: MotionNoise) -> None:
    """Advances every filter by dt_s seconds, in place."""
    if dt_s <= 0.0 or len(st) == 0:
        return
    q = (noise.accel_std * _scale(st.x)) ** 2  # (n, 1), broadcast over the 4 coordinates
    st.x += st.v * dt_s
    np.maximum(st.x[:, 2:], MIN_SIZE_PX, out=st.x[:, 2:])
    st.p00 += 2 * dt_s * st.p01 + dt_s * dt_s * st.p11 + q * (dt_s**3 / 3)
    st.p01 += dt_s * st.p11 + q * (dt_s**2 / 2)
    st.p11 += q * dt_s


def correct(
    st: MotionState, rows: npt.NDArray[np.intp], boxes: npt.NDArray[np.float32], noise: MotionNoise
) -> None:
    """Folds one measured box into each of `rows`' filters, in place."""
    if len(rows) == 0:
        return
    z = boxes_to_cxcywh(boxes)
    x, v = st.x[rows], st.v[rows]
    p00, p01, p11 = st.p00[rows], st.p01[rows], st.p11[rows]
    r = (noise.meas_std * _scale(z)) ** 2
    s = p00 + r
    k0, k1 = p00 / s, p01 / s
    y = z - x
    st.x[rows] = x + k0 * y
    st.v[rows] = v + k1 * y
    st.p00[rows] = (1 - k0) * p00
    st.p01[rows] = (1 - k0) * p01
    st.p11[rows] = p11 - k1 * p01
    np.maximum(st.x[:, 2:], MIN_SIZE_PX, out=st.x[:, 2:])
