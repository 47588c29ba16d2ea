"""Faults on the frame path, against real servers: the detector raising or hanging
past its budget, a masking kernel failing, the client vanishing mid-stream. Every
affected frame leaves fully masked (one flat value) or not at all, the server keeps
answering, and what a stream held is released."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import grpc
import numpy as np
import pytest
from fault_helpers import healthy
from support.configs import export_config
from support.fakes import EmptyDetector, HangingDetector, RaisingDetector

from redactor import kernels
from redactor.config import (
    Config,
    Limits,
    LiveConfig,
    LookConfig,
    MotionConfig,
    ProfileConfig,
)
from redactor.data import data_dir
from redactor.ledger import Ledger
from redactor.pipeline.engine import DetectorFactory
from redactor.pipeline.stream import StreamSession
from redactor.server.app import RunningServer, create_server
from redactor.types import Detections, Frame
from redactor.v1 import redactor_pb2 as pb
from redactor.v1 import redactor_pb2_grpc as pb_grpc

W, H = 320, 240


def serve(
    tmp: Path,
    limits: Limits | None = None,
    factory: DetectorFactory | None = None,
    live: LiveConfig | None = None,
) -> RunningServer:
    return create_server(
        Config(limits=limits or Limits(), export=export_config(tmp), live=live or LiveConfig()),
        "127.0.0.1:0",
        detector_factory=factory,
    )


def stop_and_verify(running: RunningServer) -> None:
    """Stops the server, then checks its ledger verifies (faults on the frame path must not touch it)."""
    path = Path(running.engine.config.export.ledger_path)
    running.stop(0)
    with Ledger(path, create=False) as ledger:
        assert ledger.verify(None, None).ok


@pytest.fixture(scope="module")
def face_bgr() -> np.ndarray:
    root = data_dir()
    if root is None:
        pytest.skip("shared data not found: set REDACTOR_DATA or place it at ../shared/data")
    img = cv2.imread(str(sorted((root / "faces_smoke" / "images").glob("*.jpg"))[0]))
    assert img is not None
    return img


def flat(data: bytes, luma_only: int = 0) -> bool:
    """Every byte (or every luma byte, for YUV) the same value: nothing of the original."""
    arr = np.frombuffer(data, np.uint8)
    if luma_only:
        arr = arr[:luma_only]
    return bool(arr.size) and bool((arr == arr[0]).all())


def bgr_image(img: np.ndarray) -> pb.Image:
    h, w = img.shape[:2]
    return pb.Image(format=pb.PIXEL_FORMAT_BGR24, width=w, height=h, data=img.tobytes())


def moving_frames(n: int, w: int = W, h: int = H) -> list[bytes]:
    rng = np.random.default_rng(1)
    base = rng.integers(30, 220, (h, w, 3), np.uint8)
    return [np.roll(base, 3 * i, axis=1).tobytes() for i in range(n)]


def stream(
    address: str,
    header: pb.StreamHeader,
    frames: list[bytes],
    fps: float = 25.0,
    timeout: float = 120,
    check: Callable[[pb.RedactedFrame], None] | None = None,
) -> list[pb.RedactedFrame]:
    """Sends `frames` at `fps`; returns the redacted frames. With `check`, each frame is
    checked as it arrives and kept without its pixels (memory stays flat)."""

    def requests() -> Iterator[pb.StreamRequest]:
        yield pb.StreamRequest(header=header)
        t0 = time.perf_counter()
        for i, data in enumerate(frames):
            delay = t0 + i / fps - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            yield pb.StreamRequest(
                frame=pb.StreamFrame(seq=i, timestamp_us=int(i * 1e6 / fps), data=data)
            )

    with grpc.insecure_channel(
        address, options=[("grpc.max_receive_message_length", 64 << 20)]
    ) as ch:
        stub = pb_grpc.RedactorStub(ch)  # type: ignore[no-untyped-call]
        out = []
        for r in stub.RedactStream(requests(), timeout=timeout):
            if r.WhichOneof("kind") != "frame":
                continue
            if check is not None:
                check(r.frame)
                r.frame.ClearField("data")
            out.append(r.frame)
        return out


def assert_closed(o: pb.RedactedFrame) -> None:
    """The frame went out fully masked (one flat value) or was dropped: nothing of it shows."""
    assert o.status in (pb.FRAME_STATUS_FULLY_MASKED, pb.FRAME_STATUS_DROPPED), (
        o.seq,
        o.status_reason,
    )
    assert o.status == pb.FRAME_STATUS_DROPPED or flat(o.data), o.seq


# ---------------------------------------------------------------- detector raising


def test_detector_raising(tmp_path: Path, face_bgr: np.ndarray) -> None:
    running = serve(tmp_path, factory=lambda name, cfg: RaisingDetector())
    try:
        with grpc.insecure_channel(running.address) as ch:
            stub = pb_grpc.RedactorStub(ch)  # type: ignore[no-untyped-call]
            r = stub.RedactImage(pb.RedactImageRequest(image=bgr_image(face_bgr)), timeout=30)
        assert (
            r.status == pb.FRAME_STATUS_FULLY_MASKED
            and "injected detector failure" in r.status_reason
        )
        assert flat(r.image.data)
        header = pb.StreamHeader(
            format=pb.PIXEL_FORMAT_BGR24, width=W, height=H, recipient="police-112"
        )
        outs = stream(running.address, header, moving_frames(15))
        assert [o.seq for o in outs] == list(range(15))
        for o in outs:
            assert_closed(o)
        assert healthy(running.address)
    finally:
        stop_and_verify(running)


def walker_frames(n: int, w: int = W, h: int = H) -> list[bytes]:
    """A fixed camera's picture with one thing moving across it (motion regions appear)."""
    rng = np.random.default_rng(2)
    base = np.full((h, w, 3), 90, np.uint8) + rng.integers(0, 4, (h, w, 3), dtype=np.uint8)
    out = []
    for i in range(n):
        img = base.copy()
        x = 10 + 4 * i
        img[80:150, x : x + 30] = (30, 200, 220)
        out.append(img.tobytes())
    return out


def _one_profile_raising(
    tmp_path: Path, profile: str, n: int, why: str, live: LiveConfig | None = None
) -> list[int]:
    """Streams a walker through a server whose `profile` detector always raises and
    whose other detectors find nothing; checks that every frame from the first that
    says `why` on is closed and the server still answers. Returns those frames."""

    def factory(name: str, cfg: ProfileConfig) -> object:
        # the others work and find nothing, fast, so the stream keeps up
        return RaisingDetector() if name == profile else EmptyDetector("nothing")

    running = serve(tmp_path, factory=factory, live=live)  # type: ignore[arg-type]
    try:
        header = pb.StreamHeader(
            format=pb.PIXEL_FORMAT_BGR24, width=W, height=H, recipient="police-112"
        )
        outs = stream(running.address, header, walker_frames(n), fps=10.0)
        assert [o.seq for o in outs] == list(range(n))
        failed = [o.seq for o in outs if why in o.status_reason]
        assert failed, (
            f"the {profile} detector was never reached: {[o.status_reason for o in outs]}"
        )
        for o in outs[failed[0] :]:
            assert_closed(o)
        assert healthy(running.address)
        return failed
    finally:
        stop_and_verify(running)


def test_look_detector_raising_fails_the_frames_closed(tmp_path: Path) -> None:
    """Every frame's own look at its moving regions: when only it fails, no frame with
    something moving goes out masked from the whole-frame pass and the band alone."""
    _one_profile_raising(tmp_path, Config().live.look.profile, 40, "look failed")


def test_region_detector_raising_fails_the_frames_closed(tmp_path: Path) -> None:
    """Without the look (live.look.enabled = false) the closer look at moving regions runs
    beside the whole-frame pass; when only it fails, the detection has failed: no frame
    goes out masked from the whole-frame pass alone once regions are being looked at."""
    live = LiveConfig(look=LookConfig(enabled=False))
    _one_profile_raising(
        tmp_path, Config().live.motion.profile, 40, "injected detector failure", live
    )


def test_live_profile_raising_fails_the_frames_closed(tmp_path: Path) -> None:
    """A live stream's whole frames are detected with its policy's live profile (not the
    single-image profile): when only that one fails, frames are fully masked."""
    live = Config().policy.policies["default"].stream_profile
    assert live != Config().policy.policies["default"].profile  # a profile of its own
    _one_profile_raising(tmp_path, live, 30, "injected detector failure")


def test_sweep_detector_raising_fails_the_frames_closed(tmp_path: Path) -> None:
    """The slow thorough sweep says what stands still; when it fails, that is not
    known, and frames stay fully masked until a sweep succeeds (never: it always
    raises here), while the live detectors keep working."""
    failed = _one_profile_raising(tmp_path, Config().live.sweep.profile, 30, "sweep failed")
    assert failed[0] < 10, failed  # the first sweep goes to the first frame


def test_the_starts_second_reading_raising_fails_the_frames_closed(tmp_path: Path) -> None:
    """The start's sweeps after its first read text alone (live.sweep.start_again): when
    that detector fails, the still ground is not known either, and frames from then on
    are fully masked."""
    assert Config().live.sweep.start_again == "text"
    failed = _one_profile_raising(
        tmp_path, f"{Config().live.sweep.profile}:text", 30, "sweep failed"
    )
    assert failed[0] > 0, failed  # the first sweep, on the whole profile, worked


class _FailsLater:
    """Slower than a frame may wait for it; works twice (finding nothing), then raises."""

    name = "fails-later"
    model_sha256 = ""

    def __init__(self) -> None:
        self.calls = 0

    def detect(self, bgr: np.ndarray) -> Detections:
        self.calls += 1
        time.sleep(0.15)
        if self.calls > 2:
            raise RuntimeError("injected late detector failure")
        return Detections.empty()

    def close(self) -> None:
        pass


def test_late_detection_failing_fails_the_next_frames_closed(tmp_path: Path) -> None:
    """Frames that went out masked from the tracks while their detection ran: once a
    detection that finished late has failed, no frame is masked from older tracks."""
    det = _FailsLater()
    limits = Limits(latency_budget_ms=300, detection_wait_share=0.25, detect_interval_ms=10_000)
    cfg = Config(
        limits=limits,
        export=export_config(tmp_path),
        live=LiveConfig(motion=MotionConfig(enabled=False)),
    )
    running = create_server(cfg, "127.0.0.1:0", detector_factory=lambda name, pc: det)
    try:
        header = pb.StreamHeader(
            format=pb.PIXEL_FORMAT_BGR24,
            width=W,
            height=H,
            recipient="police-112",
            latency_budget_ms=300,
        )
        outs = stream(running.address, header, moving_frames(40), fps=25.0)
        assert [o.seq for o in outs] == list(range(40))
        assert any(o.status == pb.FRAME_STATUS_REDACTED for o in outs), (
            "no frame went out from the tracks"
        )
        failed = [o.seq for o in outs if "detection failed" in o.status_reason]
        assert failed, [o.status_reason for o in outs]
        for o in outs[failed[0] :]:
            assert o.status == pb.FRAME_STATUS_FULLY_MASKED and flat(o.data), (
                o.seq,
                o.status_reason,
            )
        assert healthy(running.address)
    finally:
        stop_and_verify(running)


# ---------------------------------------------------------------- detector hanging


def test_detector_hanging_single_images(tmp_path: Path, face_bgr: np.ndarray) -> None:
    """A wedged detector must not wedge RedactImage: past limits.detect_timeout_ms the
    image goes back fully masked; once every detection slot is held by a hung
    detection, later calls are fully masked at once ("detector busy")."""
    hang = HangingDetector()
    limits = Limits(detect_timeout_ms=300)
    running = serve(tmp_path, limits, lambda name, cfg: hang)
    calls = running.engine.config.server.workers + 6
    try:

        def one(_: int) -> tuple[pb.RedactImageResponse, float]:
            with grpc.insecure_channel(running.address) as ch:
                stub = pb_grpc.RedactorStub(ch)  # type: ignore[no-untyped-call]
                t0 = time.perf_counter()
                r = stub.RedactImage(pb.RedactImageRequest(image=bgr_image(face_bgr)), timeout=60)
                return r, time.perf_counter() - t0

        t0 = time.perf_counter()
        with ThreadPoolExecutor(calls) as pool:
            results = list(pool.map(one, range(calls)))
        took = time.perf_counter() - t0
        assert healthy(running.address, timeout=2)
        reasons = {r.status_reason.split(":")[0].split(" = ")[0] for r, _ in results}
        for r, _ in results:
            assert r.status == pb.FRAME_STATUS_FULLY_MASKED, r.status_reason
            assert flat(r.image.data)
        assert any("limits.detect_timeout_ms" in r.status_reason for r, _ in results), reasons
        assert any("detector busy" in r.status_reason for r, _ in results), reasons
        # one deadline for the calls that got a slot, and no wait at all for the rest
        assert took < 20, took
        assert hang.calls <= running.engine.config.server.workers
    finally:
        hang.release.set()
        stop_and_verify(running)


def test_detector_hanging_stream_stays_bounded(tmp_path: Path) -> None:
    """A live stream whose detector hangs: every frame goes out fully masked within its
    latency budget (overload rule), and frames waiting for a detection that never
    comes do not pile up (Python heap measured with tracemalloc while the stream runs)."""
    hang = HangingDetector()
    budget_ms = 300
    running = serve(tmp_path, Limits(latency_budget_ms=budget_ms), lambda name, cfg: hang)
    # 10 s of 640x480 at 25 fps: a frame copy queued per 200 ms of video would add ~40 MB
    w, h, n, fps = 640, 480, 250, 25.0
    heap: dict[int, int] = {}
    try:
        frames = moving_frames(n, w, h)

        def check(o: pb.RedactedFrame) -> None:
            assert o.status == pb.FRAME_STATUS_FULLY_MASKED, o.status_reason
            assert flat(o.data)
            assert o.service_ms < budget_ms + 3000, o.service_ms  # slack for a busy machine
            if o.seq in (60, n - 10):
                heap[o.seq] = tracemalloc.get_traced_memory()[0]

        header = pb.StreamHeader(
            format=pb.PIXEL_FORMAT_BGR24, width=w, height=h, recipient="police-112", fps=fps
        )
        tracemalloc.start()
        try:
            outs = stream(running.address, header, frames, fps, check=check)
        finally:
            tracemalloc.stop()
        assert [o.seq for o in outs] == list(range(n))
        grew = (heap[n - 10] - heap[60]) / 2**20
        assert grew < 10, f"the heap grew {grew:.0f} MB while the detector hung"
        assert healthy(running.address, timeout=2)
    finally:
        hang.release.set()
        stop_and_verify(running)


# ---------------------------------------------------------------- kernel failing


def test_kernel_failure_fully_masks(
    tmp_path: Path, face_bgr: np.ndarray, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The masking kernel fails halfway (it has already written part of a mask): the
    frame must come out fully masked, not half-masked. Real detectors find the faces."""

    def broken(*planes_and_boxes: object, **kw: object) -> None:
        plane = planes_and_boxes[0]
        assert isinstance(plane, np.ndarray)
        plane[: plane.shape[0] // 3] = 7  # partial work, then the failure
        raise MemoryError("injected kernel failure")

    running = serve(tmp_path)
    try:
        for name in ("mask_bgr", "mask_i420", "mask_nv12"):
            monkeypatch.setattr(kernels, name, broken)
        with grpc.insecure_channel(running.address) as ch:
            stub = pb_grpc.RedactorStub(ch)  # type: ignore[no-untyped-call]
            r = stub.RedactImage(pb.RedactImageRequest(image=bgr_image(face_bgr)), timeout=60)
        assert len(r.detections) > 0, "the test image must have faces for the kernel to run"
        assert (
            r.status == pb.FRAME_STATUS_FULLY_MASKED
            and "injected kernel failure" in r.status_reason
        )
        assert flat(r.image.data)

        h, w = (d - d % 2 for d in face_bgr.shape[:2])
        i420 = cv2.cvtColor(
            np.ascontiguousarray(face_bgr[:h, :w]), cv2.COLOR_BGR2YUV_I420
        ).tobytes()
        header = pb.StreamHeader(
            format=pb.PIXEL_FORMAT_I420,
            width=w,
            height=h,
            recipient="police-112",
            latency_budget_ms=30_000,
        )
        outs = stream(running.address, header, [i420] * 6, fps=10)
        assert any(
            o.status == pb.FRAME_STATUS_FULLY_MASKED and "kernel" in o.status_reason for o in outs
        )
        for o in outs:
            if o.status == pb.FRAME_STATUS_REDACTED:
                assert len(o.masks) == 0, (
                    "a frame needing a mask went out REDACTED with a broken kernel"
                )
            elif o.status == pb.FRAME_STATUS_FULLY_MASKED:
                assert flat(o.data, luma_only=w * h)
    finally:
        monkeypatch.undo()
        stop_and_verify(running)


# ---------------------------------------------------------------- encoder failing


def test_encoder_failure_ends_the_stream_without_that_frame(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A frame's answer is encoded on the stream's encode thread while the next frames
    are masked. When its encode fails, that frame never leaves, nor does any after it:
    the stream ends INTERNAL after the frames before it went out, in order, and the
    server keeps serving."""
    real = StreamSession.encode

    def failing(self: StreamSession, frame: Frame) -> bytes:
        if frame.seq == 3:
            raise RuntimeError("injected encoder failure")
        return real(self, frame)

    monkeypatch.setattr(StreamSession, "encode", failing)
    running = serve(tmp_path)
    try:
        header = pb.StreamHeader(
            format=pb.PIXEL_FORMAT_BGR24,
            width=W,
            height=H,
            recipient="police-112",
            latency_budget_ms=30_000,
        )
        got: list[int] = []
        with pytest.raises(grpc.RpcError) as e:
            stream(
                running.address,
                header,
                moving_frames(10),
                fps=10,
                check=lambda f: got.append(f.seq),
            )
        assert e.value.code() == grpc.StatusCode.INTERNAL and "RuntimeError" in (
            e.value.details() or ""
        )
        assert got == [0, 1, 2]
        monkeypatch.undo()
        assert healthy(running.address, timeout=2)
        assert [o.seq for o in stream(running.address, header, moving_frames(4), fps=10)] == [
            0,
            1,
            2,
            3,
        ]
    finally:
        monkeypatch.undo()
        stop_and_verify(running)


# ---------------------------------------------------------------- client vanishing

CLIENT = textwrap.dedent("""
    import sys, time, grpc, numpy as np, cv2
    from redactor.v1 import redactor_pb2 as pb, redactor_pb2_grpc as pb_grpc
    png = bytes(cv2.imencode(".png", np.full((48, 64, 3), 100, np.uint8))[1])
    def reqs():
        yield pb.StreamRequest(header=pb.StreamHeader(format=pb.PIXEL_FORMAT_PNG, recipient="police-112"))
        i = 0
        while True:
            yield pb.StreamRequest(frame=pb.StreamFrame(seq=i, timestamp_us=i * 100000, data=png))
            i += 1
            time.sleep(0.1)
    ch = grpc.insecure_channel(sys.argv[1])
    for r in pb_grpc.RedactorStub(ch).RedactStream(reqs()):
        print(r.WhichOneof("kind"), flush=True)
""")


def active(running: RunningServer) -> float:
    return running.engine.metrics.registry.get_sample_value("redactor_streams_active") or 0.0


def wait_idle(running: RunningServer, timeout: float = 15.0) -> None:
    t0 = time.monotonic()
    while active(running) != 0:
        assert time.monotonic() - t0 < timeout, f"{active(running)} streams still open"
        time.sleep(0.05)


def one_frame_stream(address: str) -> list[int]:
    png = bytes(cv2.imencode(".png", np.full((48, 64, 3), 100, np.uint8))[1])
    header = pb.StreamHeader(format=pb.PIXEL_FORMAT_PNG, recipient="police-112")
    return [o.status for o in stream(address, header, [png])]


@pytest.fixture(scope="module")
def one_stream_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    """One stream per caller: a stream a vanished client left open would lock it out."""
    running = serve(tmp_path_factory.mktemp("vanish"), Limits(max_streams_per_caller=1))
    yield running
    stop_and_verify(running)


def test_client_cancels_mid_stream(one_stream_server: RunningServer) -> None:
    running = one_stream_server
    go_on = threading.Event()

    def requests() -> Iterator[pb.StreamRequest]:
        png = bytes(cv2.imencode(".png", np.full((48, 64, 3), 100, np.uint8))[1])
        yield pb.StreamRequest(header=pb.StreamHeader(format=pb.PIXEL_FORMAT_PNG))
        for i in range(1000):
            yield pb.StreamRequest(frame=pb.StreamFrame(seq=i, data=png))
            go_on.wait(0.05)

    ch = grpc.insecure_channel(running.address)
    call = pb_grpc.RedactorStub(ch).RedactStream(requests(), timeout=60)  # type: ignore[no-untyped-call]
    got = 0
    for r in call:
        got += r.WhichOneof("kind") == "frame"
        if got == 3:
            break
    assert active(running) == 1
    call.cancel()
    ch.close()
    wait_idle(running)
    assert one_frame_stream(running.address) == [
        pb.FRAME_STATUS_REDACTED
    ]  # the caller's slot is free again


def test_client_killed_mid_stream(one_stream_server: RunningServer) -> None:
    """The client process dies with SIGKILL (no goodbye on the wire but a reset)."""
    running = one_stream_server
    proc = subprocess.Popen(
        [sys.executable, "-c", CLIENT, running.address], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        kinds = [proc.stdout.readline().strip() for _ in range(4)]
        assert kinds == ["accepted", "frame", "frame", "frame"], kinds
        assert active(running) == 1
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    wait_idle(running)
    assert one_frame_stream(running.address) == [pb.FRAME_STATUS_REDACTED]
    assert healthy(running.address)


def test_motion_model_failing_fails_its_frame_closed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The moving-blob masks come from the motion model; a frame it failed on leaves
    fully masked (the others as usual), and the stream goes on."""
    from redactor.pipeline import background

    real = background.BackgroundModel.update

    def update(self: background.BackgroundModel, frame: object) -> background.Motion:
        if getattr(frame, "seq", -1) == 12:
            raise RuntimeError("injected motion failure")
        return real(self, frame)  # type: ignore[arg-type]

    monkeypatch.setattr(background.BackgroundModel, "update", update)
    running = serve(tmp_path, factory=lambda name, cfg: EmptyDetector("nothing"))
    try:
        header = pb.StreamHeader(
            format=pb.PIXEL_FORMAT_BGR24, width=W, height=H, recipient="police-112"
        )
        outs = stream(running.address, header, walker_frames(20), fps=10.0)
        assert [o.seq for o in outs] == list(range(20))
        assert "motion model failed" in outs[12].status_reason
        assert_closed(outs[12])
        assert outs[15].status == pb.FRAME_STATUS_REDACTED, outs[15].status_reason
        assert healthy(running.address)
    finally:
        stop_and_verify(running)
