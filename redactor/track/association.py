"""Which detection continues which track: IoU first, centre distance for small fast boxes.

A small box that moves more than its own width between two detections (a plate
on a passing car, a face at reduced cadence before its track knows its
velocity) has IoU 0 with its prediction. Such pairs may still match when the
centres are close in units of box size and the sizes agree, but they always
score below any pair that passes the IoU threshold, so a real overlap wins.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from scipy.optimize import linear_sum_assignment

from redactor.boxes import iou_matrix

F32 = npt.NDArray[np.float32]

_FORBIDDEN = 1e6  # cost of a pair that fails both gates; never kept


def match(
    track_boxes: F32,
    det_boxes: F32,
    iou_min: float,
    centre_gate: float,
    max_size_ratio: float,
    slack_px: npt.NDArray[np.float64] | None = None,
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Optimal one-to-one pairs (track rows, detection rows) that pass a gate.

    Gates: IoU >= iou_min, or centre distance <= centre_gate x the pair's mean
    longer side + the track's slack_px (its position uncertainty), with width
    and height each within max_size_ratio of the other.
    """
    empty = np.zeros(0, np.intp)
    if len(track_boxes) == 0 or len(det_boxes) == 0:
        return empty, empty
    iou = iou_matrix(track_boxes, det_boxes)
    score = np.where(iou >= iou_min, iou, 0.0)
    if centre_gate > 0:
        t, d = track_boxes.astype(np.float64), det_boxes.astype(np.float64)
        t_size, d_size = t[:, 2:] - t[:, :2], d[:, 2:] - d[:, :2]
        t_c, d_c = (t[:, :2] + t[:, 2:]) / 2, (d[:, :2] + d[:, 2:]) / 2
        dist = np.linalg.norm(t_c[:, None, :] - d_c[None, :, :], axis=2)
        scale = (t_size.max(axis=1)[:, None] + d_size.max(axis=1)[None, :]) / 2
        slack = np.zeros(len(t)) if slack_px is None else slack_px
        limit = centre_gate * np.maximum(scale, 1.0) + slack[:, None]
        near = dist / limit  # <= 1 inside the gate
        ratio = np.maximum(t_size[:, None, :], 1.0) / np.maximum(d_size[None, :, :], 1.0)
        similar = np.all((ratio <= max_size_ratio) & (ratio >= 1.0 / max_size_ratio), axis=2)
        by_centre = (score == 0) & similar & (near <= 1.0)
        # strictly below iou_min, so any IoU-gated pair outranks a centre-gated one
        score = np.where(by_centre, 0.5 * iou_min * (1.0001 - near), score)
    cost = np.where(score > 0, -score, _FORBIDDEN)
    rows, cols = linear_sum_assignment(cost)
    ok = cost[rows, cols] < _FORBIDDEN
    return rows[ok].astype(np.intp), cols[ok].astype(np.intp)
