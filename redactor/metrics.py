"""Prometheus metrics, one registry per server (so tests can run several servers)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

_LATENCY_BUCKETS = (0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.15, 0.2, 0.3, 0.5, 1.0, 2.0, 5.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.frames_in = Counter("redactor_frames_in", "frames received", ["kind"], registry=r)
        self.frames_out = Counter(
            "redactor_frames_out", "frames sent, by status", ["kind", "status"], registry=r
        )
        self.fail_closed = Counter(
            "redactor_frames_fully_masked_for_safety",
            "frames masked entirely because detection, masking or timing failed",
            ["reason"],
            registry=r,
        )
        self.dropped = Counter(
            "redactor_frames_dropped", "frames dropped on overload", ["stream"], registry=r
        )
        self.detections = Counter("redactor_detections", "objects detected", ["label"], registry=r)
        self.latency = Histogram(
            "redactor_frame_latency_seconds",
            "time inside the service per frame",
            ["kind"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.stream_latency = Histogram(
            "redactor_stream_frame_latency_seconds",
            "per-stream time inside the service",
            ["stream"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )
        self.stream_fps = Gauge(
            "redactor_stream_fps", "frames per second sent, per stream", ["stream"], registry=r
        )
        self.streams = Gauge("redactor_streams_active", "live streams open", registry=r)
        self.sweeps = Counter(
            "redactor_sweeps",
            "thorough sweeps of live streams' still ground, by outcome",
            ["outcome"],
            registry=r,
        )
        # looked / moving: where the share falls, looks no longer fit the machine's CPU and
        # more of each moving blob is masked (the full band).
        self.live_moving = Counter(
            "redactor_live_frames_moving",
            "live frames redacted (past the start's coarse mosaic) on which something moved",
            registry=r,
        )
        self.live_looked = Counter(
            "redactor_live_frames_looked",
            "live frames masked with their own look at where they moved (live.look)",
            registry=r,
        )
        # where whole regions would not be done in time (docs/tuning.md#head-looks)
        self.live_head_looks = Counter(
            "redactor_live_head_looks",
            "live looks at the top of each moving blob only (live.look.head_depth)",
            registry=r,
        )
        # of a camera streamed before or now: their start shows what that stream swept
        self.live_recalled = Counter(
            "redactor_live_streams_recalled",
            "live streams that started from their camera's still ground as another stream "
            "kept it (live.sweep.remember_s)",
            registry=r,
        )
        self.sweep_seconds = Histogram(
            "redactor_sweep_seconds",
            "time one sweep took",
            registry=r,
            buckets=(0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0),
        )

        self.cases_overdue = Gauge(
            "redactor_cases_overdue",
            "provision and access requests past the law's deadline and still unanswered",
            registry=r,
        )

    def sweep_done(self, ok: bool, seconds: float) -> None:
        self.sweeps.labels("ok" if ok else "failed").inc()
        self.sweep_seconds.observe(seconds)

    def forget_stream(self, stream_id: str) -> None:
        """Drops a closed stream's own series: ids are random, so keeping them would grow
        the registry (and every scrape) for the server's whole life. The totals stay in
        the per-kind series."""
        for metric in (self.dropped, self.stream_latency, self.stream_fps):
            try:
                metric.remove(stream_id)
            except KeyError:  # this stream never set it (no drops, say)
                pass

    def fail_closed_reason(self, reason: str) -> None:
        # the label is the exception class only, to bound cardinality
        self.fail_closed.labels(reason.split(":", 1)[0][:40]).inc()
