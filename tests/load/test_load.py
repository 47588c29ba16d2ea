"""Load on loopback: 8 live streams for 60 s plus a steady rate of single images,
against a real server with the real detectors, on whatever cores CI has (2).

Every output frame is checked: a REDACTED frame must have every region the server
itself reported as detected covered by a mask, and every mask solid (policies use
style `fill`, so a masked pixel is exactly the fill colour in raw frames and near
black after H.264); a FULLY_MASKED frame must be flat. Memory must stay flat after
warm-up and every health check must be answered. Speed is not the point here:
under this load many frames go out fully masked by the overload rule, which is
correct; a leaked frame is not.

    .venv/bin/python -m pytest tests/load -m slow -s      # prints the figures
    REDACTOR_LOAD_SECONDS=20 ...                          # a shorter run while developing
    REDACTOR_LOAD_FPS=5, REDACTOR_LOAD_DETECT_INTERVAL_MS=200   # other loads
"""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import av
import cv2
import grpc
import numpy as np
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from support.procs import rss_mb

from redactor.boxes import grid_block
from redactor.clients.client import OutFrame, RedactorClient
from redactor.config import Config, ExportConfig, Limits, PolicyRouting, ReviewConfig
from redactor.data import data_dir
from redactor.server.app import RunningServer, create_server
from redactor.types import Frame
from redactor.v1 import redactor_pb2 as pb
from redactor.video.h264 import H264Encoder

SECONDS = float(os.environ.get("REDACTOR_LOAD_SECONDS", "60"))
STREAMS = 8  # half raw BGR (exact pixel checks), half H.264 (checked after decoding)
FPS = float(os.environ.get("REDACTOR_LOAD_FPS", "10"))  # 10: the clip's own rate
W, H = 320, 240  # the clip scaled down so 2 cores cope
CLIP_FRAMES = 100  # looped
UNARY_PER_S = 2.0
HEALTH_EVERY_S = 0.5
BUDGET_MS = 1500  # per-frame latency budget the streams declare
# Live detection is due every this much video time per stream. At the default 200 ms,
# 8 streams want 40 detections/s, about twice what 2 cores give: nearly every frame
# then goes out fully masked by the overload rule (correct, but it leaves the masks
# of REDACTED frames barely checked). At 600 ms the detector keeps up.
DETECT_INTERVAL_MS = int(os.environ.get("REDACTOR_LOAD_DETECT_INTERVAL_MS", "600"))
RSS_GROWTH_MB = 150  # after warm-up; a leak per frame (8 streams x 600 frames) would not fit
MASKED_CLASSES = {pb.LABEL_FACE, pb.LABEL_PLATE}  # the default policy (police-112)
H264_MASK_MAX_LUMA = 64  # a filled (black, Y=16) region after lossy coding, inner part


@dataclass
class Tally:
    statuses: Counter[str] = field(default_factory=Counter)
    frames: int = 0
    sent: int = 0
    detections_checked: int = 0
    masks_checked: int = 0
    leaks: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)

    def leak(self, what: str) -> None:
        self.leaks.append(what)


def _clip() -> list[np.ndarray]:
    root = data_dir()
    if root is None or not (root / "videos" / "opencv_vtest.avi").is_file():
        pytest.skip("shared data (videos/opencv_vtest.avi) is absent; set REDACTOR_DATA")
    frames = []
    with av.open(str(root / "videos" / "opencv_vtest.avi")) as c:
        for i, vf in enumerate(c.decode(video=0)):
            if i >= CLIP_FRAMES:
                break
            frames.append(
                cv2.resize(vf.to_ndarray(format="bgr24"), (W, H), interpolation=cv2.INTER_AREA)
            )
    return frames


def _h264(frames: list[np.ndarray]) -> list[bytes]:
    enc = H264Encoder(W, H, FPS)
    out = []
    for i, img in enumerate(frames):
        yuv = cv2.cvtColor(img, cv2.COLOR_BGR2YUV_I420)
        planes = (
            yuv[:H],
            yuv[H : H + H // 4].reshape(H // 2, W // 2),
            yuv[H + H // 4 :].reshape(H // 2, W // 2),
        )
        out.append(enc.encode(Frame("i420", planes, i, int(i * 1e6 / FPS))))
    assert all(out), "the low-latency encoder gives one access unit per frame"
    return out


def _fill_config(tmp: Path) -> Config:
    policies = {
        name: p.model_copy(update={"style": "fill"}) for name, p in PolicyRouting().policies.items()
    }
    return Config(
        policy=PolicyRouting(policies=policies),
        limits=Limits(detect_interval_ms=DETECT_INTERVAL_MS),
        export=ExportConfig(
            archive_root=tmp / "archive",
            output_dir=tmp / "exports",
            ledger_path=tmp / "ledger.sqlite",
            key_path=tmp / "keys" / "key.pem",
            review=ReviewConfig(required="never"),
        ),
    )


COARSE_BLOCKS = Config().live.sweep.first_mosaic_blocks


def _inner(box: pb.Box, shrink: int, w: int, h: int) -> tuple[int, int, int, int] | None:
    x0, y0 = int(np.ceil(box.x0)) + shrink, int(np.ceil(box.y0)) + shrink
    x1, y1 = min(int(np.floor(box.x1)) - shrink, w), min(int(np.floor(box.y1)) - shrink, h)
    return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


def check_frame(
    t: Tally,
    where: str,
    status: int,
    detections: list[pb.Detection],
    masks: list[pb.Mask],
    luma_or_bgr: np.ndarray,
    raw: bool,
) -> None:
    """The leak checks for one output frame (raw BGR exact, H.264 luma approximate)."""
    t.frames += 1
    t.statuses[pb.FrameStatus.Name(status).removeprefix("FRAME_STATUS_")] += 1
    img = luma_or_bgr
    h, w = img.shape[:2]
    if status == pb.FRAME_STATUS_FULLY_MASKED:
        if raw and not (img == img.reshape(-1, 3)[0]).all():
            t.leak(f"{where}: FULLY_MASKED frame is not flat")
        if not raw and float(img.std()) > 2.0:
            t.leak(f"{where}: FULLY_MASKED frame is not flat (luma std {img.std():.1f})")
        return
    if status != pb.FRAME_STATUS_REDACTED:
        return
    for d in detections:
        if d.label not in MASKED_CLASSES:
            continue
        # the part inside the frame (tracked boxes may reach past its edge; masks are clipped)
        x0, y0 = min(max(d.box.x0, 0.0), w), min(max(d.box.y0, 0.0), h)
        x1, y1 = min(max(d.box.x1, 0.0), w), min(max(d.box.y1, 0.0), h)
        if x1 <= x0 or y1 <= y0:
            continue
        t.detections_checked += 1
        if not any(
            m.box.x0 <= x0 + 0.5
            and m.box.y0 <= y0 + 0.5
            and m.box.x1 >= x1 - 0.5
            and m.box.y1 >= y1 - 0.5
            for m in masks
        ):
            t.leak(f"{where}: detection {(x0, y0, x1, y1)} not covered by any mask")
    start = [m.box for m in masks if m.reason == pb.MASK_REASON_START]
    if start and raw:  # the stream's start: a coarse mosaic, not a fill (what moves shows)
        block = grid_block(w, h, COARSE_BLOCKS)
        under = np.zeros((h, w), bool)
        blocks = 1  # the fill of the masks on top, and each box's blocks from its corner
        for b in start:
            x0, y0, x1, y1 = int(b.x0), int(b.y0), int(np.ceil(b.x1)), int(np.ceil(b.y1))
            under[y0:y1, x0:x1] = True
            blocks += -(-(x1 - x0) // block) * -(-(y1 - y0) // block)
        colours = len(np.unique(img[under].reshape(-1, 3), axis=0))
        if colours > blocks:
            t.leak(f"{where}: coarse start shows {colours} colours in {blocks - 1} blocks")
    for m in masks:
        if m.reason == pb.MASK_REASON_START:
            t.masks_checked += 1
            continue
        inner = _inner(m.box, 0 if raw else 4, w, h)
        if inner is None:
            continue
        x0, y0, x1, y1 = inner
        region = img[y0:y1, x0:x1]
        t.masks_checked += 1
        if raw and not (region == 0).all():
            t.leak(f"{where}: mask {inner} not filled")
        if not raw and float(np.percentile(region, 99)) > H264_MASK_MAX_LUMA:
            t.leak(f"{where}: mask {inner} not filled (luma p99 {np.percentile(region, 99):.0f})")


def run_stream(
    address: str,
    index: int,
    raw: bool,
    frames: list[np.ndarray],
    units: list[bytes],
    stop_at: float,
    t: Tally,
) -> None:
    n = len(frames)

    def source() -> Iterator[OutFrame]:
        t0 = time.perf_counter()
        i = 0
        while time.perf_counter() < stop_at:
            delay = t0 + i / FPS - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            k = (i + 13 * index) % n
            data = frames[k].tobytes() if raw else units[i % n]  # H.264 loops from its key frame
            yield OutFrame(i, int(i * 1e6 / FPS), data)
            i += 1
            t.sent = i

    header = pb.StreamHeader(
        camera_id=f"load-{index}",
        recipient="police-112",
        fps=FPS,
        latency_budget_ms=BUDGET_MS,
        **(
            {"format": pb.PIXEL_FORMAT_BGR24, "width": W, "height": H}
            if raw
            else {"format": pb.PIXEL_FORMAT_H264}
        ),
    )
    decoder = None if raw else av.CodecContext.create("h264", "r")
    expect = 0
    with RedactorClient(address, timeout_s=SECONDS + 120) as client:
        for o in client.stream(header, source()):
            where = f"stream {index} frame {o.seq}"
            if o.seq != expect:
                t.leak(f"{where}: out of order (expected {expect})")
            expect = o.seq + 1
            t.latencies_ms.append(o.service_ms)
            if o.status == pb.FRAME_STATUS_DROPPED:
                check_frame(t, where, o.status, [], [], np.zeros((1, 1), np.uint8), raw)
                continue
            if raw:
                img = np.frombuffer(o.data, np.uint8).reshape(H, W, 3)
            else:
                assert decoder is not None
                pics = decoder.decode(av.Packet(o.data))
                if len(pics) != 1:
                    t.leak(f"{where}: {len(pics)} pictures in one access unit")
                    continue
                img = pics[0].to_ndarray(format="gray")
            check_frame(t, where, o.status, list(o.detections), list(o.masks), img, raw)


@pytest.mark.slow
def test_eight_streams_and_single_images_for_a_minute(tmp_path: Path) -> None:
    frames = _clip()
    units = _h264(frames)
    running: RunningServer = create_server(_fill_config(tmp_path), "127.0.0.1:0")
    t_start = time.perf_counter()
    stop_at = t_start + SECONDS
    tallies = [Tally() for _ in range(STREAMS)]
    unary = Tally()
    health_ms: list[float] = []
    health_failures: list[str] = []
    rss: list[tuple[float, float]] = []
    done = threading.Event()

    def single_images() -> None:
        jpegs = [bytes(cv2.imencode(".jpg", f)[1]) for f in frames[::7]]
        with RedactorClient(running.address, timeout_s=60) as client:
            i = 0
            while time.perf_counter() < stop_at:
                target = t_start + i / UNARY_PER_S
                if target > time.perf_counter():
                    time.sleep(target - time.perf_counter())
                r = client.redact_image(
                    pb.Image(format=pb.PIXEL_FORMAT_JPEG, data=jpegs[i % len(jpegs)])
                )
                unary.latencies_ms.append(r.service_ms)
                # JPEG is lossy: check masks on the decoded luma like H.264
                img = cv2.imdecode(np.frombuffer(r.image.data, np.uint8), cv2.IMREAD_GRAYSCALE)
                check_frame(
                    unary, f"image {i}", r.status, list(r.detections), list(r.masks), img, raw=False
                )
                i += 1

    def health() -> None:
        with grpc.insecure_channel(running.address) as ch:
            stub = health_pb2_grpc.HealthStub(ch)
            while not done.is_set():
                t0 = time.perf_counter()
                try:
                    resp = stub.Check(health_pb2.HealthCheckRequest(), timeout=2.0)
                    if resp.status != health_pb2.HealthCheckResponse.SERVING:
                        health_failures.append(str(resp.status))
                except grpc.RpcError as e:
                    health_failures.append(f"{e.code().name}: {e.details()}")
                health_ms.append((time.perf_counter() - t0) * 1000)
                rss.append((time.perf_counter() - t_start, rss_mb()))
                done.wait(HEALTH_EVERY_S)

    errors: list[BaseException] = []

    def guarded(fn: Callable[..., None], *args: object) -> threading.Thread:
        def run() -> None:
            try:
                fn(*args)
            except BaseException as e:  # noqa: BLE001 - reported below
                errors.append(e)

        return threading.Thread(target=run, daemon=True)

    threads = [
        guarded(run_stream, running.address, i, i % 2 == 0, frames, units, stop_at, tallies[i])
        for i in range(STREAMS)
    ]
    threads.append(guarded(single_images))
    watcher = threading.Thread(target=health, daemon=True)
    try:
        watcher.start()
        for th in threads:
            th.start()
        for th in threads:
            th.join(SECONDS + 180)
    finally:
        done.set()
        watcher.join(10)
        active = running.engine.metrics.registry.get_sample_value("redactor_streams_active")
        running.stop(0)
    elapsed = time.perf_counter() - t_start

    assert not errors, errors
    assert not any(th.is_alive() for th in threads), "a stream did not finish"
    total = Tally()
    for t in (*tallies, unary):
        total.statuses.update(t.statuses)
        total.frames += t.frames
        total.detections_checked += t.detections_checked
        total.masks_checked += t.masks_checked
        total.leaks += t.leaks
    warm = [m for s, m in rss if s >= min(15.0, SECONDS / 4)]
    growth = max(warm) - warm[0] if warm else 0.0
    per_stream_fps = [t.frames / elapsed for t in tallies]
    lat = np.array([x for t in tallies for x in t.latencies_ms])
    print(
        f"\nload: {STREAMS} streams x {SECONDS:.0f} s at {FPS:g} fps ({W}x{H}, half raw, half H.264, "
        f"detection due every {DETECT_INTERVAL_MS} ms) "
        f"+ {unary.frames / elapsed:.2f} single images/s"
    )
    print(
        f"  stream frames sent {sum(t.sent for t in tallies)}, "
        f"out: {sum(t.frames for t in tallies)} ({min(per_stream_fps):.1f}-"
        f"{max(per_stream_fps):.1f} fps per stream); statuses {dict(total.statuses)}"
    )
    print(
        f"  stream service ms p50 {np.percentile(lat, 50):.0f} p95 {np.percentile(lat, 95):.0f}; "
        f"single image ms p50 {np.percentile(unary.latencies_ms, 50):.0f}"
    )
    print(
        f"  checked: {total.frames} frames, {total.detections_checked} detections, "
        f"{total.masks_checked} masks; leaked frames: {len(total.leaks)}"
    )
    print(
        f"  health: {len(health_ms)} checks, failures {len(health_failures)}, max {max(health_ms):.0f} ms; "
        f"RSS after warm-up grew {growth:.0f} MB (from {warm[0] if warm else 0:.0f} MB)"
    )

    assert total.leaks == [], total.leaks[:20]
    assert health_failures == [], health_failures[:10]
    assert len(health_ms) >= SECONDS / HEALTH_EVERY_S * 0.5
    expected = SECONDS * FPS
    for i, t in enumerate(tallies):  # every frame sent was answered, in order
        assert t.frames == t.sent, f"stream {i}: {t.frames} frames answered of {t.sent} sent"
        # gRPC flow control may slow a sender when the server is behind (that is the
        # server's right); the load must still have been real
        assert t.sent >= expected * 0.5, f"stream {i}: only {t.sent} frames of ~{expected:.0f} sent"
    assert unary.frames >= SECONDS * UNARY_PER_S * 0.5, f"{unary.frames} single images"
    assert total.statuses["REDACTED"] > 0, (
        "nothing was redacted at all: the checks above were vacuous"
    )
    assert total.detections_checked > 0
    assert growth < RSS_GROWTH_MB, f"RSS grew {growth:.0f} MB after warm-up"
    assert active == 0
