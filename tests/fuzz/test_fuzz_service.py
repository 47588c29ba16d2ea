"""Bad input, tried systematically (hypothesis) on every request type of both services.

Wrong and zero sizes, sizes that do not match the buffer, truncated and corrupt
JPEG/PNG/H.264, headers that lie about the size, absurd dimensions, unknown enum
values, NaN and out-of-range numbers, missing fields, path tricks, bad
credentials, streams that stop mid-access-unit, send after an error or are
cancelled. Every answer must be a deliberate status code with a message (never
INTERNAL, UNKNOWN or a hang); meanwhile a well-formed stream keeps getting its
frames, memory stays bounded and the ledger records every refusal and verifies.

One real server (real detectors) serves the module; the count of inputs tried is
printed at the end of the run (tests/fuzz/conftest.py).
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import cv2
import grpc
import numpy as np
import pytest
from fuzz_count import TRIED, record
from grpc_health.v1 import health_pb2, health_pb2_grpc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.configs import export_config
from support.procs import rss_mb

from redactor.config import Config, Limits
from redactor.ledger import Ledger
from redactor.server.app import RunningServer, create_server
from redactor.types import Frame, PixelFormat
from redactor.v1 import redactor_pb2 as pb
from redactor.v1 import redactor_pb2_grpc as pb_grpc
from redactor.video.h264 import H264Encoder
from redactor.video.images import raw_size

C = grpc.StatusCode
# What a bad input may get: a deliberate refusal with a message. Never INTERNAL or UNKNOWN.
REFUSALS = {
    C.INVALID_ARGUMENT,
    C.RESOURCE_EXHAUSTED,
    C.NOT_FOUND,
    C.FAILED_PRECONDITION,
    C.PERMISSION_DENIED,
    C.UNAUTHENTICATED,
}
LIMITS = Limits(max_width=1920, max_height=1080, max_message_bytes=4 << 20, stream_idle_s=15.0)
AUDITOR = (("authorization", "Bearer auditor-dev-token"),)
RELAY = (("authorization", "Bearer relay-dev-token"),)
OPERATOR = (("authorization", "Bearer operator-dev-token"),)
BAD_CREDENTIALS = [
    (("authorization", "Bearer nope-nope-nope"),),
    (("authorization", "bearer relay-dev-token"),),
    (("authorization", ""),),
    (("authorization", "Bearer "),),
]
# Mostly credentials that pass, so the payload reaches the code behind the role check.
CREDENTIALS = st.sampled_from([(), (), (), RELAY, RELAY, OPERATOR, AUDITOR, *BAD_CREDENTIALS[:2]])
AUDITOR_MOSTLY = st.sampled_from([AUDITOR] * 16 + [OPERATOR, RELAY, (), *BAD_CREDENTIALS])
FUZZ = settings(
    deadline=None,
    database=None,
    derandomize=False,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)
# REDACTOR_FUZZ_SCALE=10 tries ten times as many inputs (a deeper run than CI's).
SCALE = float(os.environ.get("REDACTOR_FUZZ_SCALE", "1"))


def fuzz(examples: int) -> settings:
    return settings(FUZZ, max_examples=max(1, round(examples * SCALE)))


RSS_GROWTH_MB = (
    300  # generous: allocator arenas and gRPC buffers come and go; a leak per input would not fit
)

RNG = np.random.default_rng(8)
NOISE = RNG.integers(0, 255, (48, 64, 3), np.uint8)
JPEG = bytes(cv2.imencode(".jpg", NOISE)[1])
PNG = bytes(cv2.imencode(".png", NOISE)[1])


def _h264_units(n: int = 6) -> list[bytes]:
    enc = H264Encoder(64, 48, 10)
    out = []
    for i in range(n):
        yuv = cv2.cvtColor(np.roll(NOISE, 4 * i, axis=1), cv2.COLOR_BGR2YUV_I420)
        planes = (yuv[:48], yuv[48:60].reshape(24, 32), yuv[60:].reshape(24, 32))
        out.append(enc.encode(Frame("i420", planes, i, i * 100_000)))
    return [au for au in out if au]


H264 = _h264_units()
_OTHER_SIZE_H264 = [
    au
    for au in [
        H264Encoder(96, 64, 10).encode(
            Frame(
                "i420",
                (
                    np.full((64, 96), 90, np.uint8),
                    np.full((32, 48), 128, np.uint8),
                    np.full((32, 48), 128, np.uint8),
                ),
            )
        )
    ]
    if au
]  # a camera that changes its resolution mid-stream


# ---------------------------------------------------------------- strategies


def corrupted(seed: bytes) -> st.SearchStrategy[bytes]:
    """A real encoded thing, broken: truncated, bit-flipped, spliced, or cut in two."""
    n = len(seed)

    def flip(edits: list[tuple[int, int]]) -> bytes:
        b = bytearray(seed)
        for i, x in edits:
            b[i % n] ^= x
        return bytes(b)

    return st.one_of(
        st.integers(0, n - 1).map(lambda k: seed[:k]),
        st.lists(
            st.tuples(st.integers(0, n - 1), st.integers(1, 255)), min_size=1, max_size=12
        ).map(flip),
        st.tuples(st.integers(0, n), st.binary(min_size=1, max_size=64)).map(
            lambda t: seed[: t[0]] + t[1] + seed[t[0] :]
        ),
        st.integers(1, n - 1).map(lambda k: seed[k:]),
    )


def lying_header(seed: bytes, fmt: str) -> st.SearchStrategy[bytes]:
    """A valid image whose header states another size (absurd, zero or just different)."""

    def lie(wh: tuple[int, int]) -> bytes:
        b = bytearray(seed)
        if fmt == "png":
            b[16:20], b[20:24] = wh[0].to_bytes(4, "big"), wh[1].to_bytes(4, "big")
        else:
            i = b.find(b"\xff\xc0")
            if i >= 0:
                b[i + 5 : i + 7], b[i + 7 : i + 9] = (
                    wh[1].to_bytes(2, "big"),
                    wh[0].to_bytes(2, "big"),
                )
        return bytes(b)

    top = 2**31 - 1 if fmt == "png" else 65535
    return st.tuples(st.integers(0, top), st.integers(0, top)).map(lie)


ENUM_VALUES = [int(v) for v in pb.PixelFormat.values()]
formats = st.one_of(st.sampled_from(ENUM_VALUES), st.integers(-(2**31), 2**31 - 1))
dims = st.one_of(
    st.integers(0, 40),
    st.sampled_from([0, 1, 2, 16, 1919, 1920, 1921, 65535, 2**31, 2**32 - 1]),
    st.integers(0, 2**32 - 1),
)
payloads = st.one_of(
    st.binary(max_size=2048),
    corrupted(JPEG),
    corrupted(PNG),
    corrupted(b"".join(H264)),
    lying_header(PNG, "png"),
    lying_header(JPEG, "jpeg"),
    st.sampled_from([JPEG, PNG, *H264]),
)
texts = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        ["", "default", "strict", "../../etc/passwd", "\x00", "x" * 5000, "police-112", "export"]
    ),
)


@st.composite
def images(draw: st.DrawFn) -> pb.Image | None:
    kind = draw(st.sampled_from(["any", "raw-near-size", "encoded", "missing"]))
    if kind == "missing":
        return None
    if kind == "raw-near-size":  # a raw picture whose buffer is right or a few bytes off
        fmt = draw(st.sampled_from([PixelFormat.BGR24, PixelFormat.I420, PixelFormat.NV12]))
        w, h = draw(st.integers(0, 48)), draw(st.integers(0, 48))
        size = max(0, raw_size(fmt, w, h) + draw(st.sampled_from([0, 0, -1, 1, -3, 7, -w])))
        return pb.Image(
            format=int(fmt), width=w, height=h, data=draw(st.binary(min_size=size, max_size=size))
        )
    if kind == "encoded":
        fmt = draw(
            st.sampled_from([pb.PIXEL_FORMAT_JPEG, pb.PIXEL_FORMAT_PNG, pb.PIXEL_FORMAT_H264])
        )
        return pb.Image(format=fmt, width=draw(dims), height=draw(dims), data=draw(payloads))
    return pb.Image(format=draw(formats), width=draw(dims), height=draw(dims), data=draw(payloads))


@dataclass
class StreamPlan:
    requests: list[pb.StreamRequest]
    ending: (
        str  # "close", "cancel" (after the first answer) or "linger" (keeps sending after the end)
    )
    metadata: tuple[tuple[str, str], ...] = ()
    notes: list[str] = field(default_factory=list)


@st.composite
def stream_plans(draw: st.DrawFn) -> StreamPlan:
    fmt = draw(st.one_of(st.sampled_from([1, 2, 3, 4, 5, 6] * 3), formats))
    small = draw(st.integers(0, 3)) > 0
    w, h = (
        (draw(st.integers(1, 48)), draw(st.integers(1, 48))) if small else (draw(dims), draw(dims))
    )
    header = pb.StreamHeader(
        camera_id=draw(texts),
        recipient=draw(texts),
        service=draw(texts),
        format=fmt,
        width=w,
        height=h,
        fps=draw(
            st.one_of(
                st.sampled_from([0.0, 10.0, 25.0, 1000.0, 29.97]),
                st.floats(allow_nan=True, allow_infinity=True),
            )
        ),
        latency_budget_ms=draw(st.one_of(st.integers(0, 5000), st.integers(0, 2**32 - 1))),
    )
    reqs: list[pb.StreamRequest] = []
    if draw(st.integers(0, 9)) > 0:
        reqs.append(pb.StreamRequest(header=header))
    raw_ok = fmt in (1, 2, 3) and w * h <= 48 * 48
    units = iter(
        H264 + _OTHER_SIZE_H264
    )  # in order: what a camera sends (it changes size half-way)

    def good(i: int) -> bytes:
        """A frame that fits the header (random pixels, a real image, the next real unit)."""
        if raw_ok:
            size = raw_size(PixelFormat(fmt), w, h)
            return draw(st.binary(min_size=size, max_size=size))
        if fmt == pb.PIXEL_FORMAT_H264:
            return next(units, H264[-1])
        return {pb.PIXEL_FORMAT_JPEG: JPEG, pb.PIXEL_FORMAT_PNG: PNG}.get(fmt, b"\0")

    for i in range(draw(st.integers(0, 8))):
        choice = draw(st.integers(0, 15))
        if choice == 0:
            reqs.append(pb.StreamRequest())  # no oneof set
        elif choice == 1:
            reqs.append(pb.StreamRequest(header=header))  # a second header
        elif choice == 2:  # a real unit cut short: the stream stops mid-frame
            au = good(i)
            reqs.append(
                pb.StreamRequest(
                    frame=pb.StreamFrame(seq=i, data=au[: draw(st.integers(0, len(au)))])
                )
            )
        elif choice <= 4:
            reqs.append(
                pb.StreamRequest(
                    frame=pb.StreamFrame(
                        seq=draw(st.integers(0, 2**64 - 1)),
                        timestamp_us=draw(st.integers(-(2**63), 2**63 - 1)),
                        data=draw(payloads),
                    )
                )
            )
        elif choice == 5 and raw_ok:  # a few bytes off
            data = good(i)
            reqs.append(
                pb.StreamRequest(frame=pb.StreamFrame(seq=i, data=data[:-1] if data else b"\0"))
            )
        else:  # well-formed, with timestamps that may jump, repeat or go back
            ts = draw(
                st.one_of(
                    st.just(i * 40_000),
                    st.integers(-(2**63), 2**63 - 1),
                    st.sampled_from([2**53, -(2**53), 2**53 + 1, 2**62, -(2**63)]),
                )
            )
            reqs.append(
                pb.StreamRequest(frame=pb.StreamFrame(seq=i, timestamp_us=ts, data=good(i)))
            )
    ending = draw(st.sampled_from(["close", "close", "cancel", "linger"]))
    return StreamPlan(reqs, ending, draw(CREDENTIALS))


def timestamps() -> st.SearchStrategy[tuple[int, int] | None]:
    return st.one_of(
        st.none(),
        st.tuples(
            st.one_of(
                st.integers(-(2**63), 2**63 - 1),
                st.integers(1_714_550_000, 1_714_560_000),
                st.sampled_from([-62135596801, 253402300800, 0]),
            ),
            st.one_of(st.integers(0, 999_999_999), st.integers(-(2**31), 2**31 - 1)),
        ),
    )


RECORDINGS = [
    "cam-1/20240501T090000.avi",
    "cam-1/20240501T100000.mp4",
    "cam-1/20240501T110000.mp4",
    "cam-1",
    "cam-1/../../../etc/passwd",
    "/etc/passwd",
    "cam-2/notes.txt",
    "cam-1/./20240501T090000.avi",
    "cam-1/20240501T100000.mp4\x00.txt",
    "cam-9/20240501T100000.mp4",
]


@st.composite
def export_requests(draw: st.DrawFn) -> pb.CreateExportRequest:
    """Either every field random, or a complete request with a few fields broken, so
    that the checks behind the first one (archive, recording, range) are reached too."""
    if draw(st.booleans()):
        msg = pb.CreateExportRequest(
            recording=draw(st.sampled_from(RECORDINGS)),
            recipient="police-112",
            officer="Insp. Kim",
            purpose="fuzz",
            legal_basis="PIPA art. 18(2)7",
        )
        broken = draw(
            st.sets(
                st.sampled_from(
                    [
                        "camera_id",
                        "recipient",
                        "officer",
                        "purpose",
                        "legal_basis",
                        "policy",
                        "expiry_days",
                        "range",
                        "subject",
                    ]
                ),
                max_size=2,
            )
        )
    else:
        msg = pb.CreateExportRequest(
            camera_id=draw(st.one_of(texts, st.sampled_from(["cam-1", "cam-2", "..", "cam-1/.."]))),
            recording=draw(st.one_of(texts, st.sampled_from(RECORDINGS))),
            recipient=draw(texts),
            officer=draw(texts),
            purpose=draw(texts),
            legal_basis=draw(texts),
        )
        broken = {"policy", "expiry_days", "range", "subject"}
    for name in broken & {"camera_id", "recipient", "officer", "purpose", "legal_basis", "policy"}:
        setattr(
            msg,
            name,
            draw(st.one_of(texts, st.sampled_from(["cam-1", "", " ", "export", "strict"]))),
        )
    if "expiry_days" in broken:
        msg.expiry_days = draw(st.one_of(st.integers(0, 400), st.integers(0, 2**32 - 1)))
    if "range" in broken:
        for name in ("start", "end"):
            ts = draw(timestamps())
            if ts is not None:
                getattr(msg, name).seconds, getattr(msg, name).nanos = ts
        if draw(st.booleans()):
            msg.recording = ""
            msg.camera_id = draw(st.sampled_from(["cam-1", "cam-2", "cam-9", "..", "cam-1/x"]))
    if "subject" in broken and draw(st.booleans()):
        f = st.floats(allow_nan=True, allow_infinity=True, width=32)
        msg.subject.timestamp_us = draw(st.integers(-(2**63), 2**63 - 1))
        msg.subject.box.CopyFrom(pb.Box(x0=draw(f), y0=draw(f), x1=draw(f), y1=draw(f)))
    return msg


# ---------------------------------------------------------------- the server and a good caller


def _tiny_mp4(path: Path, frames: int = 3) -> bytes:
    with av.open(str(path), "w") as out:
        s = out.add_stream("libx264", rate=10)
        s.width, s.height, s.pix_fmt = 64, 48, "yuv420p"
        for i in range(frames):
            vf = av.VideoFrame.from_ndarray(np.roll(NOISE, i, axis=0), format="bgr24")
            vf.pts, vf.time_base = i, Fraction(1, 10)
            for p in s.encode(vf):
                out.mux(p)
        for p in s.encode(None):
            out.mux(p)
    return path.read_bytes()


@dataclass
class Site:
    running: RunningServer
    config: Config
    rss_start_mb: float
    created: list[str] = field(default_factory=list)
    create_calls: int = 0
    downloads_refused: int = 0


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("fuzz")
    cam = root / "archive" / "cam-1"
    cam.mkdir(parents=True)
    (cam / "20240501T090000.avi").write_bytes(os.urandom(4096))  # garbage named like a recording
    good = _tiny_mp4(root / "tiny.mp4")
    (cam / "20240501T100000.mp4").write_bytes(good)
    (cam / "20240501T110000.mp4").write_bytes(good[: len(good) * 2 // 3])  # truncated recording
    (root / "archive" / "cam-2").mkdir()
    (root / "archive" / "cam-2" / "notes.txt").write_text("not a video")
    cfg = Config(limits=LIMITS, export=export_config(root))
    running = create_server(cfg, "127.0.0.1:0")
    with grpc.insecure_channel(running.address) as ch:  # warm-up before the memory baseline
        pb_grpc.RedactorStub(ch).RedactImage(  # type: ignore[no-untyped-call]
            pb.RedactImageRequest(image=pb.Image(format=pb.PIXEL_FORMAT_PNG, data=PNG)), timeout=60
        )
    yield Site(running, cfg, rss_mb())
    running.stop(0)


class Keeper:
    """A well-formed live stream running through the whole fuzz session, at 10 fps."""

    def __init__(self, address: str) -> None:
        self.stop = threading.Event()
        self.sent = 0
        self.arrivals: list[tuple[int, float, int]] = []  # seq, time, status
        self.error: BaseException | None = None
        self.channel = grpc.insecure_channel(address)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _requests(self) -> Iterator[pb.StreamRequest]:
        yield pb.StreamRequest(
            header=pb.StreamHeader(
                camera_id="keeper",
                recipient="police-112",
                format=pb.PIXEL_FORMAT_BGR24,
                width=64,
                height=48,
                fps=10,
            )
        )
        while not self.stop.is_set():
            frame = np.roll(NOISE, self.sent, axis=1).tobytes()
            yield pb.StreamRequest(
                frame=pb.StreamFrame(seq=self.sent, timestamp_us=self.sent * 100_000, data=frame)
            )
            self.sent += 1
            time.sleep(0.1)

    def _run(self) -> None:
        try:
            stub = pb_grpc.RedactorStub(self.channel)  # type: ignore[no-untyped-call]
            for r in stub.RedactStream(self._requests(), timeout=3600):
                if r.WhichOneof("kind") == "frame":
                    self.arrivals.append((r.frame.seq, time.monotonic(), r.frame.status))
        except BaseException as e:  # noqa: BLE001 - reported by the final test
            self.error = e

    def finish(self) -> None:
        self.stop.set()
        self.thread.join(60)
        self.channel.close()


@pytest.fixture(scope="module")
def keeper(site: Site) -> Iterator[Keeper]:
    k = Keeper(site.running.address)
    yield k
    k.finish()


def check(kind: str, code: C, details: str | None, what: object) -> None:
    record(kind, code)
    if code == C.OK:
        return
    assert code in REFUSALS, f"{kind}: {code.name} ({details!r}) for {what!r}"[:2000]
    assert details and len(details) > 8, (
        f"{kind}: {code.name} without a clear message for {what!r}"[:2000]
    )


def channel(site: Site) -> grpc.Channel:
    return grpc.insecure_channel(
        site.running.address, options=[("grpc.max_receive_message_length", 64 << 20)]
    )


# ---------------------------------------------------------------- Redactor


@fuzz(400)
@given(image=images(), policy=texts, metadata=CREDENTIALS)
def test_redact_image(
    site: Site,
    keeper: Keeper,
    image: pb.Image | None,
    policy: str,
    metadata: tuple[tuple[str, str], ...],
) -> None:
    req = (
        pb.RedactImageRequest(policy=policy)
        if image is None
        else pb.RedactImageRequest(image=image, policy=policy)
    )
    with channel(site) as ch:
        try:
            r = pb_grpc.RedactorStub(ch).RedactImage(req, metadata=metadata, timeout=60)  # type: ignore[no-untyped-call]
        except grpc.RpcError as e:
            check("RedactImage", e.code(), e.details(), req)
            return
    check("RedactImage", C.OK, None, req)
    assert r.status in (pb.FRAME_STATUS_REDACTED, pb.FRAME_STATUS_FULLY_MASKED)
    assert r.image.width > 0 and r.image.height > 0 and r.image.data


@fuzz(300)
@given(plan=stream_plans())
def test_redact_stream(site: Site, keeper: Keeper, plan: StreamPlan) -> None:
    answered = threading.Event()

    def requests() -> Iterator[pb.StreamRequest]:
        yield from plan.requests
        if plan.ending == "linger":  # keeps talking after the server has (probably) ended the call
            for i in range(20):
                if answered.wait(0.02):
                    yield pb.StreamRequest(frame=pb.StreamFrame(seq=10_000 + i, data=PNG))

    with channel(site) as ch:
        call = pb_grpc.RedactorStub(ch).RedactStream(requests(), metadata=plan.metadata, timeout=60)  # type: ignore[no-untyped-call]
        try:
            for r in call:
                answered.set()
                if r.WhichOneof("kind") == "frame" and r.frame.status != pb.FRAME_STATUS_DROPPED:
                    assert r.frame.data and r.frame.width > 0 and r.frame.height > 0
                if plan.ending == "cancel":
                    call.cancel()
        except grpc.RpcError as e:
            answered.set()
            if e.code() == C.CANCELLED and plan.ending == "cancel":
                record("RedactStream", C.CANCELLED)
                return
            check("RedactStream", e.code(), e.details(), plan.requests)
            return
    check("RedactStream", C.OK, None, plan.requests)


@pytest.mark.parametrize(
    ("stamps", "code"),
    [
        ([0, 2**53, -(2**53), 0, 2**53], C.OK),  # far apart but representable: served
        ([0, 2**53 + 1], C.INVALID_ARGUMENT),
        (
            [0, 2**63 - 1, -(2**63)],
            C.INVALID_ARGUMENT,
        ),  # found by this suite: OverflowError in tracking
    ],
)
def test_timestamps_far_apart(site: Site, stamps: list[int], code: grpc.StatusCode) -> None:
    for fmt, data in ((pb.PIXEL_FORMAT_H264, None), (pb.PIXEL_FORMAT_BGR24, NOISE.tobytes())):
        header = pb.StreamHeader(format=fmt, width=64, height=48, latency_budget_ms=30_000)
        reqs = [pb.StreamRequest(header=header)] + [
            pb.StreamRequest(
                frame=pb.StreamFrame(seq=i, timestamp_us=t, data=data or H264[i % len(H264)])
            )
            for i, t in enumerate(stamps)
        ]
        with channel(site) as ch:
            try:
                out = list(pb_grpc.RedactorStub(ch).RedactStream(iter(reqs), timeout=60))  # type: ignore[no-untyped-call]
            except grpc.RpcError as e:
                check("RedactStream", e.code(), e.details(), reqs)
                assert e.code() == code and "timestamp_us" in (e.details() or "")
                continue
        check("RedactStream", C.OK, None, reqs)
        assert code == C.OK and [r.frame.timestamp_us for r in out[1:]] == stamps


# ---------------------------------------------------------------- Exports


@fuzz(300)
@given(req=export_requests(), metadata=AUDITOR_MOSTLY)
def test_create_export(
    site: Site, keeper: Keeper, req: pb.CreateExportRequest, metadata: tuple[tuple[str, str], ...]
) -> None:
    with channel(site) as ch:
        site.create_calls += 1
        try:
            job = pb_grpc.ExportsStub(ch).CreateExport(req, metadata=metadata, timeout=60)  # type: ignore[no-untyped-call]
        except grpc.RpcError as e:
            check("CreateExport", e.code(), e.details(), req)
            return
    check("CreateExport", C.OK, None, req)
    site.created.append(job.id)


@fuzz(100)
@given(
    export_id=st.one_of(texts, st.text(alphabet="0123456789abcdef", min_size=16, max_size=16)),
    metadata=AUDITOR_MOSTLY,
    pick=st.integers(0, 9),
)
def test_get_export(
    site: Site, keeper: Keeper, export_id: str, metadata: tuple[tuple[str, str], ...], pick: int
) -> None:
    if site.created and pick == 0:
        export_id = site.created[0]
    with channel(site) as ch:
        try:
            pb_grpc.ExportsStub(ch).GetExport(
                pb.GetExportRequest(id=export_id), metadata=metadata, timeout=60
            )  # type: ignore[no-untyped-call]
        except grpc.RpcError as e:
            check("GetExport", e.code(), e.details(), export_id)
            return
    check("GetExport", C.OK, None, export_id)


@fuzz(60)
@given(export_id=texts, metadata=AUDITOR_MOSTLY)
def test_watch_export(
    site: Site, keeper: Keeper, export_id: str, metadata: tuple[tuple[str, str], ...]
) -> None:
    with channel(site) as ch:
        try:
            list(
                pb_grpc.ExportsStub(ch).WatchExport(
                    pb.WatchExportRequest(id=export_id),  # type: ignore[no-untyped-call]
                    metadata=metadata,
                    timeout=60,
                )
            )
        except grpc.RpcError as e:
            check("WatchExport", e.code(), e.details(), export_id)
            return
    check("WatchExport", C.OK, None, export_id)


@fuzz(60)
@given(camera=texts, recipient=texts, metadata=AUDITOR_MOSTLY)
def test_list_exports(
    site: Site, keeper: Keeper, camera: str, recipient: str, metadata: tuple[tuple[str, str], ...]
) -> None:
    req = pb.ListExportsRequest(camera_id=camera, recipient=recipient)
    with channel(site) as ch:
        try:
            pb_grpc.ExportsStub(ch).ListExports(req, metadata=metadata, timeout=60)  # type: ignore[no-untyped-call]
        except grpc.RpcError as e:
            check("ListExports", e.code(), e.details(), req)
            return
    check("ListExports", C.OK, None, req)


@fuzz(150)
@given(
    export_id=texts,
    artifact=st.one_of(st.sampled_from([0, 1, 2]), st.integers(-(2**31), 2**31 - 1)),
    metadata=AUDITOR_MOSTLY,
    pick=st.integers(0, 3),
)
def test_download_export(
    site: Site,
    keeper: Keeper,
    export_id: str,
    artifact: int,
    metadata: tuple[tuple[str, str], ...],
    pick: int,
) -> None:
    if site.created and pick == 0:
        export_id = site.created[-1]
    req = pb.DownloadExportRequest(id=export_id, artifact=artifact)  # type: ignore[arg-type]
    with channel(site) as ch:
        try:
            for _ in pb_grpc.ExportsStub(ch).DownloadExport(req, metadata=metadata, timeout=60):  # type: ignore[no-untyped-call]
                pass
        except grpc.RpcError as e:
            site.downloads_refused += 1
            check("DownloadExport", e.code(), e.details(), req)
            return
    check("DownloadExport", C.OK, None, req)


# ---------------------------------------------------------------- afterwards


def test_service_kept_serving_and_lost_nothing(site: Site, keeper: Keeper) -> None:
    """Runs last in the module: the good stream was served throughout, memory stayed
    bounded, nothing is left open, every refusal is on a ledger that verifies."""
    assert sum(TRIED.values()) > 0, "run with the fuzz tests above"
    keeper.finish()
    assert keeper.error is None or (
        isinstance(keeper.error, grpc.RpcError) and keeper.error.code() == C.CANCELLED
    ), keeper.error
    seqs = [s for s, _, _ in keeper.arrivals]
    assert len(seqs) >= 20 and seqs == list(range(len(seqs))), (
        "the good stream lost or reordered frames"
    )
    assert all(st_ != pb.FRAME_STATUS_DROPPED for _, _, st_ in keeper.arrivals)
    gaps = [
        b - a for (_, a, _), (_, b, _) in zip(keeper.arrivals, keeper.arrivals[1:], strict=False)
    ]
    assert max(gaps) < 10.0, f"the good stream stalled for {max(gaps):.1f} s"

    running = site.running
    t0 = time.monotonic()
    while (running.engine.metrics.registry.get_sample_value("redactor_streams_active") or 0) != 0:
        assert time.monotonic() - t0 < 20, "streams left open after the fuzzing"
        time.sleep(0.05)
    with grpc.insecure_channel(running.address) as ch:
        assert (
            health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=5).status
            == health_pb2.HealthCheckResponse.SERVING
        )
    grew = rss_mb() - site.rss_start_mb
    print(
        f"\nfuzz: RSS grew {grew:.0f} MB over {sum(TRIED.values())} inputs; good stream "
        f"{len(seqs)} frames, longest gap {max(gaps):.2f} s"
    )
    assert grew < RSS_GROWTH_MB, f"RSS grew {grew:.0f} MB"

    with Ledger(site.config.export.ledger_path, create=False) as ledger:
        assert ledger.verify(None, None).ok
        events = [str(e.event) for e in ledger.entries()]
    assert events.count("requested") == site.create_calls, "a CreateExport left no ledger row"
    assert events.count("refused") + events.count("approved") == site.create_calls
    assert events.count("download_refused") == site.downloads_refused
    assert math.isfinite(grew)
