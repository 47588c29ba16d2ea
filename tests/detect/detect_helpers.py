"""Helpers for detector tests: real images from the shared data, scored like bench.eval."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import cv2
import numpy as np
import numpy.typing as npt

from bench.eval_score import COVERED, box_mask, coverage
from redactor.boxes import enlarge
from redactor.config import PolicyConfig
from redactor.data import LabelledImage
from redactor.detect.base import Detector
from redactor.types import Detections

ENLARGE = PolicyConfig().enlarge  # boxes are scored as the default policy masks them

Image = npt.NDArray[np.uint8]


def read(item: LabelledImage) -> Image:
    img = cv2.imread(str(item.path), cv2.IMREAD_COLOR)
    assert img is not None, f"cannot read {item.path}"
    return img


def recall(
    detect: Callable[[Image], Detections],
    items: Sequence[LabelledImage],
    transform: Callable[[Image], Image] = lambda im: im,
    scale: float = 1.0,
) -> float:
    """Share of labelled boxes covered >= COVERED by the enlarged detections.

    `transform` alters the pixels (a colour swap); `scale` resizes image and labels.
    """
    covered = []
    for item in items:
        img = read(item)
        if scale != 1.0:
            img = cv2.resize(img, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        h, w = img.shape[:2]
        found = detect(transform(img))
        mask = box_mask(enlarge(found.boxes, ENLARGE), w, h)
        covered.append(coverage(mask, item.boxes * np.float32(scale)))
    return float((np.concatenate(covered) >= COVERED).mean())


def swap_rb(img: Image) -> Image:
    return np.ascontiguousarray(img[:, :, ::-1])


def close_all(detectors: Sequence[Detector]) -> None:
    for d in detectors:
        d.close()
