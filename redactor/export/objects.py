"""Masks per object, for both export plans: each object's mask follows its own box.

Input: per frame, the detections of the fast plan's looks (redactor.export.fast),
or of the exhaustive plan's profile on every frame (each frame a sweep), and how
each frame was looked at. Detections are linked into objects by the
tracker (redactor.track.Tracker, run over the looked-at frames only), then each
object is masked:

- on a frame where it was detected: its box (DETECTED);
- between two of its detections at most `max_gap_s` apart: the box
  interpolated between them (TRACKED), so the mask moves with the object;
- before its first and after its last detection (LOOKAHEAD): for an object a
  sweep found standing still (it moves less than its held box's margin), back
  to the sweep before and on to the sweep after (no region was looked at
  there); otherwise, and where sweeps are no more than `pad_frames` apart (the
  exhaustive plan sweeps every frame), `pad_frames`, moved on by its own
  velocity, since the frames between looks may already show it.

Boxes away from a detection grow by `margin_per_frame` of their size per frame
from the nearest detection, up to `max_margin` per side: the object may have
turned or sped up there. Every box is at least `min_box_px` each way. The
result is one TrackedFrame per frame, so the rest of the export (plan_masks,
subject access, the manifest) is the same for both plans.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from redactor.boxes import at_least
from redactor.config import ObjectsConfig
from redactor.errors import InvalidInput
from redactor.export.redact import LOOK_FULL, LOOK_NONE
from redactor.track import TrackedFrame, Tracker, TrackerParams
from redactor.types import Detections, MaskReason

_US = 1_000_000
_DETECTED, _TRACKED, _LOOKAHEAD = (
    int(MaskReason.DETECTED),
    int(MaskReason.TRACKED),
    int(MaskReason.LOOKAHEAD),
)


@dataclass(frozen=True, slots=True, eq=False)  # found by identity (seen.index)
class _Seen:
    frame: int
    box: npt.NDArray[np.float32]
    score: float
    label: int
    row: int  # its row in that frame's detections
    swept: bool  # found by a sweep (the whole frame)


def plan_objects(
    detections: Sequence[Detections],
    looks: Sequence[int],
    t_us: Sequence[int],
    cfg: ObjectsConfig,
    params: TrackerParams | None = None,
) -> list[TrackedFrame]:
    """Per frame, every object's box to mask, with its track id and reason (module doc)."""
    n = len(detections)
    if not (len(looks) == len(t_us) == n):
        raise InvalidInput(
            f"plan_objects: {n} frames of detections, {len(looks)} looks, {len(t_us)} times"
        )
    objects = _link(detections, looks, t_us, cfg, params)
    sweeps = np.asarray([i for i, k in enumerate(looks) if k == LOOK_FULL], np.int64)
    rows: list[list[tuple[int, npt.NDArray[np.float32], float, int, int, int]]] = [
        [] for _ in range(n)
    ]
    for tid, seen in objects.items():
        for frame, box, reason, det_row in _follow(seen, t_us, sweeps, cfg):
            rows[frame].append((tid, box, seen[0].score, seen[0].label, reason, det_row))
    return [_frame(r, cfg.min_box_px) for r in rows]


def _link(
    detections: Sequence[Detections],
    looks: Sequence[int],
    t_us: Sequence[int],
    cfg: ObjectsConfig,
    params: TrackerParams | None,
) -> dict[int, list[_Seen]]:
    """Each object's detections in frame order, linked by the tracker over looked-at frames."""
    tracker = Tracker(params or TrackerParams(hold_s=cfg.max_gap_s, centre_gate=cfg.link_gate))
    objects: dict[int, list[_Seen]] = defaultdict(list)
    for i, (d, look) in enumerate(zip(detections, looks, strict=True)):
        if look == LOOK_NONE:
            continue
        tf = tracker.update(d, int(t_us[i]))
        for box_row in np.flatnonzero(tf.det_index >= 0):
            row = int(tf.det_index[box_row])
            tid = int(tf.detections.track_ids[box_row])
            objects[tid].append(
                _Seen(
                    i,
                    d.boxes[row],
                    float(d.scores[row]),
                    int(d.labels[row]),
                    row,
                    look == LOOK_FULL,
                )
            )
    return dict(objects)


def _follow(
    seen: list[_Seen],
    t_us: Sequence[int],
    sweeps: npt.NDArray[np.int64],
    cfg: ObjectsConfig,
) -> list[tuple[int, npt.NDArray[np.float32], int, int]]:
    """(frame, box, reason, detection row or -1) for every frame the object is masked on."""
    n = len(t_us)
    out: list[tuple[int, npt.NDArray[np.float32], int, int]] = []
    gap_us = round(cfg.max_gap_s * _US)
    for a, b in zip(seen, seen[1:], strict=False):
        out.append((a.frame, a.box, _DETECTED, a.row))
        if int(t_us[b.frame]) - int(t_us[a.frame]) <= gap_us:
            span = b.frame - a.frame
            for f in range(a.frame + 1, b.frame):
                w = (f - a.frame) / span
                box = ((1 - w) * a.box + w * b.box).astype(np.float32)
                out.append((f, _grow(box, min(f - a.frame, b.frame - f), cfg), _TRACKED, -1))
        else:  # too far apart to be sure it went straight: each end padded on its own
            out.extend(_pad(a, +1, seen, t_us, sweeps, cfg, limit=b.frame))
            out.extend(_pad(b, -1, seen, t_us, sweeps, cfg, limit=a.frame))
    last = seen[-1]
    out.append((last.frame, last.box, _DETECTED, last.row))
    out.extend(_pad(seen[0], -1, seen, t_us, sweeps, cfg, limit=-1))
    out.extend(_pad(last, +1, seen, t_us, sweeps, cfg, limit=n))
    return out


def _pad(
    end: _Seen,
    step: int,
    seen: list[_Seen],
    t_us: Sequence[int],
    sweeps: npt.NDArray[np.int64],
    cfg: ObjectsConfig,
    limit: int,
) -> list[tuple[int, npt.NDArray[np.float32], int, int]]:
    """Frames beyond an end of the object's detections (`step` -1: before, +1: after),
    up to but not including `limit`."""
    to = _neighbouring_sweep(end.frame, step, sweeps, len(t_us)) if end.swept else end.frame
    velocity = _velocity(seen, end, step)
    frames = abs(to - end.frame)
    if frames > cfg.pad_frames and _still(end.box, velocity, frames, cfg):
        velocity = np.zeros(4, np.float32)  # stood still between two sweeps: held
    else:  # moving in or out (the looks see it), or every frame swept (the exhaustive plan)
        frames = cfg.pad_frames
    out = []
    for k in range(1, frames + 1):
        f = end.frame + step * k
        if (step > 0 and f >= limit) or (step < 0 and f <= limit) or not 0 <= f < len(t_us):
            break
        box = (end.box + velocity * (step * k)).astype(np.float32)
        out.append((f, _grow(box, k, cfg), _LOOKAHEAD, -1))
    return out


def _still(
    box: npt.NDArray[np.float32], velocity: npt.NDArray[np.float32], frames: int, cfg: ObjectsConfig
) -> bool:
    """Whether an object moving at `velocity` stays within its held box's margin for `frames`:
    a walker a sweep found moves on into the regions the looks see, and held still it only
    masks where it was."""
    drift = np.abs(velocity[:2] + velocity[2:]) / 2 * frames
    size = np.maximum(box[2:] - box[:2], 1.0)
    return bool((drift <= cfg.max_margin * size).all())


def _neighbouring_sweep(frame: int, step: int, sweeps: npt.NDArray[np.int64], n: int) -> int:
    """The sweep after (`step` +1) or before (-1) the sweep at `frame`, else the clip's end."""
    k = int(np.searchsorted(sweeps, frame))
    if step > 0:
        return int(sweeps[k + 1]) if k + 1 < len(sweeps) else n - 1
    return int(sweeps[k - 1]) if k > 0 else 0


def _velocity(seen: list[_Seen], end: _Seen, step: int) -> npt.NDArray[np.float32]:
    """The object's box change per frame at `end`, from `end` and its neighbouring detection
    on the other side (padding after `end` looks back, padding before it looks ahead), or none."""
    k = seen.index(end) - step
    if not 0 <= k < len(seen):
        return np.zeros(4, np.float32)
    a, b = (end, seen[k]) if step < 0 else (seen[k], end)
    if b.frame == a.frame:
        return np.zeros(4, np.float32)
    return ((b.box - a.box) / (b.frame - a.frame)).astype(np.float32)


def _grow(box: npt.NDArray[np.float32], frames: int, cfg: ObjectsConfig) -> npt.NDArray[np.float32]:
    share = min(cfg.max_margin, cfg.margin_per_frame * frames)
    lo, hi = np.minimum(box[:2], box[2:]), np.maximum(box[:2], box[2:])
    m = share * (hi - lo)
    return np.concatenate([lo - m, hi + m]).astype(np.float32)


def _frame(
    rows: list[tuple[int, npt.NDArray[np.float32], float, int, int, int]], min_box_px: float
) -> TrackedFrame:
    if not rows:
        return TrackedFrame.empty()
    rows.sort(key=lambda r: (r[5] < 0, r[5], r[0]))  # detected rows first, in detector order
    d = Detections.create(
        at_least(np.stack([r[1] for r in rows]), min_box_px),
        [r[2] for r in rows],
        [r[3] for r in rows],
        np.asarray([r[0] for r in rows], np.int64),
    )
    return TrackedFrame(
        d, np.asarray([r[4] for r in rows], np.int8), np.asarray([r[5] for r in rows], np.intp)
    )
