"""People on the original frames, found by a detector independent of redactor's:
OpenCV's HOG people detector (in the headless build). bench.live scores how much of
each person's body the live masks leave visible (bench.live_metrics.body_visibility).

Run once per clip, size, rate and frame count on exactly the frames the relay sends,
and cached under bench/results/cache/ like bench.live's reference.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from bench.cache import CACHE, cache_key, identity
from bench.sent import sent_frames

# HOG's window is 64x128 px: far walkers fall under it at a smaller width (docs/benchmarks.md).
WORK_WIDTH = 960
MIN_WEIGHT = 0.5  # a margin over the SVM's own threshold (0): its weakest hits are the least sure
STRIDE, PADDING, SCALE = (8, 8), (8, 8), 1.05  # OpenCV's people-detection sample


def detector() -> cv2.HOGDescriptor:
    hog = cv2.HOGDescriptor()
    hog.setSVMDetector(np.asarray(cv2.HOGDescriptor.getDefaultPeopleDetector(), np.float32))
    return hog


def find_people(hog: cv2.HOGDescriptor, bgr: npt.NDArray[np.uint8]) -> npt.NDArray[np.float32]:
    """Person boxes (x0, y0, x1, y1) in the frame's own pixels, found at WORK_WIDTH:
    the same people are found whatever size the clip is streamed at."""
    h, w = bgr.shape[:2]
    s = WORK_WIDTH / w
    img = cv2.resize(bgr, (WORK_WIDTH, round(h * s)), interpolation=cv2.INTER_AREA)
    rects, weights = hog.detectMultiScale(img, winStride=STRIDE, padding=PADDING, scale=SCALE)
    if not len(rects):
        return np.zeros((0, 4), np.float32)
    r = np.asarray(rects, np.float32).reshape(-1, 4)[np.ravel(weights) >= MIN_WEIGHT]
    out: npt.NDArray[np.float32] = np.concatenate([r[:, :2], r[:, :2] + r[:, 2:]], axis=1) / s
    return out.astype(np.float32)


def people(
    source: str, size: tuple[int, int] | None, frames: int, rate: float | None = None
) -> list[npt.NDArray[np.float32]]:
    """Per frame the relay sends (`seq` order), the HOG person boxes; cached."""
    name = cache_key(
        identity(source),
        size,
        frames,
        rate,
        WORK_WIDTH,
        MIN_WEIGHT,
        STRIDE,
        PADDING,
        SCALE,
        cv2.__version__,
    )
    cached = CACHE / f"live_people_{name}.npz"
    if cached.exists():
        with np.load(cached) as z:
            return [z[f"p{i}"] for i in range(int(z["n"]))]
    hog = detector()
    out = [find_people(hog, bgr) for bgr in sent_frames(source, size, frames, rate)]
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(".tmp.npz")
    arrays: dict[str, Any] = {"n": len(out), **{f"p{i}": p for i, p in enumerate(out)}}
    np.savez_compressed(tmp, **arrays)
    tmp.replace(cached)
    return out
