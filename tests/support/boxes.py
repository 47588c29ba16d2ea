"""Synthetic boxes (xyxy) and the share of one that masks cover."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from redactor.types import Detections, Label


def box(cx: float, cy: float, w: float = 60, h: float = 60) -> npt.NDArray[np.float64]:
    """The xyxy box of size w x h centred on (cx, cy)."""
    return np.array([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2])


def covered(truth: npt.NDArray[np.float64], masks: npt.NDArray[np.float32]) -> float:
    """Fraction of `truth` inside the best single mask box."""
    if len(masks) == 0:
        return 0.0
    lt = np.maximum(masks[:, :2], truth[:2])
    rb = np.minimum(masks[:, 2:], truth[2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=1)
    return float(inter.max() / np.prod(truth[2:] - truth[:2]))


def dets(boxes: list[npt.NDArray[np.float64]], label: Label = Label.FACE) -> Detections:
    """Detections of `boxes`, all with score 0.9 and one label."""
    return Detections.create(np.array(boxes).reshape(-1, 4), np.full(len(boxes), 0.9), label)
