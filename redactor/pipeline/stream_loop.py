"""A live stream's life, without a transport: header first, then frames in and
outputs out in input order.

The server's stream handler (redactor/server/servicer.py) hands `StreamLoop` the
caller's messages, already domain types (redactor/server/serde.py), and sends what
it yields. The loop:

- reads the messages on a thread of its own into a bounded inbox, so reading never
  waits on processing; when the inbox is full the reader blocks, and the
  transport's flow control pushes back on the sender;
- takes a header first (it opens the session and yields `StreamAccepted`), frames
  after it, and refuses anything else;
- yields outputs in input order, each once its encode is done (a finished encode
  wakes the loop); at most `limits.stream_queue_frames` wait to be sent, and as
  many in the session, beyond which the loop waits for the oldest, so a slow
  encoder or detector pushes back on the sender too;
- ends the stream with `LimitExceeded` when the sender is silent for
  `limits.stream_idle_s` with nothing in flight, and flushes every frame still
  pending when the input ends;
- yields `StreamDraining` once, in its place between outputs, when `drain` is
  called (the server is shutting down: the relay moves the stream elsewhere).

`StreamSlots` counts the open streams against the limits.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import contextmanager
from typing import Protocol

from redactor.config import Limits
from redactor.errors import InvalidInput, LimitExceeded
from redactor.metrics import Metrics
from redactor.pipeline.stream import (
    BadMessage,
    StreamAccepted,
    StreamDraining,
    StreamFrame,
    StreamMessage,
    StreamOutput,
    StreamSpec,
)
from redactor.policy import ResolvedPolicy
from redactor.types import FrameStatus, Label

log = logging.getLogger(__name__)


class Session(Protocol):
    """What the loop needs of a stream's session (redactor.pipeline.live.LiveSession)."""

    @property
    def spec(self) -> StreamSpec: ...
    @property
    def policy(self) -> ResolvedPolicy: ...
    @property
    def stats(self) -> object: ...
    @property
    def pending(self) -> int: ...
    @property
    def has_pending(self) -> bool: ...
    def push(
        self, seq: int, timestamp_us: int, data: bytes, received: float
    ) -> Iterable[StreamOutput]: ...
    def ready(self, block: bool) -> Iterable[StreamOutput]: ...
    def drain_head(self) -> Iterable[StreamOutput]: ...
    def close(self) -> None: ...


class _Wake:
    """Put in the inbox when one of the stream's encodes is done."""


_WAKE = _Wake()
# a message with its arrival time (perf_counter), the reader's failure, a wake-up, or the end
_Item = tuple[StreamMessage, float] | BaseException | _Wake | None


def kind(msg: StreamMessage) -> str:
    """What a message is, as the errors name it."""
    if isinstance(msg, StreamSpec):
        return "header"
    if isinstance(msg, StreamFrame):
        return "frame"
    return msg.kind or "an empty message"


class StreamLoop:
    """One stream from its first message to its last output; `run` yields them.

    `messages` is read on the loop's reader thread; an exception it raises ends the
    stream with that exception, in its place after the messages before it.
    `open_session` makes the session for the header. `active` says whether anyone
    still reads the outputs: a reader blocked on a full inbox gives up once not.
    """

    def __init__(
        self,
        messages: Iterable[StreamMessage],
        open_session: Callable[[StreamSpec], Session],
        limits: Limits,
        metrics: Metrics,
        active: Callable[[], bool] = lambda: True,
        stream_id: str | None = None,
        server: str = "",
    ) -> None:
        self.stream_id = stream_id or uuid.uuid4().hex[:12]
        self.server = server
        self.sent = 0
        self._messages = messages
        self._open_session = open_session
        self._limits = limits
        self._metrics = metrics
        self._active = active
        self._inbox: queue.Queue[_Item] = queue.Queue(maxsize=limits.stream_queue_frames)
        # outputs in input order until their encodes are done and they are yielded
        self._outgoing: deque[StreamOutput] = deque()
        self._started = self._last_message = 0.0
        self._drain: StreamDraining | None = None  # set by drain(), sent once by the loop
        self._drain_sent = False

    def drain(self, grace_s: float) -> None:
        """The server is shutting down: the loop tells the caller to move within `grace_s`."""
        self._drain = StreamDraining(
            grace_s, f"the server is shutting down: move the stream within {grace_s:g} s"
        )
        self._wake(None)

    def run(self) -> Generator[StreamAccepted | StreamOutput | StreamDraining, None, None]:
        """`StreamAccepted` once the header is, then every output in input order.
        Raises the stream's refusal (InvalidInput, LimitExceeded) or the reader's failure."""
        self._metrics.streams.inc()
        session: Session | None = None
        self._started = self._last_message = time.perf_counter()
        try:
            threading.Thread(target=self._read, name=f"read-{self.stream_id}", daemon=True).start()
            spec = self._header()
            if spec is None:
                return
            session = self._open_session(spec)
            yield StreamAccepted(self.stream_id, session.policy.name, self.server)
            yield from self._relay(session)
        finally:
            self._metrics.streams.dec()
            self._metrics.forget_stream(self.stream_id)
            if session is not None:
                session.close()
                log.info(
                    "stream %s (%s → %s) closed: %d frames out, %s",
                    self.stream_id,
                    session.spec.camera_id,
                    session.spec.recipient,
                    self.sent,
                    session.stats,
                )

    def _read(self) -> None:
        """Moves messages into the inbox with their arrival time; None marks the end."""
        try:
            for msg in self._messages:
                while self._active():
                    try:
                        self._inbox.put((msg, time.perf_counter()), timeout=0.5)
                        break
                    except queue.Full:
                        continue
                else:
                    return  # nobody reads the outputs any more
            self._inbox.put(None)
        except BaseException as e:  # noqa: BLE001 - handed to the loop's thread
            self._inbox.put(e)

    def _header(self) -> StreamSpec | None:
        """The first message, which must be a header; None if the input ended first."""
        idle_s = self._limits.stream_idle_s
        try:
            item = self._inbox.get(timeout=idle_s)
        except queue.Empty:
            raise LimitExceeded(f"no header within limits.stream_idle_s = {idle_s:g} s") from None
        if item is None:
            return None
        if isinstance(item, BaseException):
            raise item
        assert not isinstance(item, _Wake)  # no encode before the header
        msg = item[0]
        if isinstance(msg, StreamSpec):
            return msg
        if isinstance(msg, BadMessage) and msg.kind == "header":
            raise msg.error
        raise InvalidInput(f"the first message of a stream must be a header, got {kind(msg)}")

    def _frame(self, msg: StreamMessage) -> StreamFrame:
        """`msg` as a frame, counted in: after the header a stream takes nothing else."""
        if isinstance(msg, StreamFrame):
            self._metrics.frames_in.labels("stream").inc()
            return msg
        if isinstance(msg, BadMessage) and msg.kind == "frame":
            self._metrics.frames_in.labels(
                "stream"
            ).inc()  # a frame all the same, if not a valid one
            raise msg.error
        raise InvalidInput(f"after the header a stream takes frames, got {kind(msg)}")

    def _relay(self, session: Session) -> Iterator[StreamOutput | StreamDraining]:
        """Frames into the session and its outputs out, until the input ends."""
        lim = self._limits
        idle_s = lim.stream_idle_s
        while True:
            if self._drain is not None and not self._drain_sent:
                self._drain_sent = True
                yield self._drain
            if len(self._outgoing) >= lim.stream_queue_frames:
                self._outgoing[0].settle()
                yield from self._respond(())
                continue
            if session.pending >= lim.stream_queue_frames:
                yield from self._respond(session.drain_head())
                continue
            idle = time.perf_counter() - self._last_message
            busy = session.has_pending or bool(self._outgoing)
            outs: Iterable[StreamOutput]
            try:
                # while frames are pending, look again soon: their detections finish unannounced
                item = self._inbox.get(
                    timeout=0.01 if session.has_pending else max(idle_s - idle, 0)
                )
            except queue.Empty:
                if not busy and time.perf_counter() - self._last_message >= idle_s:
                    raise LimitExceeded(
                        f"no message for limits.stream_idle_s = {idle_s:g} s"
                    ) from None
                outs = list(session.ready(block=False))
            else:
                if isinstance(item, _Wake):
                    yield from self._respond(session.ready(block=False))
                    continue
                self._last_message = time.perf_counter()
                if item is None:
                    break
                if isinstance(item, BaseException):
                    raise item
                msg, received = item
                frame = self._frame(msg)
                outs = session.push(frame.seq, frame.timestamp_us, frame.data, received)
            yield from self._respond(outs)
        yield from self._respond(session.ready(block=True), wait=True)

    def _respond(self, outs: Iterable[StreamOutput], wait: bool = False) -> Iterator[StreamOutput]:
        """Queues `outs`, then yields what is encoded from the head (with `wait`, all)."""
        for out in outs:
            self._outgoing.append(out)
            if out.encoding is not None:
                out.encoding.add_done_callback(self._wake)
        while self._outgoing and (wait or self._outgoing[0].encoded()):
            out = self._outgoing.popleft().settle()
            self.sent += 1
            self._count(out)
            yield out

    def _wake(self, _: object) -> None:
        """An encode finished: the loop may send it."""
        try:
            self._inbox.put_nowait(_WAKE)
        except queue.Full:  # input is waiting: the loop runs anyway
            pass

    def _count(self, out: StreamOutput) -> None:
        m, sid = self._metrics, self.stream_id
        m.frames_out.labels("stream", out.status.name).inc()
        if out.status == FrameStatus.DROPPED:
            m.dropped.labels(sid).inc()
        m.stream_latency.labels(sid).observe(out.service_ms / 1000)
        m.latency.labels("stream").observe(out.service_ms / 1000)
        for label in out.detections.labels:
            m.detections.labels(Label(int(label)).name.lower()).inc()
        elapsed = time.perf_counter() - self._started
        if elapsed > 0:
            m.stream_fps.labels(sid).set(self.sent / elapsed)


class StreamSlots:
    """Open streams, per caller and in all, within `limits.max_streams_per_caller` and
    `limits.max_streams`. A stream takes its slot before its header arrives: one that
    never sends it still holds a handler thread, and must not be able to take them all."""

    def __init__(self, limits: Limits) -> None:
        self._limits = limits
        self._lock = threading.Lock()
        self._open: dict[str, int] = {}  # open streams per caller

    def open(self, caller: str | None = None) -> int:
        """Streams open for `caller`, or in all."""
        with self._lock:
            return sum(self._open.values()) if caller is None else self._open.get(caller, 0)

    @contextmanager
    def hold(self, caller: str) -> Iterator[None]:
        """A slot for `caller` while the block runs; LimitExceeded if none is free."""
        self._take(caller)
        try:
            yield
        finally:
            self._give_back(caller)

    def _take(self, caller: str) -> None:
        lim = self._limits
        with self._lock:
            if sum(self._open.values()) >= lim.max_streams:
                raise LimitExceeded(
                    f"limits.max_streams = {lim.max_streams} streams are already open"
                )
            if self._open.get(caller, 0) >= lim.max_streams_per_caller:
                raise LimitExceeded(
                    f"limits.max_streams_per_caller = {lim.max_streams_per_caller} "
                    f"streams are already open for {caller}"
                )
            self._open[caller] = self._open.get(caller, 0) + 1

    def _give_back(self, caller: str) -> None:
        with self._lock:
            self._open[caller] -= 1
            if not self._open[caller]:
                del self._open[caller]
