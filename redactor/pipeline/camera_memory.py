"""What a camera's last stream knew of its still ground, for the camera's next stream.

A new stream's still ground is unknown until its first sweeps are done (seconds at 1080p
on two cores), so its frames go out under the start's coarse mosaic. The relay hub opens
the same camera again and again: a reconnect after a network drop, a second recipient.
Once a stream's start is over, its held still boxes and the picture of its newest sweep
are kept here after each sweep; the camera's next stream of the same size (or one beside
it) holds those boxes from its first frame, and during its start shows the cells whose
picture is still the remembered one: what is there was swept by the earlier stream. A
cell where anything differs (a walker, a parked car, a person who came and stands still)
stays under the mosaic until the new stream's own sweeps are done.
Why: docs/live.md#a-cameras-next-stream.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np
import numpy.typing as npt

from redactor.boxes import grid_sums
from redactor.pipeline.background import colour_diff
from redactor.types import Frame

if TYPE_CHECKING:
    from redactor.pipeline.sweep import Held

U8 = npt.NDArray[np.uint8]

# A cell holds nothing new while at most this many of its pixels differ beyond the level:
# coding noise at an edge, not a small face (docs/tuning.md#sweep).
NOISE_PX = 4

Key = tuple[str, int, int]  # camera id, frame width, frame height


@dataclass(frozen=True, slots=True)
class Remembered:
    """A stream's still ground as of its newest sweep: its held still boxes, and the
    picture (BGR, full resolution) of the frame that sweep looked at."""

    picture: U8
    held: tuple[Held, ...]


def picture(frame: Frame) -> U8:
    """The frame's BGR pixels, a copy: colour too, since a red coat on green grass can have
    the grass's luma."""
    return np.array(frame.to_bgr(), np.uint8, copy=True)


def unchanged_cells(before: U8, now: U8, cell: int, level: float) -> npt.NDArray[np.bool_]:
    """Which cells of a `cell`-px grid (rows x columns) show the picture they showed in
    `before` (BGR, as `now`): at most NOISE_PX of their pixels differ from it by more than
    `level` (0-255) in some channel. A light that changed by more than that changes every
    cell: they stay masked."""
    if before.shape != now.shape:
        raise ValueError(f"pictures of {before.shape} and {now.shape} px cannot be compared")
    h, w = now.shape[:2]
    _, over = cv2.threshold(colour_diff(now, before), level, 1, cv2.THRESH_BINARY)
    counts, _ = grid_sums(np.asarray(over, np.uint8), cell, w, h)
    return np.asarray(counts <= NOISE_PX)


class CameraMemory:
    """The server's memory of its cameras' still ground: one `Remembered` per camera and
    frame size, kept `keep_s` seconds after it was saved, their pictures `max_bytes` at
    most (the least recently saved go first). Shared by the streams' threads."""

    def __init__(self, keep_s: float, max_bytes: int) -> None:
        self.keep_s = keep_s
        self.max_bytes = max_bytes
        self._kept: OrderedDict[Key, tuple[float, Remembered]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def save(self, key: Key, remembered: Remembered) -> None:
        with self._lock:
            self._drop(key)
            if remembered.picture.nbytes > self.max_bytes:
                return
            self._kept[key] = (time.monotonic(), remembered)
            self._bytes += remembered.picture.nbytes
            while self._bytes > self.max_bytes:
                self._drop(next(iter(self._kept)))

    def recall(self, key: Key) -> Remembered | None:
        """The camera's remembered still ground at this size, unless older than `keep_s`."""
        with self._lock:
            kept = self._kept.get(key)
            if kept is None:
                return None
            if time.monotonic() - kept[0] > self.keep_s:
                self._drop(key)
                return None
            return kept[1]

    @property
    def bytes(self) -> int:
        """The kept pictures' size."""
        with self._lock:
            return self._bytes

    def _drop(self, key: Key) -> None:
        kept = self._kept.pop(key, None)
        if kept is not None:
            self._bytes -= kept[1].picture.nbytes
