"""Live streams against a real server: H.264 in and out, masks held by the
tracker through detector misses, overload that never leaks, static zones,
plates per policy."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import av
import numpy as np
import pytest

from redactor.clients.client import OutFrame, RedactorClient
from redactor.clients.video import read_i420
from redactor.config import (
    Config,
    Limits,
    LiveConfig,
    MotionConfig,
    PolicyRouting,
    SweepConfig,
    ZoneConfig,
)
from redactor.server.app import RunningServer, create_server
from redactor.types import Detections, Frame, Label
from redactor.v1 import redactor_pb2 as pb
from redactor.video.h264 import H264Encoder

W, H = 320, 240
SQUARE = 40


def square_frame(i: int) -> np.ndarray:
    """A grey frame with one bright square moving right by 4 px a frame."""
    img = np.full((H, W, 3), 60, np.uint8)
    x = 20 + 4 * i
    img[100 : 100 + SQUARE, x : x + SQUARE] = 250
    return img


def square_box(img: np.ndarray) -> list[float]:
    ys, xs = np.nonzero(img[..., 1] > 200)
    return [float(xs.min()), float(ys.min()), float(xs.max() + 1), float(ys.max() + 1)]


class SquareDetector:
    """A real (if simple) detector of the bright square, made to miss on purpose.

    With `every`, it finds the square only on frames whose index (read off the
    square's position) is a multiple of `every`, so misses do not depend on how
    fast the machine is; `delay_s` makes it slower than the frame interval."""

    name = "square"
    model_sha256 = ""

    def __init__(self, label: Label = Label.FACE, every: int = 1, delay_s: float = 0.0) -> None:
        self.label, self.every, self.delay_s = label, every, delay_s
        self.calls = 0
        self.started: list[int] = []  # the frame index of each detection, as it starts
        self.lock = threading.Lock()

    def detect(self, bgr: np.ndarray) -> Detections:
        found = (bgr[..., 1] > 200).any()
        box = square_box(bgr) if found else []
        index = (
            round((box[0] - 20) / 4) if found else -1
        )  # square_frame(i) puts the square at x = 20 + 4 i
        with self.lock:
            self.calls += 1
            self.started.append(index)
        if self.delay_s:
            time.sleep(self.delay_s)
        if not found:
            return Detections.empty()
        if index % self.every:
            return Detections.empty()
        return Detections.create([box], [0.9], self.label)

    def close(self) -> None:
        pass


def fill_config(
    limits: Limits | None = None, on_overload: str = "mask", zones: tuple[ZoneConfig, ...] = ()
) -> Config:
    """The default policies with style `fill`, so a leak check is exact (pixelating
    a flat square keeps its colour; kernel strength is the kernel tests' business)."""
    policies = {
        name: p.model_copy(update={"style": "fill", "on_overload": on_overload})
        for name, p in PolicyRouting().policies.items()
    }
    # Motion and sweeps off: these tests are about the detector and the tracker, and
    # SquareDetector misses by counting calls, which region crops and sweeps would
    # add to (they have tests of their own: tests/pipeline/, test_live_motion.py).
    return Config(
        policy=PolicyRouting(policies=policies, zones=zones),
        limits=limits or Limits(),
        live=LiveConfig(motion=MotionConfig(enabled=False), sweep=SweepConfig(enabled=False)),
    )


def _serve(cfg: Config, detector: SquareDetector) -> RunningServer:
    return create_server(cfg, "127.0.0.1:0", detector_factory=lambda name, pc: detector)


def _bgr_frames(n: int, step_us: int = 40_000) -> list[OutFrame]:
    return [OutFrame(i, i * step_us, square_frame(i).tobytes()) for i in range(n)]


def _covered(o: pb.RedactedFrame, box: list[float]) -> bool:
    return any(
        m.box.x0 <= box[0] and m.box.y0 <= box[1] and m.box.x1 >= box[2] and m.box.y1 >= box[3]
        for m in o.masks
    )


def _paced(frames: list[OutFrame], fps: float) -> Iterator[OutFrame]:
    t0 = time.perf_counter()
    for i, f in enumerate(frames):
        delay = t0 + i / fps - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        yield f


def test_tracked_mask_stays_through_misses() -> None:
    # Every frame is detected (interval 0, room for all), and the detector misses 3
    # frames in 4: the frames in between are masked by the tracker alone. The
    # budget is generous so a busy machine delays frames instead of masking them.
    det = SquareDetector(every=4)
    cfg = fill_config(
        Limits(detect_interval_ms=0, stream_queue_frames=64, latency_budget_ms=60_000)
    )
    running = _serve(cfg, det)
    try:
        frames = _bgr_frames(40)
        header = pb.StreamHeader(
            camera_id="c",
            recipient="police-112",
            format=pb.PIXEL_FORMAT_BGR24,
            width=W,
            height=H,
            fps=25,
            latency_budget_ms=60_000,
        )
        with RedactorClient(running.address) as client:
            outs = list(client.stream(header, _paced(frames, 25)))
    finally:
        running.stop(0)
    assert [o.seq for o in outs] == list(range(40))
    reasons = set()
    for i, o in enumerate(outs):
        assert o.status == pb.FRAME_STATUS_REDACTED, o.status_reason
        box = square_box(square_frame(i))
        assert _covered(o, box), f"frame {i}: square {box} not covered by {o.masks}"
        img = np.frombuffer(o.data, np.uint8).reshape(H, W, 3)
        assert not (img[..., 1] > 200).any(), f"frame {i}: bright pixels of the object left"
        reasons |= {m.reason for m in o.masks}
    assert pb.MASK_REASON_TRACKED in reasons, "no frame was masked by the tracker alone"
    assert det.calls == 40


def _stream_squares(cfg: Config, det: SquareDetector, n: int) -> list[pb.RedactedFrame]:
    """n moving-square frames streamed at 25 fps through a real server; all come back, in order."""
    running = _serve(cfg, det)
    try:
        header = pb.StreamHeader(
            recipient="police-112", format=pb.PIXEL_FORMAT_BGR24, width=W, height=H
        )
        with RedactorClient(running.address) as client:
            outs = list(client.stream(header, _paced(_bgr_frames(n), 25)))
    finally:
        running.stop(0)
    assert [o.seq for o in outs] == list(range(n))
    return outs


def _assert_square_hidden(i: int, o: pb.RedactedFrame) -> None:
    """No bright pixel of the square left; a fully masked frame is one flat value."""
    img = np.frombuffer(o.data, np.uint8).reshape(H, W, 3)
    assert not (img[..., 1] > 200).any(), (
        f"frame {i} ({pb.FrameStatus.Name(o.status)}) leaked the object"
    )
    if o.status == pb.FRAME_STATUS_FULLY_MASKED:
        assert len(np.unique(img)) == 1


@pytest.mark.parametrize("rule", ["mask", "drop"])
def test_overload_never_passes_unmasked(rule: str) -> None:
    cfg = fill_config(Limits(latency_budget_ms=50, detect_interval_ms=0), on_overload=rule)
    outs = _stream_squares(
        cfg, SquareDetector(every=1, delay_s=0.3), 20
    )  # far slower than the budget
    statuses = {o.status for o in outs}
    expected_overload = pb.FRAME_STATUS_FULLY_MASKED if rule == "mask" else pb.FRAME_STATUS_DROPPED
    assert expected_overload in statuses
    for i, o in enumerate(outs):
        if o.status == pb.FRAME_STATUS_DROPPED:
            assert not o.data and "overload" in o.status_reason
            continue
        _assert_square_hidden(i, o)


def test_a_slow_detector_looks_at_new_frames_not_a_backlog() -> None:
    """A detection is due every 2 frames and takes 12 frame intervals: due detections that
    have not started give way to the newest, so each detection that runs looks at a frame
    from about when it starts (a queue of them would look ever further back: 0, 2, 4...)."""
    limits = Limits(
        latency_budget_ms=400,
        detection_wait_share=0.25,
        detect_interval_ms=80,
        stream_queue_frames=64,
    )
    det = SquareDetector(every=1, delay_s=0.48)
    outs = _stream_squares(fill_config(limits), det, 50)
    # (No leak check here: with motion masks off, tracks predicted half a second ahead
    # do not keep up with this square, backlog or not; test_slow_detection_... checks
    # coverage where detections take less than the frame's wait.)
    ran = det.started[1:]  # the second was queued before the first showed how slow detection is
    assert len(ran) >= 3, det.started
    assert all(b - a >= 6 for a, b in zip(ran, ran[1:], strict=False)), (
        f"detections looked back: {det.started}"
    )
    assert sum(o.status == pb.FRAME_STATUS_REDACTED for o in outs) >= 25


def test_slow_detection_frames_go_out_predicted_and_covered() -> None:
    # Each detection takes longer than the share of the budget a frame may wait for
    # it (detection_wait_share x 400 ms = 100 ms), yet far less than the budget: frames
    # go out on time, masked from the tracks (TRACKED), and the late detections move
    # the tracks. The first frames have no detection to predict from: fully masked.
    limits = Limits(latency_budget_ms=400, detection_wait_share=0.25, detect_interval_ms=10_000)
    det = SquareDetector(every=1, delay_s=0.16)
    outs = _stream_squares(fill_config(limits), det, 40)
    predicted = 0
    for i, o in enumerate(outs):
        _assert_square_hidden(i, o)
        if o.status == pb.FRAME_STATUS_FULLY_MASKED:
            continue
        assert o.status == pb.FRAME_STATUS_REDACTED, o.status_reason
        assert _covered(o, square_box(square_frame(i))), f"frame {i}: not covered by {o.masks}"
        if o.masks and all(m.reason == pb.MASK_REASON_TRACKED for m in o.masks):
            predicted += 1
    assert outs[0].status == pb.FRAME_STATUS_FULLY_MASKED  # nothing to predict from yet
    assert predicted >= 20, f"only {predicted} of 40 frames went out predicted"
    assert 2 <= det.calls < 40  # detection ran, on the newest frame whenever free


def test_static_zone_always_masked() -> None:
    zone = ((200, 10), (300, 10), (300, 80), (200, 80))
    cfg = fill_config(zones=(ZoneConfig(camera_id="cam-z", polygon=zone),))
    running = _serve(cfg, SquareDetector(every=1))
    try:
        frames = [
            OutFrame(i, i * 40_000, np.full((H, W, 3), 180, np.uint8).tobytes()) for i in range(5)
        ]
        with RedactorClient(running.address) as client:
            for camera, masked in (("cam-z", True), ("cam-other", False)):
                header = pb.StreamHeader(
                    camera_id=camera,
                    recipient="fire-119",
                    format=pb.PIXEL_FORMAT_BGR24,
                    width=W,
                    height=H,
                )
                for o in client.stream(header, frames):
                    img = np.frombuffer(o.data, np.uint8).reshape(H, W, 3)
                    inside = img[12:78, 202:298]
                    assert (inside == 0).all() if masked else (inside == 180).all()
                    assert (img[150:, :] == 180).all()
    finally:
        running.stop(0)


@pytest.mark.parametrize(("service", "plate_visible"), [("wanted-vehicle", True), ("", False)])
def test_plates_visible_only_where_policy_says(service: str, plate_visible: bool) -> None:
    running = _serve(fill_config(), SquareDetector(label=Label.PLATE, every=1))
    try:
        header = pb.StreamHeader(
            recipient="police-112", service=service, format=pb.PIXEL_FORMAT_BGR24, width=W, height=H
        )
        with RedactorClient(running.address) as client:
            outs = list(client.stream(header, _bgr_frames(5)))
    finally:
        running.stop(0)
    for i, o in enumerate(outs):
        img = np.frombuffer(o.data, np.uint8).reshape(H, W, 3)
        assert (img[..., 1] > 200).any() == plate_visible, f"frame {i}"
        assert len(o.detections) == 1 and o.detections[0].label == pb.LABEL_PLATE


def test_h264_in_and_out_keeps_order_and_timestamps(
    server: RunningServer, short_clip: Path
) -> None:
    enc = None
    frames = []
    for f in read_i420(short_clip):
        y = np.frombuffer(f.i420, np.uint8)
        w, h = 768, 576
        planes = (
            y[: w * h].reshape(h, w),
            y[w * h : w * h * 5 // 4].reshape(h // 2, w // 2),
            y[w * h * 5 // 4 :].reshape(h // 2, w // 2),
        )
        enc = enc or H264Encoder(w, h, 10)
        ts = 5_000 + f.index * 100_000
        au = enc.encode(Frame("i420", planes, f.index, ts))
        frames.append(OutFrame(f.index, ts, au))
    header = pb.StreamHeader(
        camera_id="cam-h264",
        recipient="police-112",
        format=pb.PIXEL_FORMAT_H264,
        fps=10,
        latency_budget_ms=60_000,
    )  # pushed faster than real time: not live
    with RedactorClient(server.address) as client:
        outs = list(client.stream(header, frames))
    assert [o.seq for o in outs] == [f.seq for f in frames]
    assert [o.timestamp_us for o in outs] == [f.timestamp_us for f in frames]
    assert all(o.status == pb.FRAME_STATUS_REDACTED for o in outs), {o.status_reason for o in outs}
    decoder = av.CodecContext.create("h264", "r")
    decoded = 0
    for o in outs:
        assert o.data, f"frame {o.seq}: empty access unit"
        for vf in decoder.decode(av.Packet(o.data)):
            assert (vf.width, vf.height) == (768, 576)
            decoded += 1
    assert decoded == len(frames)


def test_metrics_endpoint(short_clip: Path) -> None:
    import socket
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    from redactor.config import ServerConfig

    running = create_server(
        Config(server=ServerConfig(metrics_port=port)),
        "127.0.0.1:0",
        detector_factory=lambda n, c: SquareDetector(),
    )
    try:
        with RedactorClient(running.address) as client:
            header = pb.StreamHeader(
                recipient="police-112", format=pb.PIXEL_FORMAT_BGR24, width=W, height=H
            )
            scraped = threading.Event()

            def frames() -> Iterator[OutFrame]:  # the stream stays open until the scrape is done
                it = iter(_bgr_frames(3))
                yield next(it)
                scraped.wait(30)
                yield from it

            outs = client.stream(header, frames())
            next(outs)
            try:
                during = (
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5)
                    .read()
                    .decode()
                )
            finally:
                scraped.set()
            assert len(list(outs)) == 2
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    finally:
        running.stop(0)
    assert "redactor_stream_frame_latency_seconds_bucket{" in during, (
        "an open stream has its own series"
    )
    assert 'redactor_frames_in_total{kind="stream"} 3.0' in text
    assert 'redactor_frame_latency_seconds_count{kind="stream"} 3.0' in text
    assert 'stream="' not in text, "a closed stream's own series must be gone (ids would pile up)"
    # the first sweep, and the second if it ended before the stream (it follows at once)
    sweeps = re.search(r'redactor_sweeps_total\{outcome="ok"\} (\d+)\.0', text)
    assert sweeps and 1 <= int(sweeps.group(1)) <= 2, "the stream's sweeps are counted"
    assert (
        "redactor_frames_fully_masked_for_safety_total" in text
        or "redactor_frames_out_total" in text
    )
