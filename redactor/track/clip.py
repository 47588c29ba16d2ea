"""Offline tracking of a whole clip: forward and backward, for exports.

A live tracker can only hold a mask after its object was last detected. With
the whole clip at hand, a second tracker runs backward in time (timestamps
negated, so "after" becomes "before"), which covers an object on the frames
just before it was first detected, and across gaps from both sides.

Track ids are the forward pass's. A backward box takes the forward id of the
detection its backward track last matched (the next detection in forward
time), so both passes speak of the same objects under one set of ids.

Merging, per frame and per forward id:
- the id is detected on this frame: its detected box (DETECTED) is kept as is;
  backward boxes of that id that do not overlap it are kept beside it
  (LOOKAHEAD), since a disjoint box under the same id can only come from an id
  switch between two objects, and the other object must stay covered;
- otherwise: one box enclosing the forward held box and the backward ones, so a
  gap between two detections is covered from both ends; TRACKED when the
  forward pass holds the id, LOOKAHEAD when only the backward pass does.

Subject access (the export leaves one person unmasked): use the ids of this
function's output (the same a live Tracker gives on the same frames). Take the
frame at the request's timestamp, pick the box of the subject's label that
overlaps the subject's box best, and leave that track id unmasked on every
frame. All ids here are forward ids, the same on every frame; LOOKAHEAD boxes
carry them too, so the subject is also left visible just before it was first
detected. If the subject was lost
for longer than hold_s, later frames carry a new id and stay masked: the error
goes towards masking too much. The one error the other way is an id switch
between two people of the same label crossing (the motion model keeps ids
through ordinary crossings, see tests/track); an export that must be certain
keeps masked the frames where the subject's box overlaps another track's box.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from redactor.boxes import iou_matrix
from redactor.errors import InvalidInput
from redactor.track.tracker import DEFAULT_PARAMS, TrackedFrame, Tracker, TrackerParams
from redactor.types import Detections, MaskReason

_DETECTED = int(MaskReason.DETECTED)
_TRACKED = int(MaskReason.TRACKED)
_LOOKAHEAD = int(MaskReason.LOOKAHEAD)


def track_clip(
    per_frame: Sequence[Detections | None],
    timestamps_us: Sequence[int],
    params: TrackerParams = DEFAULT_PARAMS,
) -> list[TrackedFrame]:
    """Forward and backward tracking of a clip, merged per frame (see the module doc).

    `per_frame[i]` is frame i's detections (None where the detector did not run);
    `timestamps_us` must not decrease.
    """
    if len(per_frame) != len(timestamps_us):
        raise InvalidInput(
            f"track_clip needs one timestamp per frame, got {len(per_frame)} "
            f"frames and {len(timestamps_us)} timestamps"
        )
    ts = np.asarray(timestamps_us, np.int64)
    if len(ts) > 1 and np.any(np.diff(ts) < 0):
        i = int(np.flatnonzero(np.diff(ts) < 0)[0])
        raise InvalidInput(
            f"timestamps_us must not decrease: frame {i} at {ts[i]} us, "
            f"frame {i + 1} at {ts[i + 1]} us"
        )

    tracker = Tracker(params)
    forward = [tracker.update(d, int(t)) for d, t in zip(per_frame, ts, strict=True)]

    # forward id of each input detection, per frame
    fwd_id_of_det: list[npt.NDArray[np.int64]] = []
    for d, f in zip(per_frame, forward, strict=True):
        ids = np.zeros(0 if d is None else len(d), np.int64)
        hit = f.det_index >= 0
        ids[f.det_index[hit]] = f.detections.track_ids[hit]
        fwd_id_of_det.append(ids)

    tracker = Tracker(params)
    backward_as_fwd: list[tuple[Detections, npt.NDArray[np.int8]]] = [
        (Detections.empty(), np.zeros(0, np.int8))
    ] * len(forward)
    to_fwd: dict[int, int] = {}
    for i in range(len(per_frame) - 1, -1, -1):
        b = tracker.update(per_frame[i], -int(ts[i]))
        bids = b.detections.track_ids
        for row in np.flatnonzero(b.det_index >= 0):
            to_fwd[int(bids[row])] = int(fwd_id_of_det[i][b.det_index[row]])
        mapped = np.array([to_fwd[int(x)] for x in bids], np.int64)
        d = b.detections
        backward_as_fwd[i] = (Detections(d.boxes, d.scores, d.labels, mapped), b.reasons)

    return [_merge(f, *bw) for f, bw in zip(forward, backward_as_fwd, strict=True)]


def _merge(fwd: TrackedFrame, bwd: Detections, bwd_reasons: npt.NDArray[np.int8]) -> TrackedFrame:
    fd = fwd.detections
    boxes: list[npt.NDArray[np.float32]] = []
    scores: list[float] = []
    labels: list[int] = []
    ids: list[int] = []
    reasons: list[int] = []
    det_index: list[int] = []

    def add(
        box: npt.NDArray[np.float32], score: float, label: int, tid: int, why: int, row: int
    ) -> None:
        boxes.append(box)
        scores.append(score)
        labels.append(label)
        ids.append(tid)
        reasons.append(why)
        det_index.append(row)

    detected = fwd.reasons == _DETECTED
    for tid in np.union1d(fd.track_ids, bwd.track_ids):
        f_rows = np.flatnonzero(fd.track_ids == tid)
        b_rows = np.flatnonzero(bwd.track_ids == tid)
        f_det = f_rows[detected[f_rows]]
        if len(f_det):
            r = int(f_det[0])
            add(
                fd.boxes[r],
                float(fd.scores[r]),
                int(fd.labels[r]),
                int(tid),
                _DETECTED,
                int(fwd.det_index[r]),
            )
            others = b_rows[bwd_reasons[b_rows] != _DETECTED]
            if len(others):
                apart = iou_matrix(bwd.boxes[others], fd.boxes[r : r + 1])[:, 0] <= 0.0
                for o in others[apart]:
                    add(
                        bwd.boxes[o],
                        float(bwd.scores[o]),
                        int(bwd.labels[o]),
                        int(tid),
                        _LOOKAHEAD,
                        -1,
                    )
            continue
        group = np.concatenate([fd.boxes[f_rows], bwd.boxes[b_rows]])
        enclosing = np.concatenate([group[:, :2].min(axis=0), group[:, 2:].max(axis=0)])
        score = float(np.concatenate([fd.scores[f_rows], bwd.scores[b_rows]]).max())
        label = int(fd.labels[f_rows[0]]) if len(f_rows) else int(bwd.labels[b_rows[0]])
        add(
            enclosing.astype(np.float32),
            score,
            label,
            int(tid),
            _TRACKED if len(f_rows) else _LOOKAHEAD,
            -1,
        )

    if not ids:
        return TrackedFrame.empty()
    out = Detections(
        np.stack(boxes).astype(np.float32),
        np.asarray(scores, np.float32),
        np.asarray(labels, np.int8),
        np.asarray(ids, np.int64),
    )
    return TrackedFrame(out, np.asarray(reasons, np.int8), np.asarray(det_index, np.intp))
