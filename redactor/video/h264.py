"""H.264 access units ⇄ I420 Frames, through PyAV's libavcodec (no container).

The encoder uses low-latency settings (no B-frames, zerolatency tuning) so each
access unit in gives one access unit out, with no reordering delay.
"""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np

from redactor.errors import InvalidFrame
from redactor.types import Frame

# Presentation times travel as microseconds.
US = Fraction(1, 1_000_000)


class H264Decoder:
    def __init__(self) -> None:
        self._ctx = av.CodecContext.create("h264", "r")

    def decode(self, access_unit: bytes, seq: int, timestamp_us: int) -> list[Frame]:
        """Frames decoded from one access unit (usually one; zero while it buffers)."""
        if not access_unit:
            raise InvalidFrame(f"frame {seq}: expected an H.264 access unit, got 0 bytes")
        packet = av.Packet(access_unit)
        packet.pts = timestamp_us
        packet.time_base = US
        try:
            decoded = self._ctx.decode(packet)
        except av.error.FFmpegError as e:
            raise InvalidFrame(
                f"frame {seq}: corrupt H.264 access unit ({len(access_unit)} bytes): {e}"
            ) from e
        return [to_frame(f, seq, timestamp_us) for f in decoded]


def to_frame(vf: av.VideoFrame, seq: int, timestamp_us: int) -> Frame:
    """A decoded PyAV frame → I420 Frame with its own plane copies.

    Always copies: the decoder's frame buffer is also its reference picture for the
    frames that follow, so masking a view of it in place would corrupt every later
    frame of the group of pictures (a fail-closed black frame 0 left the rest of the
    GOP decoding as residuals over black)."""
    if vf.format.name != "yuv420p":
        vf = vf.reformat(format="yuv420p")
    w, h = vf.width, vf.height
    cw, ch = (w + 1) // 2, (h + 1) // 2
    planes = []
    for plane, (pw, ph) in zip(vf.planes, ((w, h), (cw, ch), (cw, ch)), strict=True):
        # planes carry line padding: view with the stride, then cut to width; a copy even
        # where the stride is the width (np.ascontiguousarray would then return the view)
        rows = np.frombuffer(plane, np.uint8)  # type: ignore[call-overload]  # a VideoPlane is a buffer
        buf = rows.reshape(-1, plane.line_size)[:ph, :pw]
        planes.append(np.array(buf, copy=True))
    return Frame("i420", tuple(planes), seq, timestamp_us)


def from_frame(frame: Frame) -> av.VideoFrame:
    """An I420 (or BGR) Frame → PyAV frame for encoding."""
    if frame.layout == "bgr":
        return av.VideoFrame.from_ndarray(frame.planes[0], format="bgr24").reformat(
            format="yuv420p"
        )
    if frame.layout == "nv12":
        y, uv = frame.planes
        vf = av.VideoFrame(frame.width, frame.height, "nv12")
        vf.planes[0].update(_pad(y, vf.planes[0].line_size))
        vf.planes[1].update(_pad(uv.reshape(uv.shape[0], -1), vf.planes[1].line_size))
        return vf
    vf = av.VideoFrame(frame.width, frame.height, "yuv420p")
    for plane, arr in zip(vf.planes, frame.planes, strict=True):
        plane.update(_pad(arr, plane.line_size))
    return vf


def _pad(arr: np.ndarray, line_size: int) -> bytes:
    h, w = arr.shape[:2]
    if w == line_size:
        return np.ascontiguousarray(arr).tobytes()
    out = np.zeros((h, line_size), np.uint8)
    out[:, :w] = arr
    return out.tobytes()


class H264Encoder:
    """Low-latency libx264: one access unit out per frame in."""

    def __init__(
        self,
        width: int,
        height: int,
        fps: float = 25.0,
        crf: int = 23,
        preset: str = "superfast",
        threads: int = 1,
    ) -> None:
        self._ctx = av.CodecContext.create("libx264", "w")
        self._ctx.width = width
        self._ctx.height = height
        self._ctx.pix_fmt = "yuv420p"
        self._ctx.time_base = US
        rate = Fraction(fps).limit_denominator(1001) if fps > 0 else Fraction(25)
        self._ctx.framerate = rate
        self._ctx.options = {
            "preset": preset,
            "tune": "zerolatency",
            "crf": str(crf),
            "threads": str(threads),
            "bframes": "0",
            "repeat-headers": "1",  # SPS/PPS in-band: a receiver can join any time
        }
        self._ctx.open()

    def encode(self, frame: Frame) -> bytes:
        vf = from_frame(frame)
        vf.pts = frame.timestamp_us
        vf.time_base = US
        return b"".join(bytes(p) for p in self._ctx.encode(vf))

    def flush(self) -> bytes:
        return b"".join(bytes(p) for p in self._ctx.encode(None))
