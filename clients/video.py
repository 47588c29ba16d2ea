"""Video files ⇄ frames for the clients, with PyAV: decode any input, write
H.264 MP4 with the input's frame rate and each frame's own timestamp, no audio."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np


@dataclass(frozen=True, slots=True)
class SourceInfo:
    width: int
    height: int
    rate: Fraction  # average frame rate
    time_base: Fraction
    frames: int  # 0 where the container does not say


@dataclass(slots=True)
class SourceFrame:
    index: int
    pts: int  # in SourceInfo.time_base
    i420: bytes


def probe(path: str | Path) -> SourceInfo:
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        rate = s.average_rate or s.guessed_rate or Fraction(25)
        tb = s.time_base or Fraction(1, int(rate))
        return SourceInfo(
            s.codec_context.width, s.codec_context.height, Fraction(rate), Fraction(tb), s.frames
        )


def read_i420(path: str | Path) -> Iterator[SourceFrame]:
    """Decodes the first video stream to I420 bytes; audio and other streams are ignored."""
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        s.thread_type = "AUTO"
        rate = s.average_rate or s.guessed_rate or Fraction(25)
        tb = s.time_base or Fraction(1, int(rate))
        step = int(round(1 / (Fraction(rate) * Fraction(tb)))) or 1
        last = None
        for i, vf in enumerate(c.decode(s)):
            pts = vf.pts if vf.pts is not None else (0 if last is None else last + step)
            last = pts
            yield SourceFrame(i, pts, i420_bytes(vf))


def i420_bytes(vf: av.VideoFrame) -> bytes:
    if vf.format.name != "yuv420p":
        vf = vf.reformat(format="yuv420p")
    w, h = vf.width, vf.height
    dims = ((w, h), ((w + 1) // 2, (h + 1) // 2), ((w + 1) // 2, (h + 1) // 2))
    parts = []
    for plane, (pw, ph) in zip(vf.planes, dims, strict=True):
        rows = np.frombuffer(plane, np.uint8)  # type: ignore[call-overload]  # a VideoPlane is a buffer
        parts.append(rows.reshape(-1, plane.line_size)[:ph, :pw].tobytes())
    return b"".join(parts)


class Mp4Writer:
    """H.264 in MP4: same frame rate and time base as the source, each frame at its pts."""

    def __init__(self, path: str | Path, info: SourceInfo, crf: int = 20) -> None:
        self.info = info
        self._c = av.open(str(path), "w", format="mp4")
        self._s = self._c.add_stream("libx264", rate=info.rate)
        self._s.width, self._s.height = info.width, info.height
        self._s.pix_fmt = "yuv420p"
        self._s.time_base = info.time_base
        self._s.codec_context.time_base = info.time_base
        self._s.options = {"crf": str(crf), "preset": "veryfast"}

    def write_i420(self, data: bytes, pts: int) -> None:
        w, h = self.info.width, self.info.height
        cw, ch = (w + 1) // 2, (h + 1) // 2
        vf = av.VideoFrame(w, h, "yuv420p")
        offs = (0, w * h, w * h + cw * ch, w * h + 2 * cw * ch)
        for i, (pw, ph) in enumerate(((w, h), (cw, ch), (cw, ch))):
            arr = np.frombuffer(data, np.uint8, count=pw * ph, offset=offs[i]).reshape(ph, pw)
            plane = vf.planes[i]
            buf = np.zeros((ph, plane.line_size), np.uint8)
            buf[:, :pw] = arr
            plane.update(buf.tobytes())
        vf.pts = pts
        vf.time_base = self.info.time_base
        for packet in self._s.encode(vf):
            self._c.mux(packet)

    def close(self) -> None:
        for packet in self._s.encode(None):
            self._c.mux(packet)
        self._c.close()
