"""`redactor-relay SOURCE`: plays a video like a camera into redactor, in-line.

SOURCE is anything PyAV opens (a file, an RTSP URL). Frames are re-encoded as
low-latency H.264 (no B-frames, so one access unit in gives one out), sent at
the source's own frame rate, and the redacted stream is written as raw Annex-B
H.264 (playable with ffplay/VLC). Prints achieved fps and p50/p95/p99 latency
(send to receive, measured here).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import grpc
import numpy as np

from redactor.clients.client import OutFrame, RedactorClient
from redactor.clients.connect import (
    UsageError,
    add_connection_args,
    client_from_args,
    rpc_error_line,
)
from redactor.v1 import redactor_pb2 as pb


@dataclass
class RelayResult:
    frames_in: int = 0
    frames_out: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    # why frames were not simply redacted: status_reason -> frames, digits folded to N so
    # one reason with different figures counts once
    reasons: dict[str, int] = field(default_factory=dict)
    latencies_ms: list[float] = field(default_factory=list)
    latency_seqs: list[int] = field(default_factory=list)  # the frame of each latency
    seconds: float = 0.0  # the whole call: stream set-up and the last frame's latency included
    active_s: float = 0.0  # from the first frame sent to the last one answered
    masks: dict[int, list[tuple[float, float, float, float]]] = field(default_factory=dict)
    mask_reasons: dict[int, list[int]] = field(
        default_factory=dict
    )  # MaskReason of each of masks[seq]
    first_redacted: int | None = None  # seq of the first frame masked from detections
    output_seqs: list[int] = field(default_factory=list)  # the frame of each written to `output`
    # frames fully masked or dropped after that one; those before it are the stream's
    # start-up (no detection yet), these are the service falling behind
    lost_after_start: int = 0
    # several servers: the server of each stream opened (StreamAccepted.server), why streams
    # broke or were refused, frames sent and never answered (in flight on a server that went
    # away: lost, never passed on), the gap in output at each move, and drain notices
    servers: list[str] = field(default_factory=list)
    streams: int = 0
    breaks: list[str] = field(default_factory=list)
    lost: int = 0
    gaps_s: list[float] = field(default_factory=list)
    drained: int = 0

    @property
    def fps(self) -> float:
        """Frames answered per second, from the first frame sent to the last answered.
        (Over the whole call, the stream's set-up counted as if it were throughput: a
        service keeping up with a 25 fps camera for 500 frames read 24.9. From the first
        answer on, a start that holds frames back and then catches up read 25.2.)"""
        if self.active_s > 0:
            return self.frames_out / self.active_s
        return self.frames_out / self.seconds if self.seconds else 0.0

    def percentile(self, q: float, first: int = 0) -> float:
        """Latency percentile over the frames from seq `first` on."""
        lat = [
            ms for ms, seq in zip(self.latencies_ms, self.latency_seqs, strict=True) if seq >= first
        ]
        return float(np.percentile(lat, q)) if lat else 0.0

    def summary(self) -> str:
        st = ", ".join(f"{k.lower()} {v}" for k, v in sorted(self.statuses.items()))
        return (
            f"{self.frames_out}/{self.frames_in} frames in {self.seconds:.1f} s: {self.fps:.1f} fps; "
            f"latency p50 {self.percentile(50):.0f} ms, p95 {self.percentile(95):.0f} ms, "
            f"p99 {self.percentile(99):.0f} ms; {st}"
            + (
                f"; {self.streams} streams ({self.drained} drained, "
                f"{len(self.breaks)} broke or refused): {self.lost} frames lost, "
                f"longest gap {max(self.gaps_s, default=0) * 1000:.0f} ms"
                if self.streams > 1 or self.breaks
                else ""
            )
            + (
                f" ({self.lost_after_start} after the first redacted frame)"
                if self.lost_after_start
                else ""
            )
            + (
                "; why: " + ", ".join(f"{k} ({v})" for k, v in sorted(self.reasons.items()))
                if self.reasons
                else ""
            )
        )


@dataclass
class Camera:
    """A source opened as a camera: its rate, the size of the frames it sends, and its
    access units (seq, timestamp_us, access unit), encoded as they are taken."""

    fps: float
    width: int
    height: int
    units: Iterator[tuple[int, int, bytes]]


def camera_access_units(
    source: str,
    size: tuple[int, int] | None = None,
    max_frames: int = 0,
    rate: float | None = None,
    keyframe: threading.Event | None = None,
) -> tuple[float, Iterator[tuple[int, int, bytes]]]:
    """(fps, iterator of (seq, timestamp_us, access unit)) like a camera would send
    (open_camera, without the size)."""
    camera = open_camera(source, size, max_frames, rate, keyframe)
    return camera.fps, camera.units


def open_camera(
    source: str,
    size: tuple[int, int] | None = None,
    max_frames: int = 0,
    rate: float | None = None,
    keyframe: threading.Event | None = None,
) -> Camera:
    """`source` played like a camera: its frames re-encoded as low-latency H.264.

    `rate` plays the source's frames as a camera of that frame rate would send
    them (timestamps i/rate): the sample clips are 10-12 fps, the center's
    cameras 25-30. When `keyframe` is set, the next frame is encoded as an IDR
    (and the event cleared): a stream reopened on another server starts with one."""
    if rate is not None and not rate > 0:
        raise ValueError(f"rate must be a frame rate > 0, got {rate}")
    container = av.open(source)
    stream = container.streams.video[0]
    fps = rate or float(stream.average_rate or stream.guessed_rate or 25)
    width, height = size or (int(stream.codec_context.width), int(stream.codec_context.height))

    def gen() -> Iterator[tuple[int, int, bytes]]:
        enc = None
        tb = stream.time_base or Fraction(1, int(fps))
        try:
            for i, vf in enumerate(container.decode(stream)):
                if max_frames and i >= max_frames:
                    break
                if size:
                    vf = vf.reformat(width=size[0], height=size[1], format="yuv420p")
                elif vf.format.name != "yuv420p":
                    vf = vf.reformat(format="yuv420p")
                if enc is None:
                    enc = av.CodecContext.create("libx264", "w")
                    enc.width, enc.height, enc.pix_fmt = vf.width, vf.height, "yuv420p"
                    enc.time_base = Fraction(1, 1_000_000)
                    enc.framerate = Fraction(fps).limit_denominator(1001)
                    enc.options = {
                        "preset": "veryfast",
                        "tune": "zerolatency",
                        "bframes": "0",
                        "repeat-headers": "1",
                        "forced-idr": "1",  # a forced keyframe is an IDR: a decoder can start there
                    }
                    enc.open()
                if rate is None and vf.pts is not None:
                    ts = int(round(Fraction(vf.pts) * tb * 1_000_000))
                else:
                    ts = int(i * 1e6 / fps)
                vf.pts, vf.time_base = ts, Fraction(1, 1_000_000)
                if keyframe is not None and keyframe.is_set():
                    keyframe.clear()
                    vf.pict_type = av.video.frame.PictureType.I
                au = b"".join(bytes(p) for p in enc.encode(vf))
                yield i, ts, au
        finally:
            container.close()

    return Camera(fps, width, height, gen())


# A stream that ends with one of these is reopened on another server; any other ends the relay.
MOVE_CODES = frozenset(
    {
        grpc.StatusCode.UNAVAILABLE,  # the server died, stopped or drains
        grpc.StatusCode.RESOURCE_EXHAUSTED,  # full: refused at the header
        grpc.StatusCode.CANCELLED,  # the server went away mid-call
    }
)
RETRY_FOR_S = 5.0  # opens refused or failed in a row, before any frame came back, for this long
RETRY_S = 0.05  # pause between two refused opens (the next goes to the next server)


class _Feed:
    """The camera's frames, shared by the streams that carry them one after another.

    Only the current stream takes frames: a stream that ended (its server died, drained)
    gets no more, even from a gRPC thread still pulling, so a frame is sent once at most
    and the reopened stream's first frame is the IDR `reopen` asked for."""

    def __init__(
        self,
        aus: Iterator[tuple[int, int, bytes]],
        fps: float,
        realtime: bool,
        keyframe: threading.Event,
        result: RelayResult,
        sent_at: dict[int, float],
        lock: threading.Lock,
    ) -> None:
        self._aus = aus
        self._fps = fps
        self._realtime = realtime
        self._keyframe = keyframe
        self._result = result
        self._sent_at = sent_at
        self._lock = lock  # guards result and sent_at, shared with the receiving side
        self._turn = threading.Lock()  # one stream pulls at a time
        self._stream = 0
        self._moving = False
        self.done = False
        self._t0: float | None = None

    def reopen(self) -> int:
        """A new stream takes over from the next frame, which is encoded as an IDR."""
        with self._turn:
            self._stream += 1
            self._moving = False
            if self._stream > 1:
                self._keyframe.set()
            return self._stream

    def move(self) -> None:
        """The current stream sends nothing more (its server drains): it half-closes."""
        self._moving = True

    def frames(self, stream: int, accepted: threading.Event) -> Iterator[OutFrame]:
        """The frames of stream number `stream`, from when the server `accepted` its header
        (a stream refused at the header takes none, so none is lost to it)."""
        while not accepted.wait(0.05):
            if stream != self._stream or self.done:
                return
        while True:
            with self._turn:
                if stream != self._stream or self._moving or self.done:
                    return
                item = next(self._aus, None)
                if item is None:
                    self.done = True
                    return
                seq, ts, au = item
                if self._t0 is None:
                    self._t0 = time.perf_counter()
                if self._realtime:
                    delay = self._t0 + seq / self._fps - time.perf_counter()
                    if delay > 0:
                        time.sleep(delay)
                with self._lock:
                    self._sent_at[seq] = time.perf_counter()
                    self._result.frames_in += 1
            yield OutFrame(seq, ts, au)


def relay(
    client: RedactorClient,
    source: str,
    *,
    recipient: str = "police-112",
    service: str = "",
    camera: str = "relay",
    size: tuple[int, int] | None = None,
    realtime: bool = True,
    max_frames: int = 0,
    output: Path | None = None,
    keep_masks: bool = False,
    preencode: bool = False,
    rate: float | None = None,
    budget_ms: int = 0,
    result: RelayResult | None = None,
) -> RelayResult:
    """Streams `source` through the service like a camera (of frame rate `rate`, if
    given), asking for at most `budget_ms` per frame inside the service (0: the
    server's default). `preencode` encodes every access unit before sending (a
    benchmark: the camera's encoder then does not share this machine's cores with
    the service).

    Over several servers (`client` made with several addresses or a DNS name) a stream
    refused at its header (full, draining) opens on another one, and a stream that breaks
    (its server died or drains) is reopened on another, starting at an IDR. Frames that
    were in flight on a dead server are lost, never passed through: only what a server
    answered is written. The result counts the streams, the frames lost and each gap."""
    keyframe = threading.Event()
    source_cam = open_camera(source, size, max_frames, rate, keyframe)
    fps, aus = source_cam.fps, source_cam.units
    if preencode:
        aus = iter(list(aus))
    result = result or RelayResult()  # a caller's own, to watch it fill (tests, benchmarks)
    sent_at: dict[int, float] = {}
    lock = threading.Lock()
    feed = _Feed(aus, fps, realtime, keyframe, result, sent_at, lock)
    header = pb.StreamHeader(
        camera_id=camera,
        recipient=recipient,
        service=service,
        format=pb.PIXEL_FORMAT_H264,
        width=source_cam.width,  # servers admit streams by pixel rate
        height=source_cam.height,
        fps=fps,
        latency_budget_ms=budget_ms,
    )
    out = output.open("wb") if output else None
    t_start = time.perf_counter()
    t_first_sent: float | None = None
    last_out: float | None = None  # when the last frame came back, for the gaps
    broken_at: float | None = None
    failing_since: float | None = None  # the first of the opens failing in a row
    try:
        while not feed.done:
            stream = feed.reopen()
            accepted = threading.Event()
            answered = 0
            try:
                for resp in client.stream_events(header, feed.frames(stream, accepted)):
                    kind = resp.WhichOneof("kind")
                    if kind == "accepted":
                        result.servers.append(resp.accepted.server or "?")
                        accepted.set()
                        continue
                    if kind == "draining":
                        result.drained += 1
                        feed.move()  # half-close: the server answers what it has, then ends
                        continue
                    if kind != "frame":
                        continue
                    f = resp.frame
                    now = time.perf_counter()
                    if broken_at is not None:
                        result.gaps_s.append(now - (last_out or broken_at))
                        broken_at = None
                    answered += 1
                    last_out = now
                    with lock:
                        if t_first_sent is None:
                            t_first_sent = min(sent_at.values(), default=now)
                        sent = sent_at.pop(f.seq, now)
                    result.active_s = now - t_first_sent
                    result.latencies_ms.append((now - sent) * 1000)
                    result.latency_seqs.append(f.seq)
                    result.frames_out += 1
                    name = pb.FrameStatus.Name(f.status).removeprefix("FRAME_STATUS_")
                    result.statuses[name] = result.statuses.get(name, 0) + 1
                    if f.status_reason:
                        why = re.sub(r"\d+", "N", f.status_reason)
                        result.reasons[why] = result.reasons.get(why, 0) + 1
                    if f.status == pb.FRAME_STATUS_REDACTED:
                        if result.first_redacted is None:
                            result.first_redacted = f.seq
                    elif result.first_redacted is not None:
                        result.lost_after_start += 1
                    if keep_masks:
                        result.masks[f.seq] = [
                            (m.box.x0, m.box.y0, m.box.x1, m.box.y1) for m in f.masks
                        ]
                        result.mask_reasons[f.seq] = [int(m.reason) for m in f.masks]
                    if out and f.data:
                        out.write(f.data)
                        result.output_seqs.append(f.seq)
            except grpc.RpcError as e:
                if e.code() not in MOVE_CODES:
                    raise
                now = time.perf_counter()
                if answered or failing_since is None:
                    failing_since = now
                if now - failing_since > RETRY_FOR_S:
                    raise  # no server took the stream for RETRY_FOR_S: say so
                result.breaks.append(f"{e.code().name}: {e.details()}")
                broken_at = broken_at or time.perf_counter()
                time.sleep(RETRY_S if not answered else 0.0)
            else:
                failing_since = None
            with lock:  # what the ended stream never answered is lost, never passed on
                result.lost += len(sent_at)
                sent_at.clear()
            if not feed.done and broken_at is None:
                broken_at = (
                    time.perf_counter()
                )  # drained: the gap runs until the new stream answers
    finally:
        if out:
            out.close()
    result.streams = len(result.servers)
    result.seconds = time.perf_counter() - t_start
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="redactor-relay", description=__doc__.split("\n\n")[0])
    parser.add_argument("source", help="video file or URL PyAV can open (e.g. rtsp://...)")
    parser.add_argument(
        "-o", "--output", type=Path, help="write the redacted stream as raw H.264 here"
    )
    parser.add_argument(
        "--recipient", default="police-112", help="receiving agency; chooses the policy"
    )
    parser.add_argument("--service", default="", help="service within the agency")
    parser.add_argument("--camera", default="relay", help="camera id (static zones are per camera)")
    parser.add_argument("--size", help="scale to WxH first, e.g. 1920x1080")
    parser.add_argument(
        "--frames", type=int, default=0, help="stop after this many frames (0 = all)"
    )
    parser.add_argument(
        "--fps",
        type=float,
        help="play the frames as a camera of this frame rate would send "
        "them (default: the source's own rate)",
    )
    parser.add_argument(
        "--budget-ms",
        type=int,
        default=0,
        help="latency budget per frame inside the service, ms (default: the server's)",
    )
    parser.add_argument(
        "--fast", action="store_true", help="send as fast as possible, not at the source rate"
    )
    add_connection_args(parser)
    args = parser.parse_args(argv)
    size = tuple(int(v) for v in args.size.lower().split("x")) if args.size else None
    if args.fps is not None and not 0 < args.fps <= 240:
        print(
            f"redactor-relay: --fps must be a frame rate in (0, 240], got {args.fps:g}",
            file=sys.stderr,
        )
        return 2
    if args.budget_ms < 0:
        print(f"redactor-relay: --budget-ms must be >= 0, got {args.budget_ms}", file=sys.stderr)
        return 2
    if not (
        args.source.startswith(("rtsp://", "rtmp://", "http://", "https://"))
        or os.path.exists(args.source)
    ):
        print(f"redactor-relay: no such file: {args.source}", file=sys.stderr)
        return 2
    try:
        client = client_from_args(args)
    except UsageError as e:
        print(f"redactor-relay: {e}", file=sys.stderr)
        return 2
    with client:
        try:
            result = relay(
                client,
                args.source,
                recipient=args.recipient,
                service=args.service,
                camera=args.camera,
                size=size,  # type: ignore[arg-type]
                realtime=not args.fast,
                max_frames=args.frames,
                output=args.output,
                rate=args.fps,
                budget_ms=args.budget_ms,
            )
        except grpc.RpcError as e:
            print(f"redactor-relay: {rpc_error_line(e)}", file=sys.stderr)
            return 1
    print(result.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
