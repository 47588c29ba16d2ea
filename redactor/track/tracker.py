"""Keeps a mask on each face or plate between detections: a small SORT-style tracker.

Per frame: every track is predicted to the frame's time (constant velocity,
redactor.track.kalman); tracks not seen for more than `hold_s` are dropped;
detections are matched to tracks of the same label (faces and plates never
match each other, redactor.track.association); matched tracks are corrected,
and every unmatched detection starts a new track at once. There is no
min-hits gate: a box is masked from the first frame its object is detected.

What is masked on a frame: each detected box exactly as the detector gave it
(reason DETECTED), plus, for each track not detected on this frame, its
predicted box (reason TRACKED), never smaller than the last estimated size,
grown about its centre by `growth_per_s` x seconds since last seen, and widened
on each side by `sigma_growth` standard deviations of its predicted centre
(capped at `sigma_cap` box sizes). The first term is a steady margin for an
object that drifts from its path; the second is what the filter does not know,
chiefly the velocity of a track seen only once, so a fast new object stays
covered on frames where the detector does not run.

Time comes only from the frames' timestamps (microseconds), so dropped frames
and detection on a reduced cadence are handled by prediction over the real gap.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from redactor.errors import ConfigError
from redactor.track import association, kalman
from redactor.types import Detections, Label, MaskReason

_US_PER_S = 1_000_000

F32 = npt.NDArray[np.float32]
# Per held box (frame px, the widest it may be masked) and a pad per box (px, x and y): the
# bounding box of its overlaps with the moving blobs, each grown by the pad, and whether any
# overlaps; where motion is not known, the boxes themselves, all overlapped (the live path
# asks its motion model, Motion.reach).
Reach = Callable[[F32, F32], tuple[F32, npt.NDArray[np.bool_]]]
# A moving head may stand out of its blob (colours like the background's): the blobs a held
# box is cut to are grown by this share of the object's size (see docs/tuning.md#tracker).
REACH_PAD = 0.5


@dataclass(frozen=True)
class TrackerParams:
    """How tracks are matched, predicted and held. Defaults suit 15 to 30 fps video."""

    hold_s: float = 1.0
    """seconds a track's mask stays after its last detection (0 = only while detected)"""
    iou_match: float = 0.2
    """a detection continues a track when its IoU with the prediction reaches this (0, 1]"""
    growth_per_s: float = 0.3
    """a held box grows by this fraction of its size per second since last seen"""
    max_tracks: int = 1024
    """live tracks at most; beyond it the tracks unseen the longest are dropped first"""
    sigma_growth: float = 1.0
    """a held box's half-sides also grow by this many std devs of its predicted centre"""
    sigma_cap: float = 0.5
    """that uncertainty margin is at most this many box sizes per side"""
    peek_sigma_cap: float = 1.0
    """... and this many on frames masked ahead of their detection (peek); uncapped, the
    masks of tracks seen once grow over much of a frame (see docs/tuning.md#tracker)"""
    face_sigma_cap: float | None = None
    """faces' uncertainty margin at most this many box sizes per side, on every frame (None:
    as other labels). Live streams mask the top of each moving blob, where a moving face is"""
    centre_gate: float = 1.5
    """no-overlap match allowed within this many box sizes + the held margin (0 = off)"""
    max_size_ratio: float = 2.0
    """a no-overlap match also needs width and height within this factor"""
    accel_std: float = 2.0
    """motion model: random acceleration, box sizes per s^2 (higher follows turns faster)"""
    meas_std: float = 0.05
    """motion model: detector jitter, fraction of box size"""
    init_vel_std: float = 5.0
    """motion model: velocity prior of a new track, box sizes per s"""

    def __post_init__(self) -> None:
        checks = (
            ("hold_s", self.hold_s >= 0.0, ">= 0"),
            ("iou_match", 0.0 < self.iou_match <= 1.0, "in (0, 1]"),
            ("growth_per_s", self.growth_per_s >= 0.0, ">= 0"),
            ("max_tracks", self.max_tracks >= 1, ">= 1"),
            ("sigma_growth", self.sigma_growth >= 0.0, ">= 0"),
            ("sigma_cap", self.sigma_cap >= 0.0, ">= 0"),
            ("peek_sigma_cap", self.peek_sigma_cap >= 0.0, ">= 0"),
            ("face_sigma_cap", self.face_sigma_cap is None or self.face_sigma_cap >= 0.0, ">= 0"),
            ("centre_gate", self.centre_gate >= 0.0, ">= 0"),
            ("max_size_ratio", self.max_size_ratio >= 1.0, ">= 1"),
            ("accel_std", self.accel_std > 0.0, "> 0"),
            ("meas_std", self.meas_std > 0.0, "> 0"),
            ("init_vel_std", self.init_vel_std > 0.0, "> 0"),
        )
        for name, ok, want in checks:
            value = getattr(self, name)
            if not ok or (value is not None and not np.isfinite(value)):
                raise ConfigError(f"track.{name} must be {want} and finite, got {value!r}")

    @property
    def noise(self) -> kalman.MotionNoise:
        return kalman.MotionNoise(self.accel_std, self.meas_std, self.init_vel_std)


DEFAULT_PARAMS = TrackerParams()


@dataclass(frozen=True)
class TrackedFrame:
    """Every box to mask on one frame, each with its track id (> 0) and reason."""

    detections: Detections
    """detected boxes and held/predicted ones, track_ids set"""
    reasons: npt.NDArray[np.int8]
    """MaskReason per box: DETECTED (seen on this frame) or TRACKED (held, predicted);
    track_clip also gives LOOKAHEAD (covered only by its backward pass)"""
    det_index: npt.NDArray[np.intp] = field(default_factory=lambda: np.zeros(0, np.intp))
    """per box, its row in this frame's input detections, or -1 for a held box"""

    @classmethod
    def empty(cls) -> TrackedFrame:
        d = Detections.create(np.zeros((0, 4)), [], [], np.zeros(0, np.int64))
        return cls(d, np.zeros(0, np.int8), np.zeros(0, np.intp))

    def __len__(self) -> int:
        return len(self.detections)


class Tracker:
    """One stream's tracks. Not thread-safe: one tracker per stream, frames in order."""

    def __init__(self, params: TrackerParams = DEFAULT_PARAMS) -> None:
        self.params = params
        self._noise = params.noise
        self._hold_us = round(params.hold_s * _US_PER_S)
        self.reset()

    def reset(self) -> None:
        """Forgets every track and the clock; ids start again at 1."""
        self._state = kalman.MotionState.empty()
        self._ids = np.zeros(0, np.int64)
        self._labels = np.zeros(0, np.int8)
        self._scores = np.zeros(0, np.float32)
        self._last_seen_us = np.zeros(0, np.int64)  # on the internal clock
        self._seen = np.zeros((0, 4), np.float64)  # estimated cx, cy, w, h when last seen
        self._next_id = 1
        self._now_us = 0  # internal clock: never goes backwards
        self._last_input_us: int | None = None

    def __len__(self) -> int:
        """Live tracks."""
        return len(self._ids)

    def update(
        self,
        detections: Detections | None,
        timestamp_us: int,
        face_cap: float | None = None,
        reach: Reach | None = None,
    ) -> TrackedFrame:
        """Advances to `timestamp_us` and folds in `detections`; returns what to mask.
        `face_cap`, if given, caps held faces' uncertainty margin on this frame only (box
        sizes per side; see `peek`); `reach` likewise cuts held boxes to where things move.

        `detections=None`: the detector did not run on this frame, tracks are only
        predicted. `Detections.empty()`: it ran and found nothing, tracks coast
        until `hold_s` expires (the same as None, since holding is measured in
        time). A timestamp earlier than the previous one (camera restart, clock
        wrap) counts as no time passing: tracks are kept rather than lost.
        """
        ts = int(timestamp_us)
        dt_us = 0 if self._last_input_us is None else max(0, ts - self._last_input_us)
        self._last_input_us = ts
        self._now_us += dt_us
        kalman.predict(self._state, dt_us / _US_PER_S, self._noise)
        self._keep(self._held())

        n_det = 0 if detections is None else len(detections)
        det_track = np.full(n_det, -1, np.intp)  # row in the track arrays per detection
        if detections is not None and n_det:
            det_track = self._associate(detections)
        if len(self._ids) > self.params.max_tracks:
            new_row = self._evict(det_track)
            det_track = np.where(det_track >= 0, new_row[np.maximum(det_track, 0)], -1)
        return self._output(detections, det_track, face_cap=face_cap, reach=reach)

    def peek(
        self, timestamp_us: int, face_cap: float | None = None, reach: Reach | None = None
    ) -> TrackedFrame:
        """What to mask at `timestamp_us` from the tracks as they are, changing nothing.

        For frames that go out before a detection of their own (the live path):
        the tracker then only moves when a detection is folded in, at that
        detection's frame time, so detections that finish late still land at the
        right moment of each track's path. Every box is a held one (TRACKED), and
        uncertainty margin is capped at `peek_sigma_cap` rather than `sigma_cap`:
        such a frame may be a detection time or more past its tracks, and a track
        seen once has no velocity yet, so the mask widens with what the filter
        does not know. `face_cap` caps held faces' margin lower on this frame only:
        where a look of the frame itself found its faces (pipeline/look.py), what
        the filter does not know of their path matters less.

        With `reach`, a held box is masked only where its object can be. Where nothing
        moves within reach of the box, its object has not gone anywhere: the box stays
        where and as large as last seen (with the steady growth), without the margin for
        an unknown path (a false plate that a detector reads on still ground on some
        frames only otherwise starts a new track of unknown velocity each time, masked up
        to three times its size). Where something moves, the object moved with it: the box
        is cut to the moving blobs that reach into it, grown by REACH_PAD of the object's
        size, plus where it was last seen if nothing moves there (it may have stopped
        beside a passer-by). A face detected late, its track without a velocity yet,
        otherwise leaves a mask three faces wide on the ground its walker has left.
        """
        ts = int(timestamp_us)
        dt_us = 0 if self._last_input_us is None else max(0, ts - self._last_input_us)
        saved = self._state, self._now_us
        self._state = self._state.select(np.ones(len(self._ids), bool))  # a copy to predict
        self._now_us += dt_us
        try:
            kalman.predict(self._state, dt_us / _US_PER_S, self._noise)
            held = self._held()
            out = self._output(
                None,
                np.zeros(0, np.intp),
                cap=self.params.peek_sigma_cap,
                face_cap=face_cap,
                reach=reach,
            )
        finally:
            self._state, self._now_us = saved
        if held.all():
            return out
        return TrackedFrame(out.detections.select(held), out.reasons[held], out.det_index[held])

    def _held(self) -> npt.NDArray[np.bool_]:
        """Per track: seen within hold_s of the clock (the others are dropped)."""
        return self._now_us - self._last_seen_us <= self._hold_us

    # ---- steps -------------------------------------------------------------------------

    def _associate(self, dets: Detections) -> npt.NDArray[np.intp]:
        """Matches per label, corrects matched tracks, starts the rest; track row per detection."""
        det_track = np.full(len(dets), -1, np.intp)
        # IoU against the plain prediction (a grown box would lower a true match's IoU);
        # the growth widens the centre gate instead
        predicted, margin = self._predicted_and_margin()
        slack = margin.max(axis=1)
        for label in np.unique(dets.labels):
            t_rows = np.flatnonzero(self._labels == label)
            d_rows = np.flatnonzero(dets.labels == label)
            ti, di = association.match(
                kalman.cxcywh_to_boxes(predicted[t_rows]),
                dets.boxes[d_rows],
                self.params.iou_match,
                self.params.centre_gate,
                self.params.max_size_ratio,
                slack[t_rows],
            )
            det_track[d_rows[di]] = t_rows[ti]
        matched = det_track >= 0
        if matched.any():
            rows = det_track[matched]
            kalman.correct(self._state, rows, dets.boxes[matched], self._noise)
            self._scores[rows] = dets.scores[matched]
            self._last_seen_us[rows] = self._now_us
            self._seen[rows] = self._state.x[rows]
        new = np.flatnonzero(~matched)
        if len(new):
            first = len(self._ids)
            self._state = kalman.MotionState.concat(
                self._state, kalman.start(dets.boxes[new], self._noise)
            )
            ids = np.arange(self._next_id, self._next_id + len(new), dtype=np.int64)
            self._next_id += len(new)
            self._ids = np.concatenate([self._ids, ids])
            self._labels = np.concatenate([self._labels, dets.labels[new]])
            self._scores = np.concatenate([self._scores, dets.scores[new]])
            self._last_seen_us = np.concatenate(
                [self._last_seen_us, np.full(len(new), self._now_us, np.int64)]
            )
            self._seen = np.concatenate([self._seen, self._state.x[first:]])
            det_track[new] = np.arange(first, first + len(new))
        return det_track

    def _evict(self, det_track: npt.NDArray[np.intp]) -> npt.NDArray[np.intp]:
        """Over max_tracks: drops the tracks unseen the longest, never one detected now.

        Returns each old row's new row (meaningful for kept rows only).
        """
        excess = len(self._ids) - self.params.max_tracks
        detected_now = np.zeros(len(self._ids), bool)
        detected_now[det_track[det_track >= 0]] = True
        candidates = np.flatnonzero(~detected_now)
        oldest_first = candidates[np.argsort(self._last_seen_us[candidates], kind="stable")]
        keep = np.ones(len(self._ids), bool)
        keep[oldest_first[:excess]] = False  # if every track was detected now, all are kept
        self._keep(keep)
        return (np.cumsum(keep) - 1).astype(np.intp)

    def _keep(self, keep: npt.NDArray[np.bool_]) -> None:
        if keep.all():
            return
        self._state = self._state.select(keep)
        self._ids = self._ids[keep]
        self._labels = self._labels[keep]
        self._scores = self._scores[keep]
        self._last_seen_us = self._last_seen_us[keep]
        self._seen = self._seen[keep]

    def _predicted_and_margin(
        self, cap: float | None = None, face_cap: float | None = None
    ) -> tuple[kalman.F64, kalman.F64]:
        """Per track: predicted (cx, cy, w, h), never smaller than last seen; the margin
        (px per side, x and y) a held box adds for time unseen and uncertainty."""
        x = self._state.x.copy()
        x[:, 2:] = np.maximum(x[:, 2:], self._seen[:, 2:])
        # the centre's own uncertainty: large for a young track of unknown velocity
        sigma = self.params.sigma_growth * np.sqrt(self._state.p00[:, :2])
        caps = np.full(len(x), self.params.sigma_cap if cap is None else cap)
        faces = self._labels == int(Label.FACE)
        for c in (self.params.face_sigma_cap, face_cap):
            if c is not None:
                caps[faces] = np.minimum(caps[faces], c)
        sigma = np.minimum(sigma, caps[:, None] * x[:, 2:])
        return x, self._steady(x) + sigma

    def _steady(self, x: kalman.F64) -> kalman.F64:
        """Per track of (cx, cy, w, h) `x`: the steady margin (px per side, x and y) for time
        unseen, whatever the path."""
        unseen_s = (self._now_us - self._last_seen_us) / _US_PER_S
        steady: kalman.F64 = x[:, 2:] * (self.params.growth_per_s * unseen_s / 2)[:, None]
        return steady

    def _held_boxes(self, cap: float | None = None, face_cap: float | None = None) -> F32:
        """Each track's predicted box grown by its margin: what is masked while unseen."""
        x, margin = self._predicted_and_margin(cap, face_cap)
        x[:, 2:] += 2 * margin
        return kalman.cxcywh_to_boxes(x)

    def _seen_boxes(self) -> F32:
        """Each track's box where and as large as last seen, grown by the steady margin only:
        where an object that went nowhere is."""
        x = self._seen.copy()
        x[:, 2:] += 2 * self._steady(x)
        return kalman.cxcywh_to_boxes(x)

    def _within_reach(self, boxes: F32, reach: Reach) -> F32:
        """Each held box cut to where its object can be (see `peek`)."""
        pad = (REACH_PAD * self._seen[:, 2:]).astype(np.float32)
        within, moving = reach(boxes, pad)
        seen = self._seen_boxes()
        _, stirred = reach(seen, np.zeros_like(pad))
        out = np.where(moving[:, None], within, seen)
        both = moving & ~stirred
        out[both, :2] = np.minimum(within[both, :2], seen[both, :2])
        out[both, 2:] = np.maximum(within[both, 2:], seen[both, 2:])
        return out.astype(np.float32)

    def _output(
        self,
        dets: Detections | None,
        det_track: npt.NDArray[np.intp],
        cap: float | None = None,
        face_cap: float | None = None,
        reach: Reach | None = None,
    ) -> TrackedFrame:
        n = len(self._ids)
        boxes = self._held_boxes(cap, face_cap)
        if reach is not None and n:
            boxes = self._within_reach(boxes, reach)
        scores = self._scores.copy()
        reasons = np.full(n, int(MaskReason.TRACKED), np.int8)
        det_index = np.full(n, -1, np.intp)
        if dets is not None and len(det_track):
            boxes[det_track] = dets.boxes
            scores[det_track] = dets.scores
            reasons[det_track] = int(MaskReason.DETECTED)
            det_index[det_track] = np.arange(len(det_track))
        out = Detections(boxes, scores, self._labels.copy(), self._ids.copy())
        return TrackedFrame(out, reasons, det_index)
