"""The review proxy: every frame of an export at low resolution, as JPEG, seekable at once.

One file of concatenated JPEGs (`proxy.bin`) and their offsets (`proxy.idx.npy`),
so a seek is one read, never a decode of the video up to a keyframe. Made from
the same decode as detection (redactor.export.video.read_frames), so frame i
here is frame i of the plan. It holds unmasked pictures: it lives beside the
plan in the export's review folder, is served only to roles that may see the
original, and is deleted with that folder when the review ends.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from redactor.errors import FailedPrecondition, InvalidInput
from redactor.export.video import read_frames

_DATA = "proxy.bin"
_INDEX = "proxy.idx.npy"


@dataclass(frozen=True, slots=True)
class ProxySize:
    width: int
    height: int


def proxy_size(width: int, height: int, proxy_width: int) -> ProxySize:
    """The proxy keeps the aspect ratio; never wider than the source."""
    w = min(proxy_width, width)
    h = max(2, round(height * w / width))
    return ProxySize(w, h)


def build(
    source: Path,
    start_us: int | None,
    end_us: int | None,
    folder: Path,
    proxy_width: int,
    quality: int,
    frames: int,
) -> ProxySize:
    """Decodes the selection once and writes its proxy; checks it has the plan's `frames`."""
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / (_DATA + ".partial")
    offsets = [0]
    size: ProxySize | None = None
    params = [cv2.IMWRITE_JPEG_QUALITY, quality]
    with tmp.open("wb") as out:
        for f in read_frames(source, start_us, end_us):
            h, w = f.bgr.shape[:2]
            if size is None:
                size = proxy_size(w, h, proxy_width)
            small = cv2.resize(f.bgr, (size.width, size.height), interpolation=cv2.INTER_AREA)
            ok, jpg = cv2.imencode(".jpg", small, params)
            if not ok:
                raise FailedPrecondition(f"cannot encode proxy frame {f.index} as JPEG")
            out.write(jpg.tobytes())
            offsets.append(offsets[-1] + len(jpg))
    if size is None or len(offsets) - 1 != frames:
        tmp.unlink(missing_ok=True)
        raise FailedPrecondition(
            f"the proxy of {source.name} has {len(offsets) - 1} frames, the plan {frames}"
        )
    np.save(folder / (_INDEX + ".partial.npy"), np.asarray(offsets, np.int64))
    os.replace(folder / (_INDEX + ".partial.npy"), folder / _INDEX)
    os.replace(tmp, folder / _DATA)
    return size


class Proxy:
    """Reads proxy frames by index (thread-safe)."""

    def __init__(self, folder: Path) -> None:
        try:
            self._offsets = np.load(folder / _INDEX, allow_pickle=False)
            self._file = (folder / _DATA).open("rb")
        except (OSError, ValueError) as e:
            raise FailedPrecondition(f"the review proxy in {folder} cannot be read: {e}") from e
        self._lock = threading.Lock()
        self.frames = len(self._offsets) - 1
        first = self.bgr(0)
        self.height, self.width = first.shape[:2]

    def jpeg(self, index: int) -> bytes:
        if not 0 <= index < self.frames:
            raise InvalidInput(f"frame must be in [0, {self.frames - 1}], got {index}")
        a, b = int(self._offsets[index]), int(self._offsets[index + 1])
        with self._lock:
            self._file.seek(a)
            return self._file.read(b - a)

    def bgr(self, index: int) -> npt.NDArray[np.uint8]:
        img = cv2.imdecode(np.frombuffer(self.jpeg(index), np.uint8), cv2.IMREAD_COLOR)
        if img is None:
            raise FailedPrecondition(f"proxy frame {index} cannot be decoded")
        return np.asarray(img, np.uint8)

    def close(self) -> None:
        with self._lock:
            self._file.close()
