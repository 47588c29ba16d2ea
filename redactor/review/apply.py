"""A review applied to the plan: what the render (and the released preview) masks.

False positives leave the plan; reviewer-drawn objects join it (reason
REVIEWER, their own ids); tracks left visible are marked per frame, for
redactor.export.redact.plan_masks (`shown`), with any other face box lying almost
wholly inside a visible face (the same face under another id), as for subject access.
Frames whose detector failed stay
fully masked whatever the review says: plan_masks sees to that.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from redactor.export.redact import show_duplicate_faces
from redactor.review.model import Decision, Review
from redactor.track import TrackedFrame
from redactor.types import Detections, MaskReason


def reviewed_frame(
    tf: TrackedFrame, index: int, review: Review
) -> tuple[TrackedFrame, npt.NDArray[np.bool_]]:
    """One frame of the plan with the review applied, and its rows left visible."""
    d = tf.detections
    ids = d.track_ids if len(d.track_ids) == len(d) else np.zeros(len(d), np.int64)
    keep = np.array([review.decision(int(t)) is not Decision.FALSE_POSITIVE for t in ids], bool)
    boxes = [d.boxes[keep]]
    scores = [d.scores[keep]]
    labels = [d.labels[keep]]
    out_ids = [ids[keep]]
    reasons = [tf.reasons[keep]]
    for obj in review.objects.values():
        box = obj.box_at(index)
        if box is None or review.decision(obj.id) is Decision.FALSE_POSITIVE:
            continue
        boxes.append(np.asarray([box], np.float32))
        scores.append(np.ones(1, np.float32))
        labels.append(np.asarray([obj.label], np.int8))
        out_ids.append(np.asarray([obj.id], np.int64))
        reasons.append(np.asarray([int(MaskReason.REVIEWER)], np.int8))
    merged = Detections(
        np.concatenate(boxes).astype(np.float32).reshape(-1, 4),
        np.concatenate(scores).astype(np.float32),
        np.concatenate(labels).astype(np.int8),
        np.concatenate(out_ids).astype(np.int64),
    )
    shown = show_duplicate_faces(
        merged,
        np.array([review.decision(int(t)) is Decision.VISIBLE for t in merged.track_ids], bool),
    )
    frame = TrackedFrame(
        merged, np.concatenate(reasons).astype(np.int8), np.full(len(merged), -1, np.intp)
    )
    return frame, shown


def reviewed(
    tracked: list[TrackedFrame], review: Review
) -> tuple[list[TrackedFrame], list[npt.NDArray[np.bool_]]]:
    """Every frame of the plan with the review applied, and per frame the rows left visible."""
    frames, shown = [], []
    for i, tf in enumerate(tracked):
        f, s = reviewed_frame(tf, i, review)
        frames.append(f)
        shown.append(s)
    return frames, shown
