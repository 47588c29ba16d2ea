"""Cutting a recording into segments at keyframes, decoding one segment, joining encoded ones.

Cutting reads packets only (no decoding): every packet's pts and keyframe flag.
A segment is the frames from one keyframe up to the next cut, at least
`segment_s` long where the recording's keyframes allow; the first segment may
start mid-way through a group of pictures (a time-range export), and is then
decoded from the keyframe before it. Each segment lists its frames' pts, so a
worker that decodes it can check it got exactly those frames: a recording that
changed, or a decoder that dropped a frame, fails the export instead of
shifting masks onto the wrong frames.

Joining copies the encoded segments' packets into one MP4 without re-encoding.
Every segment was encoded by its own libx264 with the same settings, so it
starts with an IDR frame and carries the same SPS/PPS (checked: a difference
fails the join). Presentation times are the source's; decoding times are
recomputed over the whole export, since each segment's encoder starts its own
(with B-frames, before its first pts) and they could otherwise collide at a seam.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt

from redactor.errors import FailedPrecondition, InvalidInput
from redactor.export.video import SourceFrame

_US = 1_000_000


@dataclass(frozen=True, slots=True)
class Segment:
    """Frames [first, first + len(pts)) of an export, decoded from the keyframe at `seek_pts`."""

    index: int
    first: int  # the export's index of the segment's first frame
    seek_pts: int  # the keyframe decoding starts at (<= pts[0])
    pts: tuple[int, ...]  # each frame's pts in the source's time base, increasing
    t_us: tuple[int, ...]  # each frame's time from the recording's first frame
    # a keyframe at least the cut's `preroll_s` before pts[0] (or the recording's first):
    # decode(preroll=...) starts there so a stateful step (a background model) has learned
    preroll_pts: int | None = None


def cut(
    path: Path,
    segment_s: float,
    start_us: int | None = None,
    end_us: int | None = None,
    preroll_s: float = 0.0,
) -> list[Segment]:
    """The frames with start_us <= t < end_us, in segments cut at keyframes (demuxing only).

    t is measured from the recording's first frame, as redactor.export.video.read_frames does.
    Each segment's `preroll_pts` is the latest keyframe at least `preroll_s` before it.
    """
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        if stream.time_base is None:
            raise InvalidInput(f"{path.name}: the video stream has no time base")
        tb = Fraction(stream.time_base)
        pts: list[int] = []
        keys: set[int] = set()
        for packet in c.demux(stream):
            if packet.size == 0:
                continue  # the demuxer's end-of-stream marker
            if packet.pts is None:
                raise InvalidInput(
                    f"{path.name}: a packet after pts {pts[-1] if pts else None} has no "
                    "timestamp; an export keeps the source's timing exactly and does not guess"
                )
            if packet.is_keyframe:
                keys.add(int(packet.pts))
            # An edit list may drop a recording's first frames: the decoder never shows
            # them, but they may hold the keyframe the first shown frame is decoded from.
            if not packet.is_discard:
                pts.append(int(packet.pts))
    order = np.sort(np.asarray(pts, np.int64))
    if len(order) > 1 and np.any(np.diff(order) <= 0):
        i = int(np.flatnonzero(np.diff(order) <= 0)[0])
        raise InvalidInput(f"{path.name}: two frames have pts {order[i]}")
    if len(order) == 0 or not keys or min(keys) > int(order[0]):
        raise InvalidInput(f"{path.name}: the recording does not start with a keyframe")
    t_us = (order - order[0]) * tb.numerator * _US // tb.denominator
    take = np.ones(len(order), bool)
    if start_us is not None:
        take &= t_us >= start_us
    if end_us is not None:
        take &= t_us < end_us
    chosen = np.flatnonzero(take)
    if len(chosen) == 0:
        raise FailedPrecondition(f"no frames of {path.name} fall in the requested range")
    key_pts = np.asarray(sorted(keys), np.int64)
    first_key = int(key_pts[np.searchsorted(key_pts, order[chosen[0]], side="right") - 1])
    min_us = round(segment_s * _US)
    starts = [0]  # positions in `chosen` where a segment starts
    for j in range(1, len(chosen)):
        p = int(order[chosen[j]])
        if p in keys and t_us[chosen[j]] - t_us[chosen[starts[-1]]] >= min_us:
            starts.append(j)
    key_t_us = (key_pts - order[0]) * tb.numerator * _US // tb.denominator
    segments = []
    for n, (a, b) in enumerate(zip(starts, [*starts[1:], len(chosen)], strict=True)):
        rows = chosen[a:b]
        before = key_t_us <= t_us[rows[0]] - round(preroll_s * _US)
        preroll = int(key_pts[np.flatnonzero(before)[-1]]) if before.any() else int(key_pts[0])
        segments.append(
            Segment(
                index=n,
                first=a,
                seek_pts=first_key if n == 0 else int(order[rows[0]]),
                pts=tuple(int(p) for p in order[rows]),
                t_us=tuple(int(t) for t in t_us[rows]),
                preroll_pts=preroll,
            )
        )
    return segments


def decode(
    path: Path,
    segment: Segment,
    preroll: Callable[[npt.NDArray[np.uint8]], None] | None = None,
    threads: int | None = None,
) -> Iterator[SourceFrame]:
    """The segment's frames, decoded from its keyframe; fails unless they are exactly its pts.

    With `preroll`, decoding starts at the segment's `preroll_pts` instead and every
    frame before the segment goes to `preroll` (BGR) first. `threads` caps the
    decoder's threads (None = FFmpeg's choice, one per core).
    """
    start = segment.seek_pts
    if preroll is not None and segment.preroll_pts is not None:
        start = min(start, segment.preroll_pts)
    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        stream.thread_type = "AUTO"
        if threads is not None:
            stream.codec_context.thread_count = threads
        want = iter(enumerate(zip(segment.pts, segment.t_us, strict=True)))
        nxt = next(want, None)
        for packet in _packets_from(c, stream, start, path):
            for frame in stream.decode(packet):
                if nxt is None:
                    return
                if frame.pts is None or frame.pts < segment.pts[0]:
                    # before the segment: decoded only to reach its first frame
                    if preroll is not None and frame.pts is not None:
                        preroll(np.asarray(frame.to_ndarray(format="bgr24"), np.uint8))
                    continue
                i, (p, t) = nxt
                if frame.pts != p:
                    raise FailedPrecondition(
                        f"the recording changed while exporting: segment {segment.index} "
                        f"decoded pts {frame.pts} where pts {p} was expected"
                    )
                bgr = np.asarray(frame.to_ndarray(format="bgr24"), np.uint8)
                yield SourceFrame(segment.first + i, p, t, bgr)
                nxt = next(want, None)
        if nxt is not None:
            raise FailedPrecondition(
                f"the recording changed while exporting: segment {segment.index} ended "
                f"before pts {nxt[1][0]}"
            )


def _packets_from(
    c: av.container.InputContainer, stream: av.VideoStream, key_pts: int, path: Path
) -> Iterator[av.Packet[av.VideoStream]]:
    """The packets from the keyframe with pts `key_pts` on (the last one empty: the flush)."""
    for seek_to_key in (True, False):
        if seek_to_key:
            c.seek(key_pts, stream=stream, backward=True, any_frame=False)
        else:  # the seek went past the keyframe: read from the file's start instead
            c.seek(0, backward=True, any_frame=False)
        started = False
        for packet in c.demux(stream):
            if not started:
                if packet.pts == key_pts and packet.is_keyframe:
                    started = True
                elif seek_to_key and packet.dts is not None and packet.dts > key_pts:
                    break
                else:
                    continue
            yield packet
        if started:
            return
    raise FailedPrecondition(f"{path.name}: no keyframe at pts {key_pts}")


def join(parts: Sequence[Path], out: Path, time_base: Fraction) -> int:
    """Copies the encoded segments' packets, in order, into one MP4; returns the frame count.

    Presentation times are kept (in `time_base`, the source's); decoding times
    are the export's presentation times shifted by its largest reorder delay.
    """
    if not parts:
        raise FailedPrecondition("no segments to join")
    packets_pts: list[int] = []
    extradata: bytes | None = None
    for part in parts:
        with av.open(str(part)) as c:
            s = c.streams.video[0]
            data = bytes(s.codec_context.extradata or b"")
            if extradata is None:
                extradata = data
            elif data != extradata:
                raise FailedPrecondition(
                    f"segment {part.name} was encoded with other parameter sets (SPS/PPS) "
                    "than the first: the segments cannot be joined"
                )
            packets_pts.extend(_source_pts(p, time_base, part) for p in c.demux(s) if p.size)
    presented = np.sort(np.asarray(packets_pts, np.int64))
    if len(presented) > 1 and np.any(np.diff(presented) <= 0):
        raise FailedPrecondition("two encoded frames have the same pts")
    rank = np.searchsorted(presented, np.asarray(packets_pts, np.int64))
    delay = max(0, int((np.arange(len(rank)) - rank).max()))
    step = int(presented[1] - presented[0]) if len(presented) > 1 else 1
    dts = np.concatenate(
        [presented[0] - step * np.arange(delay, 0, -1), presented[: len(presented) - delay]]
    )
    with av.open(str(parts[0])) as first, av.open(str(out), "w", format="mp4") as dst:
        o = dst.add_stream_from_template(first.streams.video[0])
        o.time_base = time_base
        g = 0
        for part in parts:
            with av.open(str(part)) as c:
                s = c.streams.video[0]
                for packet in c.demux(s):
                    if not packet.size:
                        continue
                    pts = _source_pts(packet, time_base, part)
                    if packet.duration and packet.time_base is not None:
                        packet.duration = round(
                            packet.duration * Fraction(packet.time_base) / time_base
                        )
                    packet.pts, packet.dts = pts, int(dts[g])
                    packet.time_base = time_base
                    packet.stream = o
                    dst.mux(packet)
                    g += 1
    return g


def _source_pts(packet: av.Packet[av.VideoStream], time_base: Fraction, part: Path) -> int:
    """A segment packet's pts in the source's time base; it must land on a whole tick."""
    if packet.pts is None or packet.time_base is None:
        raise FailedPrecondition(f"segment {part.name} has a packet without a timestamp")
    exact = packet.pts * Fraction(packet.time_base) / time_base
    if exact.denominator != 1:
        raise FailedPrecondition(
            f"segment {part.name}: pts {packet.pts} in {packet.time_base} is no whole tick "
            f"of the source's time base {time_base}"
        )
    return int(exact)
