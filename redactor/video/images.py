"""Single pictures: raw planes and JPEG/PNG bytes ⇄ Frame, with size checks.

Every error says what was expected and what arrived, and is an InvalidFrame.
"""

from __future__ import annotations

import cv2
import numpy as np

from redactor.errors import InvalidFrame, LimitExceeded
from redactor.types import IMAGE_FORMATS, RAW_FORMATS, Frame, PixelFormat

_MAGIC = {PixelFormat.JPEG: b"\xff\xd8\xff", PixelFormat.PNG: b"\x89PNG\r\n\x1a\n"}


def raw_size(fmt: PixelFormat, width: int, height: int) -> int:
    """Bytes of one raw frame."""
    if fmt == PixelFormat.BGR24:
        return width * height * 3
    cw, ch = (width + 1) // 2, (height + 1) // 2
    return width * height + 2 * cw * ch


def check_dimensions(width: int, height: int, max_width: int, max_height: int) -> None:
    if width <= 0 or height <= 0:
        raise InvalidFrame(f"expected width and height > 0, got {width}x{height}")
    if width > max_width or height > max_height:
        raise LimitExceeded(
            f"frame {width}x{height} exceeds limits.max_width x limits.max_height = "
            f"{max_width}x{max_height}"
        )


def decode_raw(
    fmt: PixelFormat, width: int, height: int, data: bytes, seq: int = 0, timestamp_us: int = 0
) -> Frame:
    """Wraps raw bytes as a Frame (a copy: the caller's buffer stays untouched)."""
    expected = raw_size(fmt, width, height)
    if len(data) != expected:
        raise InvalidFrame(f"{fmt.name} {width}x{height} needs {expected} bytes, got {len(data)}")
    buf = np.frombuffer(data, np.uint8).copy()
    if fmt == PixelFormat.BGR24:
        return Frame("bgr", (buf.reshape(height, width, 3),), seq, timestamp_us)
    cw, ch = (width + 1) // 2, (height + 1) // 2
    y = buf[: width * height].reshape(height, width)
    rest = buf[width * height :]
    if fmt == PixelFormat.I420:
        u = rest[: cw * ch].reshape(ch, cw)
        v = rest[cw * ch :].reshape(ch, cw)
        return Frame("i420", (y, u, v), seq, timestamp_us)
    return Frame("nv12", (y, rest.reshape(ch, cw, 2)), seq, timestamp_us)


def encode_raw(frame: Frame) -> bytes:
    return b"".join(np.ascontiguousarray(p).tobytes() for p in frame.planes)


def decode_image(
    fmt: PixelFormat,
    data: bytes,
    max_width: int,
    max_height: int,
    seq: int = 0,
    timestamp_us: int = 0,
) -> Frame:
    """JPEG or PNG bytes → BGR Frame. Checks the magic bytes before decoding."""
    if not data:
        raise InvalidFrame(f"expected {fmt.name} bytes, got an empty buffer")
    magic = _MAGIC[fmt]
    if not data.startswith(magic):
        raise InvalidFrame(
            f"expected {fmt.name} data starting with {magic!r}, got {data[:8]!r} ({len(data)} bytes)"
        )
    # Read the size from the header before decoding, so a huge image is refused cheaply.
    width, height = _header_size(fmt, data)
    if width and height:
        check_dimensions(width, height, max_width, max_height)
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        raise InvalidFrame(f"could not decode {fmt.name}: corrupt or truncated ({len(data)} bytes)")
    check_dimensions(img.shape[1], img.shape[0], max_width, max_height)
    return Frame.from_bgr(img, seq, timestamp_us)  # type: ignore[arg-type]


def encode_image(frame: Frame, fmt: PixelFormat, jpeg_quality: int = 90) -> bytes:
    ext = ".jpg" if fmt == PixelFormat.JPEG else ".png"
    params = [cv2.IMWRITE_JPEG_QUALITY, jpeg_quality] if fmt == PixelFormat.JPEG else []
    ok, buf = cv2.imencode(ext, frame.to_bgr(), params)
    if not ok:
        raise InvalidFrame(f"could not encode {fmt.name}")
    return bytes(buf.tobytes())


def _header_size(fmt: PixelFormat, data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG IHDR or a JPEG SOFn marker; (0, 0) if not found."""
    if fmt == PixelFormat.PNG:
        if len(data) >= 24 and data[12:16] == b"IHDR":
            return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        return 0, 0
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            i += 1
            continue
        marker = data[i + 1]
        if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
            return int.from_bytes(data[i + 7 : i + 9], "big"), int.from_bytes(
                data[i + 5 : i + 7], "big"
            )
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7 or marker == 0xFF:
            i += 2 if marker != 0xFF else 1
            continue
        i += 2 + int.from_bytes(data[i + 2 : i + 4], "big")
    return 0, 0


def decode_any(
    fmt: PixelFormat,
    width: int,
    height: int,
    data: bytes,
    max_width: int,
    max_height: int,
    seq: int = 0,
    timestamp_us: int = 0,
) -> Frame:
    """Raw or encoded picture → Frame, checking limits. H.264 is not a picture format."""
    if fmt in RAW_FORMATS:
        check_dimensions(width, height, max_width, max_height)
        return decode_raw(fmt, width, height, data, seq, timestamp_us)
    if fmt in IMAGE_FORMATS:
        return decode_image(fmt, data, max_width, max_height, seq, timestamp_us)
    raise InvalidFrame(f"expected a picture format (BGR24, I420, NV12, JPEG, PNG), got {fmt.name}")


def encode_like(frame: Frame, fmt: PixelFormat) -> bytes:
    """Encodes `frame` in the format it arrived in."""
    if fmt in RAW_FORMATS:
        if fmt == PixelFormat.BGR24 and frame.layout != "bgr":
            return frame.to_bgr().tobytes()
        return encode_raw(frame)
    return encode_image(frame, fmt)
