"""Concurrent live streams against one server: how many cameras fit, with what delay.

Each level runs N cameras at once, each sending the same clip as low-latency
H.264 at the clip's own frame rate (the access units are encoded once, before
the run, so the benchmark's own encoding never competes with the server for
CPU). Cameras start a fraction of a frame apart, as real cameras are not in
phase. Latency is measured per frame from send to receive on loopback.

Leaks (full run): the `thorough` profile runs frame by frame on the same frames
first (bench.live's reference); on every stream, a reference face or plate that
the live masks of its frame cover less than 80% is a leak (bench.live's rule).

A level is "served" when, after each stream's first redacted frame, at most
LOST_AFTER_START of its frames came back fully masked or dropped by the overload
rule (a stream's first frames are fully masked by design until the first sweep has
seen its still ground: that is the fail-closed start, not overload), p99 latency is
within the policy's latency budget, and every stream kept at least FPS_KEPT of the
source rate.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bench.live import BUDGET_MS
from bench.live import leaks as live_leaks
from bench.live import reference as live_reference
from bench.server import ServerProcess
from redactor.clients.client import OutFrame, RedactorClient
from redactor.clients.relay import camera_access_units
from redactor.v1 import redactor_pb2 as pb

RECIPIENT = "police-112"  # routed to the default live policy
FPS_KEPT = 0.9  # share of the source rate a stream must keep to count as served
LOST_AFTER_START = 0.005  # share of frames fully masked or dropped after a stream's start
WARMUP_FRAMES = 10  # one stream before each size, not measured (first inferences, allocations)
SIZES = {"720p": (1280, 720), "1080p": (1920, 1080)}


@dataclass
class StreamRun:
    latencies_ms: list[float] = field(default_factory=list)
    statuses: dict[str, int] = field(default_factory=dict)
    frames_in: int = 0
    frames_out: int = 0
    first_out: float = 0.0  # perf_counter times of the first and last frame back
    last_out: float = 0.0
    masks: dict[int, list[tuple[float, float, float, float]]] = field(default_factory=dict)
    first_redacted: int | None = None  # the stream's start-up ends at its first redacted frame
    lost_after_start: int = 0  # fully masked or dropped after it: the service falling behind

    @property
    def fps(self) -> float:
        """Frames back per second, first to last: the sustained rate, which the latency
        of the first frame does not dilute (a short run would otherwise read low)."""
        span = self.last_out - self.first_out
        return (self.frames_out - 1) / span if self.frames_out > 1 and span > 0 else 0.0


def encode(
    clip: Path, size: tuple[int, int], frames: int
) -> tuple[float, list[tuple[int, int, bytes]]]:
    """The clip as a camera sends it (redactor-relay's encoder): fps and (seq, ts_us, access unit)."""
    fps, units = camera_access_units(str(clip), size, frames)
    return fps, list(units)


def play(
    address: str,
    camera: str,
    fps: float,
    units: list[tuple[int, int, bytes]],
    start: float,
    size: tuple[int, int] = (0, 0),
) -> StreamRun:
    """Sends `units` at `fps` from `start` (perf_counter time) and collects what comes back."""
    run = StreamRun()
    sent_at: dict[int, float] = {}
    lock = threading.Lock()

    def frames() -> Iterator[OutFrame]:
        for seq, ts, au in units:
            delay = start + seq / fps - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            with lock:
                sent_at[seq] = time.perf_counter()
                run.frames_in += 1
            yield OutFrame(seq, ts, au)

    header = pb.StreamHeader(
        camera_id=camera,
        recipient=RECIPIENT,
        format=pb.PIXEL_FORMAT_H264,
        width=size[0],  # a server admits streams by pixel rate (limits.capacity_mpx_s)
        height=size[1],
        fps=fps,
        latency_budget_ms=BUDGET_MS,
    )
    with RedactorClient(address) as client:
        for f in client.stream(header, frames()):
            now = time.perf_counter()
            with lock:
                sent = sent_at.pop(f.seq, now)
            run.latencies_ms.append((now - sent) * 1000)
            run.first_out = run.first_out or now
            run.last_out = now
            run.frames_out += 1
            name = pb.FrameStatus.Name(f.status).removeprefix("FRAME_STATUS_")
            run.statuses[name] = run.statuses.get(name, 0) + 1
            if name == "REDACTED":
                if run.first_redacted is None:
                    run.first_redacted = f.seq
            elif run.first_redacted is not None:
                run.lost_after_start += 1
            run.masks[f.seq] = [(m.box.x0, m.box.y0, m.box.x1, m.box.y1) for m in f.masks]
    return run


def level(
    server: ServerProcess,
    fps: float,
    units: list[tuple[int, int, bytes]],
    n: int,
    budget_ms: float,
    size: tuple[int, int],
    ref: list[npt.NDArray[np.float32]] | None,
) -> dict[str, Any]:
    """N cameras at once; figures of the level, with every latency for the plots."""
    runs: list[StreamRun | None] = [None] * n
    errors: list[BaseException] = []
    start = time.perf_counter() + 0.5  # every thread is ready before the first frame

    def one(i: int) -> None:
        try:
            runs[i] = play(server.address, f"bench-{i}", fps, units, start + i / (n * fps), size)
        except BaseException as e:  # noqa: BLE001 - re-raised below, in the caller's thread
            errors.append(e)

    threads = [threading.Thread(target=one, args=(i,), name=f"camera-{i}") for i in range(n)]
    with server.window() as window:
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    if errors:
        raise errors[0]
    done = [r for r in runs if r is not None]
    lat = np.concatenate([np.asarray(r.latencies_ms) for r in done]) if done else np.zeros(0)
    statuses: dict[str, int] = {}
    for r in done:
        for k, v in r.statuses.items():
            statuses[k] = statuses.get(k, 0) + v
    frames_in = sum(r.frames_in for r in done)
    redacted = statuses.get("REDACTED", 0)
    fps_each = [r.fps for r in done]
    pct = {q: float(np.percentile(lat, q)) if len(lat) else float("nan") for q in (50, 95, 99)}
    objects = missed = 0
    if ref is not None:
        for r in done:
            o, m = live_leaks(ref, r.masks, *size)
            objects, missed = objects + o, missed + m
    lost_after_start = sum(r.lost_after_start for r in done)
    never_redacted = any(r.first_redacted is None for r in done)
    served = (
        not never_redacted
        and lost_after_start <= LOST_AFTER_START * frames_in
        and frames_in > 0
        and pct[99] <= budget_ms
        and min(fps_each) >= FPS_KEPT * fps
    )
    return {
        "streams": n,
        "frames_per_stream": len(units),
        "fps_source": fps,
        "fps_per_stream_min": min(fps_each),
        "fps_per_stream_mean": float(np.mean(fps_each)),
        "p50_ms": pct[50],
        "p95_ms": pct[95],
        "p99_ms": pct[99],
        "max_ms": float(lat.max()) if len(lat) else float("nan"),
        "frames_in": frames_in,
        "frames_out": sum(r.frames_out for r in done),
        "statuses": statuses,
        "redacted_share": redacted / frames_in if frames_in else 0.0,
        "lost_after_start": lost_after_start,
        "start_frames": sum(r.first_redacted or 0 for r in done),  # fully masked at the starts
        "served": served,
        "reference_objects": objects if ref is not None else None,
        "leaks": missed if ref is not None else None,
        "leak_rate": (missed / objects if objects else 0.0) if ref is not None else None,
        **window.result,
        "latencies_ms": [round(float(v), 1) for v in lat],
    }


def sweep(
    server: ServerProcess,
    clip: Path,
    size_name: str,
    counts: list[int],
    frames: int,
    leaks: bool,
    on_level: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Every stream count for one frame size (all of them, served or not)."""
    budget = float(BUDGET_MS)
    size = SIZES[size_name]
    if leaks and on_level:
        on_level(f"{size_name} thorough reference")
    ref = live_reference(str(clip), size, frames, offline=False).boxes if leaks else None
    fps, units = encode(clip, size, frames)
    warm = units[:WARMUP_FRAMES]
    play(server.address, "bench-warmup", fps, warm, time.perf_counter(), size)
    levels: list[dict[str, Any]] = []
    for n in counts:
        if on_level:
            on_level(f"{size_name} x{n}")
        levels.append(level(server, fps, units, n, budget, size, ref))
    served = [lv["streams"] for lv in levels if lv["served"]]
    ok = 0  # the largest count served with every smaller count served too
    for lv in levels:
        if not lv["served"]:
            break
        ok = lv["streams"]
    return {
        "clip": clip.name,
        "size": size_name,
        "fps_source": fps,
        "frames_per_stream": len(units),
        "latency_budget_ms": budget,
        "levels": levels,
        "served_counts": served,
        "max_streams_served": ok,
        "tested_up_to": max(counts) if counts else 0,
    }
