"""Reading a recording frame by frame, and writing the redacted H.264 MP4.

The output keeps each source frame's pts in the source's time base (the MP4
muxer may store them in a finer time scale; the times in seconds are the same),
so frame rate and timing match the source exactly. It has one video stream and
no audio. Odd frame sizes are padded with black to even ones (4:2:0 needs even
sizes); padding adds pixels and never shows anything of the source.

Every frame gets a burned-in mark naming the export and its recipient, drawn
after masking, in two opposite corners on an opaque background, so a leaked
copy names whom it was given to even when cropped.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import BinaryIO

import av
import cv2
import numpy as np
import numpy.typing as npt

from redactor.errors import InvalidInput

log = logging.getLogger(__name__)

_US = 1_000_000
MARK_FONT = cv2.FONT_HERSHEY_SIMPLEX
MARK_SCALE_PER_PX = 0.45 / 480  # font scale per pixel of frame height (0.45 at 480 lines)
MARK_MIN_SCALE = 0.35
MARK_PAD_PX = 3
MARK_MAX_CHARS = 96


@dataclass(frozen=True, slots=True)
class SourceFrame:
    index: int  # 0-based among the frames taken
    pts: int  # in the source stream's time base
    t_us: int  # microseconds since the recording's first frame
    bgr: npt.NDArray[np.uint8]


def read_frames(
    path: Path, start_us: int | None = None, end_us: int | None = None
) -> Iterator[SourceFrame]:
    """Decodes the first video stream; yields the frames with start_us <= t < end_us.

    t is measured from the recording's first decoded frame. A frame without a
    timestamp, or one that does not come after the previous, is an error: the
    export must keep timing exactly, so it does not guess.
    """
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        stream.thread_type = "AUTO"
        if stream.time_base is None:
            raise InvalidInput(f"{path.name}: the video stream has no time base")
        tb = Fraction(stream.time_base)
        origin: int | None = None
        prev: int | None = None
        index = 0
        for frame in c.decode(stream):
            if frame.pts is None:
                raise InvalidInput(f"{path.name}: a frame after pts {prev} has no timestamp")
            if prev is not None and frame.pts <= prev:
                raise InvalidInput(f"{path.name}: pts {frame.pts} does not follow {prev}")
            prev = frame.pts
            if origin is None:
                origin = frame.pts
            t_us = int((frame.pts - origin) * tb * _US)
            if start_us is not None and t_us < start_us:
                continue
            if end_us is not None and t_us >= end_us:
                break
            bgr = np.asarray(frame.to_ndarray(format="bgr24"), np.uint8)
            yield SourceFrame(index, int(frame.pts), t_us, bgr)
            index += 1


class Mp4Writer:
    """H.264 (libx264, yuv420p) in MP4, one video stream, pts as given."""

    def __init__(
        self,
        path: Path | BinaryIO,
        width: int,
        height: int,
        rate: Fraction,
        time_base: Fraction,
        crf: int,
        preset: str,
        threads: int,
    ) -> None:
        self.path = path
        self.width, self.height = width, height
        self._out = av.open(str(path) if isinstance(path, Path) else path, mode="w", format="mp4")
        try:
            s = self._out.add_stream(
                "libx264", rate=rate, options={"crf": str(crf), "preset": preset}
            )
            s.width = width + width % 2
            s.height = height + height % 2
            s.pix_fmt = "yuv420p"
            s.codec_context.time_base = time_base
            s.time_base = time_base
            s.codec_context.thread_count = threads
        except BaseException:
            self._out.close()
            raise
        self._stream = s
        self._time_base = time_base
        self.frames = 0

    def write(self, bgr: npt.NDArray[np.uint8], pts: int) -> None:
        if bgr.shape[:2] != (self.height, self.width):
            raise InvalidInput(
                f"frame {self.frames} is {bgr.shape[1]}x{bgr.shape[0]}, expected "
                f"{self.width}x{self.height} (the size may not change within an export)"
            )
        if self.width % 2 or self.height % 2:
            bgr = np.asarray(
                cv2.copyMakeBorder(
                    bgr, 0, self.height % 2, 0, self.width % 2, cv2.BORDER_CONSTANT, value=(0, 0, 0)
                ),
                np.uint8,
            )
        frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(bgr), format="bgr24")
        frame.pts = pts
        frame.time_base = self._time_base
        for packet in self._stream.encode(frame):
            self._out.mux(packet)
        self.frames += 1

    def close(self) -> None:
        """Flushes the encoder and finishes the file."""
        try:
            for packet in self._stream.encode(None):
                self._out.mux(packet)
        finally:
            self._out.close()

    def abort(self) -> None:
        """Closes without flushing; the caller deletes the file."""
        try:
            self._out.close()
        except Exception as e:  # noqa: BLE001 - the file is being discarded anyway
            log.debug("closing a discarded export file %s: %s", self.path, e)


def mark_text(export_id: str, recipient: str) -> str:
    """The mark's text: ASCII only (the built-in fonts have no other glyphs), so
    anything else is written as its code point, e.g. \\uacbd, and stays traceable."""
    text = f"EXPORT {export_id} FOR {recipient}"
    ascii_text = text.encode("ascii", "backslashreplace").decode("ascii")
    return (
        ascii_text if len(ascii_text) <= MARK_MAX_CHARS else ascii_text[: MARK_MAX_CHARS - 1] + "~"
    )


def burn_mark(bgr: npt.NDArray[np.uint8], text: str) -> None:
    """Draws `text` in the top-left and bottom-right corners, white on black, in place."""
    h, w = bgr.shape[:2]
    scale = max(MARK_MIN_SCALE, h * MARK_SCALE_PER_PX)
    thickness = 1 if scale < 0.8 else 2
    (tw, th), base = cv2.getTextSize(text, MARK_FONT, scale, thickness)
    box_w, box_h = min(w, tw + 2 * MARK_PAD_PX), min(h, th + base + 2 * MARK_PAD_PX)
    for x0, y0 in ((0, 0), (max(0, w - box_w), max(0, h - box_h))):
        bgr[y0 : y0 + box_h, x0 : x0 + box_w] = 0
        cv2.putText(
            bgr,
            text,
            (x0 + MARK_PAD_PX, y0 + MARK_PAD_PX + th),
            MARK_FONT,
            scale,
            (255, 255, 255),
            thickness,
            cv2.LINE_AA,
        )
