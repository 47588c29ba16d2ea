"""StreamLoop and StreamSlots without a server: the header-first rule, idle
time-outs, outputs in input order, the end of input flushing everything, the
reader's failure, back-pressure, and the stream limits. The session is a fake
that masks nothing; its encodes finish when a test says so."""

from __future__ import annotations

import queue
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future

import pytest

from redactor.config import Limits, PolicyRouting
from redactor.errors import InvalidInput, LimitExceeded
from redactor.metrics import Metrics
from redactor.pipeline.stream import (
    BadMessage,
    StreamAccepted,
    StreamFrame,
    StreamMessage,
    StreamOutput,
    StreamSpec,
)
from redactor.pipeline.stream_loop import StreamLoop, StreamSlots
from redactor.policy import PolicyRouter
from redactor.types import FrameStatus, PixelFormat

HEADER = StreamSpec(camera_id="cam-1", recipient="police-112", service="", format=PixelFormat.PNG)
EMPTY = BadMessage(
    "", InvalidInput("a stream message is a header or a frame, got an empty message")
)
POLICY = PolicyRouter(PolicyRouting()).by_name("default")


def frame(seq: int) -> StreamFrame:
    return StreamFrame(seq, 1_000 * seq, bytes([seq]))


class FakeSession:
    """Each frame becomes one output at once, its encode the Future in `encodes` (if
    any); with `hold`, frames stay pending until `drain_head` or `ready(block=True)`."""

    def __init__(
        self, spec: StreamSpec, hold: bool = False, encodes: dict[int, Future[bytes]] | None = None
    ):
        self.spec, self.hold, self.encodes = spec, hold, encodes or {}
        self.policy = POLICY
        self.stats: dict[str, int] = {}
        self.queue: deque[StreamOutput] = deque()
        self.pushed = self.drained = self.most_pending = 0
        self.closed = False

    @property
    def pending(self) -> int:
        return len(self.queue)

    @property
    def has_pending(self) -> bool:
        return bool(self.queue)

    def push(self, seq: int, timestamp_us: int, data: bytes, received: float) -> list[StreamOutput]:
        self.pushed += 1
        self.queue.append(
            StreamOutput(
                seq,
                timestamp_us,
                FrameStatus.REDACTED,
                data=data,
                encoding=self.encodes.get(seq),
                received_at=received,
            )
        )
        self.most_pending = max(self.most_pending, len(self.queue))
        return list(self.ready(block=False))

    def ready(self, block: bool) -> Iterator[StreamOutput]:
        while self.queue and (block or not self.hold):
            yield self.queue.popleft()

    def drain_head(self) -> list[StreamOutput]:
        self.drained += 1
        return [self.queue.popleft()] if self.queue else []

    def close(self) -> None:
        self.closed = True


class Wire:
    """The caller's side: messages sent one by one; `end` closes the input, `fail` breaks it."""

    _END = object()

    def __init__(self) -> None:
        self._q: queue.Queue[object] = queue.Queue()

    def send(self, *msgs: StreamMessage) -> None:
        for m in msgs:
            self._q.put(m)

    def end(self) -> None:
        self._q.put(self._END)

    def fail(self, e: BaseException) -> None:
        self._q.put(e)

    def __iter__(self) -> Iterator[StreamMessage]:
        while (item := self._q.get()) is not self._END:
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]


class Run:
    """Runs a loop on a thread of its own, as a server's handler would, keeping what it yields."""

    def __init__(
        self,
        messages: Wire | list[StreamMessage],
        limits: Limits | None = None,
        hold: bool = False,
        encodes: dict[int, Future[bytes]] | None = None,
    ) -> None:
        self.metrics = Metrics()
        self.sessions: list[FakeSession] = []
        self.events: list[StreamAccepted | StreamOutput] = []
        self.error: BaseException | None = None

        def open_session(spec: StreamSpec) -> FakeSession:
            self.sessions.append(FakeSession(spec, hold, encodes))
            return self.sessions[-1]

        self.loop = StreamLoop(
            messages, open_session, limits or Limits(), self.metrics, stream_id="s1"
        )
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            for event in self.loop.run():
                self.events.append(event)
        except BaseException as e:  # noqa: BLE001 - the test looks at it
            self.error = e

    def join(self, timeout: float = 10.0) -> Run:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the loop did not end"
        return self

    @property
    def seqs(self) -> list[int]:
        return [e.seq for e in self.events if isinstance(e, StreamOutput)]

    def metric(self, name: str, **labels: str) -> float:
        return self.metrics.registry.get_sample_value(name, labels) or 0.0


def wait_for(cond: Callable[[], object], timeout: float = 5.0) -> None:
    t0 = time.monotonic()
    while not cond():
        assert time.monotonic() - t0 < timeout, "timed out"
        time.sleep(0.005)


REFUSED = [
    ("frame first", [frame(1)], "the first message of a stream must be a header, got frame"),
    (
        "empty first",
        [EMPTY],
        "the first message of a stream must be a header, got an empty message",
    ),
    (
        "invalid frame first: its place decides",
        [BadMessage("frame", InvalidInput("frame 1: timestamp_us must be within +-2**53 us"))],
        "the first message of a stream must be a header, got frame",
    ),
    (
        "invalid header",
        [BadMessage("header", InvalidInput("header.fps must be in [0, 1000], got -1.0"))],
        "header.fps must be in [0, 1000], got -1.0",
    ),
    (
        "second header",
        [HEADER, frame(1), HEADER],
        "after the header a stream takes frames, got header",
    ),
    (
        "empty after header",
        [HEADER, EMPTY],
        "after the header a stream takes frames, got an empty message",
    ),
    (
        "invalid header after header: its place decides",
        [HEADER, BadMessage("header", InvalidInput("header.fps must be in [0, 1000], got -1.0"))],
        "after the header a stream takes frames, got header",
    ),
    (
        "invalid frame",
        [HEADER, BadMessage("frame", InvalidInput("frame 3: timestamp_us must be within"))],
        "frame 3: timestamp_us must be within",
    ),
]


@pytest.mark.parametrize(("name", "messages", "error"), REFUSED, ids=[c[0] for c in REFUSED])
def test_header_first_then_frames(name: str, messages: list[StreamMessage], error: str) -> None:
    run = Run(messages).join()
    assert isinstance(run.error, InvalidInput)
    assert re.fullmatch(re.escape(error) + ".*", str(run.error)), str(run.error)
    accepted = isinstance(messages[0], StreamSpec)
    assert [type(e) for e in run.events][:1] == ([StreamAccepted] if accepted else [])
    # the frames before the refusal went out
    assert run.seqs == ([m.seq for m in messages if isinstance(m, StreamFrame)] if accepted else [])
    assert len(run.sessions) == int(accepted) and all(s.closed for s in run.sessions)
    assert run.metric("redactor_streams_active") == 0


def test_an_invalid_frame_is_counted_in() -> None:
    run = Run([HEADER, frame(1), BadMessage("frame", InvalidInput("frame 2: bad"))]).join()
    assert str(run.error) == "frame 2: bad"
    assert run.metric("redactor_frames_in_total", kind="stream") == 2
    assert run.metric("redactor_frames_out_total", kind="stream", status="REDACTED") == 1


def test_accepted_names_the_sessions_policy_and_the_stream() -> None:
    run = Run([HEADER, frame(0)]).join()
    assert run.error is None
    assert run.events[0] == StreamAccepted("s1", "default")
    assert run.sessions[0].spec == HEADER


def test_input_ending_before_the_header_ends_the_stream_quietly() -> None:
    run = Run([]).join()
    assert run.error is None and run.events == [] and run.sessions == []
    assert run.metric("redactor_streams_active") == 0


def test_idle_without_header() -> None:
    wire = Wire()
    t0 = time.perf_counter()
    run = Run(wire, Limits(stream_idle_s=0.3)).join()
    waited = time.perf_counter() - t0
    wire.end()
    assert isinstance(run.error, LimitExceeded)
    assert str(run.error) == "no header within limits.stream_idle_s = 0.3 s"
    assert 0.25 <= waited < 5
    assert run.events == [] and run.sessions == []


def test_idle_between_frames() -> None:
    wire = Wire()
    run = Run(wire, Limits(stream_idle_s=0.3))
    wire.send(HEADER, frame(5))
    wait_for(lambda: run.seqs == [5])
    t_frame = time.perf_counter()
    run.join()
    wire.end()
    assert isinstance(run.error, LimitExceeded)
    assert str(run.error) == "no message for limits.stream_idle_s = 0.3 s"
    assert time.perf_counter() - t_frame < 5
    assert run.sessions[0].closed


def test_frames_keep_the_stream_alive() -> None:
    wire = Wire()
    run = Run(wire, Limits(stream_idle_s=0.5))
    wire.send(HEADER)
    for seq in range(8):  # 1.2 s in all, each gap well within the limit
        wire.send(frame(seq))
        time.sleep(0.15)
    wire.end()
    run.join()
    assert run.error is None and run.seqs == list(range(8))


def test_outputs_leave_in_input_order_as_encodes_finish() -> None:
    encodes: dict[int, Future[bytes]] = {seq: Future() for seq in range(4)}
    wire = Wire()
    run = Run(wire, encodes=encodes)
    wire.send(HEADER, *(frame(seq) for seq in range(4)))
    wait_for(lambda: run.sessions and run.sessions[0].pushed == 4)
    for seq in (3, 2, 1):  # later frames' encodes finish first: they wait for the head
        encodes[seq].set_result(b"enc%d" % seq)
    time.sleep(0.1)
    assert run.seqs == []
    encodes[0].set_result(b"enc0")  # the head: a wake-up sends all four
    wait_for(lambda: run.seqs == [0, 1, 2, 3])
    wire.end()
    run.join()
    assert run.error is None
    assert [e.data for e in run.events if isinstance(e, StreamOutput)] == [
        b"enc0",
        b"enc1",
        b"enc2",
        b"enc3",
    ]
    assert run.loop.sent == 4


def test_end_of_input_flushes_everything() -> None:
    run = Run([HEADER, *(frame(seq) for seq in range(5))], hold=True).join()
    assert run.error is None
    assert run.seqs == [0, 1, 2, 3, 4]
    assert run.sessions[0].closed and run.sessions[0].drained == 0
    assert run.metric("redactor_frames_out_total", kind="stream", status="REDACTED") == 5


def test_end_of_input_waits_for_unfinished_encodes() -> None:
    encodes: dict[int, Future[bytes]] = {seq: Future() for seq in range(2)}
    wire = Wire()
    run = Run(wire, encodes=encodes)
    wire.send(HEADER, frame(0), frame(1))
    wire.end()
    time.sleep(0.1)
    assert run.seqs == []
    for f in encodes.values():
        f.set_result(b"done")
    run.join()
    assert run.error is None and run.seqs == [0, 1]


def test_a_full_session_is_drained_from_its_head() -> None:
    """More than stream_queue_frames pending: the loop waits for the oldest before
    it reads on, so a slow session pushes back on the sender."""
    run = Run(
        [HEADER, *(frame(seq) for seq in range(6))], Limits(stream_queue_frames=2), hold=True
    ).join()
    assert run.error is None and run.seqs == list(range(6))
    session = run.sessions[0]
    assert session.drained >= 3 and session.most_pending <= 2


def test_the_readers_failure_surfaces_after_what_came_before() -> None:
    wire = Wire()
    run = Run(wire)
    wire.send(HEADER, frame(0))
    wire.fail(RuntimeError("the wire broke"))
    run.join()
    assert isinstance(run.error, RuntimeError) and str(run.error) == "the wire broke"
    assert run.seqs == [0]
    assert run.sessions[0].closed
    assert run.metric("redactor_streams_active") == 0


def test_the_reader_gives_up_once_nobody_reads() -> None:
    """A reader blocked on a full inbox stops once the call is over."""
    active = threading.Event()
    active.set()
    loop = StreamLoop(
        (frame(seq) for seq in range(100)),
        FakeSession,
        Limits(stream_queue_frames=2),
        Metrics(),
        active=active.is_set,
        stream_id="gives-up",
    )
    with pytest.raises(InvalidInput, match="must be a header, got frame"):
        next(loop.run())

    def reading() -> bool:
        return any(t.name == "read-gives-up" for t in threading.enumerate())

    time.sleep(0.7)
    assert reading()  # blocked on the full inbox, retrying while the call lasts
    active.clear()
    wait_for(lambda: not reading(), timeout=3.0)


def test_stream_slots_limit_streams_per_caller_and_in_all() -> None:
    slots = StreamSlots(Limits(max_streams=3, max_streams_per_caller=2))
    with slots.hold("a"), slots.hold("a"):
        with pytest.raises(LimitExceeded) as e, slots.hold("a"):
            pass
        assert str(e.value) == "limits.max_streams_per_caller = 2 streams are already open for a"
        with slots.hold("b"):
            with pytest.raises(LimitExceeded) as e, slots.hold("c"):
                pass
            assert str(e.value) == "limits.max_streams = 3 streams are already open"
            assert (slots.open(), slots.open("a"), slots.open("b"), slots.open("c")) == (3, 2, 1, 0)
        with slots.hold("c"):  # b's slot is free again
            assert slots.open() == 3
    assert slots.open() == 0 and slots.open("a") == 0


def test_a_stream_slot_is_given_back_when_the_stream_fails() -> None:
    slots = StreamSlots(Limits(max_streams=1))
    with pytest.raises(RuntimeError), slots.hold("a"):
        raise RuntimeError("stream failed")
    with slots.hold("b"):
        assert slots.open("b") == 1
