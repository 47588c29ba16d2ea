"""Which live streams this server takes: by capacity, not count, and none while draining.

Every server is an identical, stateless replica; the relay hub's client spreads cameras over
them (gRPC round_robin) and moves a stream whose server refuses it or goes away. A server
knows what it can carry: `limits.capacity_mpx_s`, the megapixels per second of live video it
redacts within the latency budget on its hardware (measured by `python -m bench.capacity`).
A stream is charged width x height x fps from its header (a header without them as a 1080p
25 fps camera, the largest the center has), plus `limits.stream_overhead_mpx_s` for the
work per stream that does not grow with its pixels, and is refused at the header,
RESOURCE_EXHAUSTED with the server's load in the message, when it would not fit. While draining (SIGTERM)
every new stream is refused with UNAVAILABLE and every open one is told to move.

`on_change(serving)` reports whether the server takes streams (not full, not draining), so
the gRPC health service says NOT_SERVING when it does not: a headless Service's readiness
and the relays' balancing then leave it alone.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from redactor.config import Limits
from redactor.errors import Draining, LimitExceeded
from redactor.pipeline.stream import StreamSpec

log = logging.getLogger(__name__)

UNSIZED = (1920, 1080, 25.0)  # what a header without size or rate is charged as


def stream_mpx_s(spec: StreamSpec) -> float:
    """The megapixels per second a stream asks of the server."""
    w, h, fps = spec.width, spec.height, spec.fps
    if not (w and h):
        w, h = UNSIZED[0], UNSIZED[1]
    if not fps or fps <= 0:
        fps = UNSIZED[2]
    return w * h * fps / 1e6


@dataclass(frozen=True, slots=True)
class Load:
    streams: int
    mpx_s: float
    capacity_mpx_s: float  # 0: by count only
    draining: bool

    @property
    def free_mpx_s(self) -> float:
        return max(self.capacity_mpx_s - self.mpx_s, 0.0) if self.capacity_mpx_s else float("inf")

    def describe(self) -> str:
        cap = f" of {self.capacity_mpx_s:.1f}" if self.capacity_mpx_s else ""
        return f"{self.streams} streams, {self.mpx_s:.1f}{cap} Mpx/s"


class Admission:
    def __init__(self, limits: Limits, on_change: Callable[[bool], None] | None = None) -> None:
        self._limits = limits
        self._on_change = on_change
        self._lock = threading.Lock()
        self._streams: dict[int, tuple[float, Callable[[float], None]]] = {}
        self._next = 0
        self._draining = False
        self._drain_s = 0.0
        self._serving = True

    def load(self) -> Load:
        with self._lock:
            return self._load()

    def _load(self) -> Load:
        return Load(
            len(self._streams),
            sum(m for m, _ in self._streams.values()),
            self._limits.capacity_mpx_s,
            self._draining,
        )

    @property
    def draining(self) -> bool:
        return self._draining

    @contextmanager
    def stream(self, spec: StreamSpec, on_drain: Callable[[float], None]) -> Iterator[float]:
        """Admits a stream for the block's length (its charge, Mpx/s), or refuses it:
        Draining while the server drains, LimitExceeded when it would not fit.
        `on_drain(grace_s)` is called if the server starts draining while it runs."""
        need = stream_mpx_s(spec) + self._limits.stream_overhead_mpx_s
        with self._lock:
            load = self._load()
            if self._draining:
                raise Draining(
                    f"this server is draining (shutting down): open the stream on another "
                    f"server; it carries {load.describe()}"
                )
            cap = self._limits.capacity_mpx_s
            if cap and load.mpx_s + need > cap:
                raise LimitExceeded(
                    f"this server is full: it carries {load.describe()} "
                    f"(limits.capacity_mpx_s), and a {_size(spec)} stream needs {need:.1f} "
                    "more; open it on another server"
                )
            key = self._next
            self._next += 1
            self._streams[key] = (need, on_drain)
            self._changed()
        try:
            yield need
        finally:
            with self._lock:
                del self._streams[key]
                self._changed()

    def drain(self, grace_s: float) -> int:
        """Stops taking streams and tells every open one to move within `grace_s`; returns
        how many were told."""
        with self._lock:
            self._draining = True
            self._drain_s = grace_s
            listeners = [cb for _, cb in self._streams.values()]
            self._changed()
        for tell in listeners:
            try:
                tell(grace_s)
            except Exception:  # noqa: BLE001 - one stream's failure must not stop the drain
                log.exception("telling a stream to move failed")
        log.info("draining: %d streams told to move within %.0f s", len(listeners), grace_s)
        return len(listeners)

    def _changed(self) -> None:
        """Under the lock: reports a change of serving (not full, not draining)."""
        load = self._load()
        serving = not load.draining and load.free_mpx_s >= self._limits.full_below_mpx_s
        serving = serving and load.streams < self._limits.max_streams
        if serving != self._serving:
            self._serving = serving
            if self._on_change is not None:
                self._on_change(serving)


def _size(spec: StreamSpec) -> str:
    if spec.width and spec.height:
        rate = f" {spec.fps:g} fps" if spec.fps else " (rate unknown: 25 fps)"
        return f"{spec.width}x{spec.height}{rate}"
    return "(size not in the header: charged as 1920x1080 25 fps)"
