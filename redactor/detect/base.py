"""The one interface every detector plugin implements.

A detector takes a BGR frame and returns validated Detections in that frame's
pixel coordinates. It knows its model and runtime, never masks, policies or
protobuf. Raising is allowed: the pipeline fails closed on any exception.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import cv2
import numpy as np
import numpy.typing as npt

from redactor.boxes import Region
from redactor.errors import InvalidFrame
from redactor.types import Detections


@runtime_checkable
class Detector(Protocol):
    name: str
    """Short stable name, reported in manifests and metrics."""

    model_sha256: str
    """sha256 of the model file(s) it runs ("" where none), for manifests."""

    def detect(self, bgr: npt.NDArray[np.uint8]) -> Detections:
        """Boxes in `bgr`'s pixel coordinates. Must be thread-compatible per instance."""
        ...

    def close(self) -> None:
        """Releases the runtime. Idempotent."""
        ...


@runtime_checkable
class RegionDetector(Detector, Protocol):
    """A detector that can look at parts of a frame and find there what `detect` would."""

    def detect_in(self, bgr: npt.NDArray[np.uint8], regions: list[Region]) -> Detections:
        """The boxes `detect(bgr)` returns whose centre lies in one of `regions` (frame px),
        for less work than the whole frame; boxes it returns just around the regions may come
        too. Must be thread-compatible per instance."""
        ...


@runtime_checkable
class CostedDetector(Detector, Protocol):
    """A detector that knows how much its network has to look at on a frame of a size."""

    def work_px(self, width: int, height: int) -> int:
        """Pixels of network input for a `width` x `height` frame; 0 where it skips such frames."""
        ...


def work_px(detector: Detector, width: int, height: int) -> int:
    """`detector`'s network input pixels on a frame of this size: its own `work_px` where it
    has one, else the frame's (a detector that looks at the frame once)."""
    if isinstance(detector, CostedDetector):
        return detector.work_px(width, height)
    return width * height


def detect_in(detector: Detector, bgr: npt.NDArray[np.uint8], regions: list[Region]) -> Detections:
    """`detector`'s boxes centred in `regions`: its own `detect_in` where it has one, else
    everything it finds on the whole frame (found at that cost, so kept: a detector whose
    network mixes the whole input, as DBNet's pooling does, finds other boxes on windows)."""
    if isinstance(detector, RegionDetector):
        return detector.detect_in(bgr, regions)
    return detector.detect(bgr)


AREA_BELOW = 0.4  # shrink factors below this need area averaging; above, bilinear (at 1/2 a 2x2 mean) is 5x cheaper


def resize(bgr: npt.NDArray[np.uint8], width: int, height: int) -> npt.NDArray[np.uint8]:
    """`bgr` resized to width x height for a network (itself when already that size).

    Area averaging (anti-aliased, but slow off integer factors) only for strong
    shrinking; bilinear otherwise, which at a factor of 1/2 is a 2x2 average.
    """
    h, w = bgr.shape[:2]
    if (w, h) == (width, height):
        return bgr
    strong = width < w * AREA_BELOW or height < h * AREA_BELOW
    return np.asarray(
        cv2.resize(
            bgr, (width, height), interpolation=cv2.INTER_AREA if strong else cv2.INTER_LINEAR
        ),
        np.uint8,
    )


def check_frame(bgr: object) -> None:
    """Raises InvalidFrame unless `bgr` is a non-empty (h, w, 3) uint8 array."""
    if (
        not isinstance(bgr, np.ndarray)
        or bgr.ndim != 3
        or bgr.shape[2] != 3
        or bgr.dtype != np.uint8
    ):
        got = f"{bgr.dtype} {bgr.shape}" if isinstance(bgr, np.ndarray) else type(bgr).__name__
        raise InvalidFrame(f"detectors take a BGR (h, w, 3) uint8 frame, got {got}")
    if bgr.shape[0] == 0 or bgr.shape[1] == 0:
        raise InvalidFrame(f"detectors take a non-empty frame, got {bgr.shape[1]}x{bgr.shape[0]}")


def tiles(width: int, height: int, tile: int, overlap: float) -> list[tuple[int, int, int, int]]:
    """Covers a frame with square tiles (x0, y0, x1, y1) of side `tile` that overlap.

    Edge tiles are shifted inwards so every tile is full size when the frame allows.
    """
    if tile <= 0 or (width <= tile and height <= tile):
        return [(0, 0, width, height)]
    step = max(1, int(tile * (1.0 - overlap)))

    def starts(extent: int) -> list[int]:
        if extent <= tile:
            return [0]
        s = list(range(0, extent - tile, step))
        s.append(extent - tile)
        return sorted(set(s))

    return [
        (x, y, min(x + tile, width), min(y + tile, height))
        for y in starts(height)
        for x in starts(width)
    ]
