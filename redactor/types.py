"""The types that travel between stages: Frame, Detections, Masks.

Detections are validated once, where they are made; every later stage trusts
them. Protobuf never appears here (see redactor/server/serde.py).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from redactor.errors import InvalidDetections

BoxArray = npt.NDArray[np.float32]  # (n, 4) xyxy, pixels


class Label(enum.IntEnum):
    """What a box holds. Values match redactor.v1.Label."""

    FACE = 1
    PLATE = 2
    PERSON = 3


PixelLayout = Literal["bgr", "i420", "nv12"]


@dataclass(slots=True)
class Frame:
    """One picture and where it sits in its stream.

    `planes` holds one (h, w, 3) uint8 array for "bgr"; Y (h, w), U and V
    (ceil(h/2), ceil(w/2)) for "i420"; Y and interleaved UV (ceil(h/2), ceil(w/2), 2)
    for "nv12". Kernels mask the planes in place.
    """

    layout: PixelLayout
    planes: tuple[npt.NDArray[np.uint8], ...]
    seq: int = 0
    timestamp_us: int = 0

    @property
    def width(self) -> int:
        return int(self.planes[0].shape[1])

    @property
    def height(self) -> int:
        return int(self.planes[0].shape[0])

    @classmethod
    def from_bgr(cls, img: npt.NDArray[np.uint8], seq: int = 0, timestamp_us: int = 0) -> Frame:
        return cls("bgr", (img,), seq, timestamp_us)

    def to_bgr(self) -> npt.NDArray[np.uint8]:
        """BGR pixels for detectors (a view for "bgr", a conversion otherwise)."""
        import cv2  # local: keeps this module import-light for kernels' tests

        if self.layout == "bgr":
            return self.planes[0]
        h, w = self.height, self.width
        if self.layout == "i420":
            y, u, v = self.planes
            if h % 2 == 0 and w % 2 == 0:
                packed = np.concatenate([y.ravel(), u.ravel(), v.ravel()]).reshape(h * 3 // 2, w)
                return cv2.cvtColor(packed, cv2.COLOR_YUV2BGR_I420)  # type: ignore[return-value]
            yuv = np.dstack([y, _upsample(u, h, w), _upsample(v, h, w)])
            return cv2.cvtColor(yuv, cv2.COLOR_YUV2BGR)  # type: ignore[return-value]
        y, uv = self.planes
        yuv = np.dstack([y, _upsample(uv[..., 0], h, w), _upsample(uv[..., 1], h, w)])
        return cv2.cvtColor(yuv, cv2.COLOR_YUV2BGR)  # type: ignore[return-value]


def _upsample(c: npt.NDArray[np.uint8], h: int, w: int) -> npt.NDArray[np.uint8]:
    return np.repeat(np.repeat(c, 2, axis=0), 2, axis=1)[:h, :w]


@dataclass(frozen=True, slots=True)
class Detections:
    """Boxes found in one frame: (n, 4) float32 xyxy, scores (n,), labels (n,) of Label.

    Construction validates shape, dtype, finiteness and order of corners, so a
    detector that returns garbage fails here, where the pipeline fails closed.
    """

    boxes: BoxArray
    scores: npt.NDArray[np.float32]
    labels: npt.NDArray[np.int8]
    track_ids: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, np.int64))

    def __post_init__(self) -> None:
        b, s, lab = self.boxes, self.scores, self.labels
        if not isinstance(b, np.ndarray) or b.ndim != 2 or b.shape[1] != 4:
            got = getattr(b, "shape", type(b).__name__)
            raise InvalidDetections(f"boxes must be an (n, 4) array, got {got}")
        n = b.shape[0]
        if b.dtype != np.float32:
            raise InvalidDetections(f"boxes must be float32, got {b.dtype}")
        for name, arr in (("scores", s), ("labels", lab)):
            if not isinstance(arr, np.ndarray) or arr.shape != (n,):
                got = getattr(arr, "shape", type(arr).__name__)
                raise InvalidDetections(f"{name} must have shape ({n},), got {got}")
        if self.track_ids.shape not in ((0,), (n,)):
            raise InvalidDetections(
                f"track_ids must have shape ({n},) or (0,), got {self.track_ids.shape}"
            )
        if not np.all(np.isfinite(b)) or not np.all(np.isfinite(s)):
            raise InvalidDetections("boxes and scores must be finite (found NaN or inf)")
        if n and (np.any(b[:, 2] < b[:, 0]) or np.any(b[:, 3] < b[:, 1])):
            raise InvalidDetections("boxes must be xyxy with x1 >= x0 and y1 >= y0")
        valid = {int(v) for v in Label}
        if n and not set(np.unique(lab).tolist()) <= valid:
            raise InvalidDetections(f"labels must be in {sorted(valid)}, got {np.unique(lab)}")

    @classmethod
    def empty(cls) -> Detections:
        return cls(np.zeros((0, 4), np.float32), np.zeros(0, np.float32), np.zeros(0, np.int8))

    @classmethod
    def create(
        cls,
        boxes: npt.ArrayLike,
        scores: npt.ArrayLike,
        labels: npt.ArrayLike | Label,
        track_ids: npt.ArrayLike | None = None,
    ) -> Detections:
        """Builds from array-likes, casting dtypes; validation still applies."""
        b = np.asarray(boxes, dtype=np.float32).reshape(-1, 4)
        s = np.asarray(scores, dtype=np.float32).reshape(-1)
        if isinstance(labels, Label):
            lab = np.full(b.shape[0], int(labels), np.int8)
        else:
            lab = np.asarray(labels, dtype=np.int8).reshape(-1)
        t = np.zeros(0, np.int64) if track_ids is None else np.asarray(track_ids, np.int64)
        return cls(b, s, lab, t)

    def __len__(self) -> int:
        return int(self.boxes.shape[0])

    def select(self, keep: npt.NDArray[np.bool_] | npt.NDArray[np.intp]) -> Detections:
        t = self.track_ids[keep] if len(self.track_ids) else self.track_ids
        return Detections(self.boxes[keep], self.scores[keep], self.labels[keep], t)

    def of(self, label: Label) -> Detections:
        return self.select(self.labels == int(label))

    def clipped(self, width: int, height: int) -> Detections:
        """Boxes clipped to the frame; boxes left empty are kept (harmless, cheap)."""
        from redactor.boxes import clip  # here, not at the top: redactor.boxes imports this module

        return Detections(clip(self.boxes, width, height), self.scores, self.labels, self.track_ids)

    @staticmethod
    def concat(parts: list[Detections]) -> Detections:
        parts = [p for p in parts if len(p)]
        if not parts:
            return Detections.empty()
        with_tracks = all(len(p.track_ids) == len(p) for p in parts)
        return Detections(
            np.concatenate([p.boxes for p in parts]),
            np.concatenate([p.scores for p in parts]),
            np.concatenate([p.labels for p in parts]),
            np.concatenate([p.track_ids for p in parts]) if with_tracks else np.zeros(0, np.int64),
        )


class MaskReason(enum.IntEnum):
    """Why a region is masked. Values match redactor.v1.MaskReason."""

    DETECTED = 1
    TRACKED = 2
    ZONE = 3
    LOOKAHEAD = 4
    MOTION = 5
    STILL = 6
    REVIEWER = 7  # an object a reviewer drew (redactor.review)
    START = 8  # live: a coarse mosaic (all but what moves): a stream's start, a changed picture


@dataclass(frozen=True, slots=True)
class Masks:
    """What the policy decided to cover on one frame: what is reported and scored.

    `boxes` are already enlarged and clipped to the frame. `full_frame` means
    every pixel is masked (fail-closed), whatever the boxes say.
    """

    boxes: BoxArray
    labels: npt.NDArray[np.int8]
    reasons: npt.NDArray[np.int8]
    ellipse: bool = False
    zones: tuple[npt.NDArray[np.int32], ...] = ()  # polygons (k, 2) x,y
    full_frame: bool = False
    full_frame_reason: str = ""

    @classmethod
    def none(cls) -> Masks:
        return cls(np.zeros((0, 4), np.float32), np.zeros(0, np.int8), np.zeros(0, np.int8))

    @classmethod
    def everything(cls, width: int, height: int, reason: str) -> Masks:
        return cls(
            np.array([[0, 0, width, height]], np.float32),
            np.zeros(1, np.int8),
            np.zeros(1, np.int8),
            full_frame=True,
            full_frame_reason=reason,
        )

    def __len__(self) -> int:
        return int(self.boxes.shape[0])


class FrameStatus(enum.IntEnum):
    """What happened to a frame. Values match redactor.v1.FrameStatus.

    Only REDACTED and FULLY_MASKED frames carry pixels.
    """

    REDACTED = 1
    FULLY_MASKED = 2
    DROPPED = 3


class PixelFormat(enum.IntEnum):
    """Wire formats. Values match redactor.v1.PixelFormat."""

    BGR24 = 1
    I420 = 2
    NV12 = 3
    JPEG = 4
    PNG = 5
    H264 = 6


RAW_FORMATS = (PixelFormat.BGR24, PixelFormat.I420, PixelFormat.NV12)
IMAGE_FORMATS = (PixelFormat.JPEG, PixelFormat.PNG)
