"""A live stream, in order, with detection running beside it.

A frame is masked from three sources, each covering what the others miss:

- motion (pipeline/motion.py): the cameras are fixed, so a background model fed
  every frame says what moved on that very frame; the top share of each moving
  blob (policy `motion_cover`: where a walker's head is) is masked on it. No
  detector runs for this, so it never falls behind the picture;
- detections, tracked: detection is slower than a camera's frame interval, so it
  runs in a worker thread on the newest frame whenever it is free, and on any
  frame that comes `detect_interval_ms` of video time after the last detected one,
  even if it must wait its turn (a file pushed faster than real time) ("detect
  frames"); while detections take longer than a frame may wait for them, a new
  one cancels those not yet started, so a slow detector looks at new frames
  rather than a growing backlog. Each detection looks at the whole frame with
  the policy's profile and closer (the `roi` profile) at the regions that moved:
  small faces far from the camera are found without paying for the whole frame
  at that scale;
- still ground (pipeline/sweep.py): now and then the server's one sweep thread
  looks at a frame with the thorough profile; what it finds where nothing moved
  stays masked on later frames.

Frames are emitted strictly in input order:

- a detect frame waits for its own detections, at most `detection_wait_share` of
  the latency budget (not at all while detections typically take longer), then
  the tracker folds them in;
- every other frame, and a detect frame whose detection is still running after
  that wait, is masked from the tracks predicted to its time (Tracker.peek, whose
  uncertainty margin reaches further than between detections); a detection that
  finishes late moves the tracks at its own frame's time, so later frames see it;
- a frame that has waited longer than the latency budget is handled by the
  policy's overload rule: sent fully masked, or dropped (and said so), as is a
  frame that has nothing recent to predict from while its detection runs;
- after a detection failure (late ones included), frames stay fully masked until
  a detection succeeds again: predictions from before a failure are not trusted;
  likewise after a failed sweep, until one succeeds, before a stream's first
  sweep is done (`live.sweep.wait_first`), and on a frame the motion model failed on.

So every frame leaves masked from detections at most `max_detection_age_ms` old,
fully masked, or not at all. Latency is the wait plus coding: a 1080p detection
(~300 ms on two cores) no longer sets it; the encode runs on the stream's encode
thread (pipeline/stream.py) while the next frames are decoded and masked.
Detection threads run at a lower CPU priority (redactor/detect/threads.py), so
decode, masking and encode keep pace with the camera while detection takes what
the cores have left.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

import cv2
import numpy as np

from redactor.boxes import merge_union
from redactor.config import Limits
from redactor.detect.base import Detector
from redactor.detect.threads import lower_priority
from redactor.errors import InvalidDetections
from redactor.pipeline.engine import Engine
from redactor.pipeline.frame import Redacted
from redactor.pipeline.motion import Box, Motion, MotionModel, fit_scale
from redactor.pipeline.stream import StreamOutput, StreamSession, StreamSpec
from redactor.pipeline.sweep import StillMasks
from redactor.track import TrackedFrame, Tracker, TrackerParams
from redactor.types import Detections, Frame, FrameStatus, MaskReason

log = logging.getLogger(__name__)

MERGE_IOU = 0.5  # region and whole-frame boxes of one object merge above this overlap


@dataclass(slots=True)
class _Pending:
    frame: Frame
    received: float  # perf_counter when the request arrived
    detection: Future[Detections] | None  # set on detect frames
    motion: Motion | None  # what moved on it; None: the motion model failed on it
    starved: bool = False  # due for detection, but too many detections were unfinished


class LiveSession(StreamSession):
    """StreamSession plus tracking, concurrent detection and the overload rule."""

    def __init__(self, engine: Engine, spec: StreamSpec, limits: Limits) -> None:
        super().__init__(engine, spec, limits)
        policy = self.policy.policy
        self.budget_s = (spec.latency_budget_ms or limits.latency_budget_ms) / 1000
        # how long a detect frame waits for its own detection; after that it goes out
        # masked from the tracks (and the detection, once done, moves them)
        self.wait_s = self.budget_s * limits.detection_wait_share
        self.tracker = Tracker(TrackerParams(hold_s=policy.hold_s))
        nice = (engine.config.detect.nice,)  # detection yields the CPU to the frame path
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="detect", initializer=lower_priority, initargs=nice)
        # the closer look at moving regions runs beside the whole-frame pass: a detection
        # then takes the longer of the two, not their sum (the latency a frame waits)
        self._roi_pool = ThreadPoolExecutor(1, thread_name_prefix="detect-roi", initializer=lower_priority,
                                            initargs=nice)
        self._in_flight: Future[Detections] | None = None
        self._queued: deque[_Pending] = deque()  # frames whose detections are unfinished
        # Detections submitted and not finished. A wedged detector finishes none, so
        # without this cap every due frame would queue a frame copy for good.
        self._unfinished = 0
        self._max_unfinished = limits.stream_queue_frames
        self._unfinished_lock = threading.Lock()
        self._took_s: float | None = None  # recent detection time, submit to done (moving average)
        self._pending: deque[_Pending] = deque()
        motion = engine.config.live.motion
        self._motion = MotionModel(motion) if motion.enabled else None
        self._roi_detector = engine.detectors[motion.profile] if motion.enabled else None
        self._cover = policy.motion_cover  # share of each moving blob masked, from its top
        self._still = (StillMasks(engine.sweeper, engine.config.live.sweep)
                       if engine.sweeper is not None else None)
        self._healthy = True  # False after a failed detection, until one succeeds
        self._last_detected_us: int | None = None  # timestamp of the newest detections folded in
        self._max_age_us = limits.max_detection_age_ms * 1000
        self._interval_us = limits.detect_interval_ms * 1000
        self._last_submitted_us: int | None = None
        self._late: deque[tuple[Future[Detections], int]] = deque()  # detections of late frames
        # frames masked from their own detection / from the tracks; detections folded in
        # after their frame went out; frames fully masked; frames dropped
        self.stats = {"detected": 0, "tracked": 0, "late_detections": 0, "fully_masked": 0, "dropped": 0}

    @property
    def has_pending(self) -> bool:
        return bool(self._pending)

    @property
    def pending(self) -> int:
        return len(self._pending)

    def drain_head(self) -> list[StreamOutput]:
        """Waits (within the budget) for the oldest frame, emits it and whatever follows ready.

        Called when too many frames are pending, so a sender faster than the
        service is slowed by flow control instead of filling memory."""
        if not self._pending:
            return []
        self._wait_for_head()
        return [self._emit(self._pending.popleft()), *self.ready(block=False)]

    # ---- input -------------------------------------------------------------------------

    def push(self, seq: int, timestamp_us: int, data: bytes, received: float) -> list[StreamOutput]:
        """Takes one input frame; returns the outputs that became ready (in order)."""
        frames = self.decode(seq, timestamp_us, data)
        out: list[StreamOutput] = []
        if not frames:
            out.append(StreamOutput(seq, timestamp_us, FrameStatus.DROPPED,
                                    "no picture in this access unit yet (decoder buffering)"))
        for f in frames:
            motion = self._observe(f)
            if self._still is not None and motion is not None:
                self._still.offer(f, motion)
            det = None
            due = (self._last_submitted_us is None
                   or f.timestamp_us - self._last_submitted_us >= self._interval_us
                   or f.timestamp_us < self._last_submitted_us)  # clock went back: start afresh
            # While the stream's first sweep runs, frames wait for it and then go out fully
            # masked (live.sweep.wait_first): after the first frame's detection, the CPU
            # goes to that sweep, not to detections no frame would use (it takes 3-5 s
            # at 1080p on two cores alone, 11 s beside continuous detection).
            wanted = ((due or self._in_flight is None or self._in_flight.done())
                      and (self._last_submitted_us is None or self._first_sweep() is None))
            if wanted:
                self._drop_stale_queued()
            starved = self._unfinished >= self._max_unfinished
            if wanted and not starved:
                self._last_submitted_us = f.timestamp_us
                bgr = f.to_bgr().copy()  # the worker must not see pixels being masked
                regions = motion.regions(self._motion.cfg, f.width, f.height) if (
                    self._motion is not None and motion is not None and motion.trusted) else []
                det = self._pool.submit(self._detect, Frame.from_bgr(bgr), regions)
                with self._unfinished_lock:
                    self._unfinished += 1
                submitted = time.perf_counter()
                det.add_done_callback(partial(self._finished, submitted=submitted))
                self._in_flight = det
            self._pending.append(_Pending(f, received, det, motion, due and starved))
            if det is not None:
                self._queued.append(self._pending[-1])
        out += list(self.ready(block=False))
        return out

    def _first_sweep(self) -> Future[Detections] | None:
        """The stream's first sweep while frames wait for it (live.sweep.wait_first) and it runs."""
        if self._still is None or not self._still.cfg.wait_first:
            return None
        return self._still.first_running()

    def _observe(self, f: Frame) -> Motion | None:
        """What moved on `f` (the model learns from every frame, in order); None if the
        model failed, which fails the frame closed."""
        if self._motion is None:
            return Motion.none()
        try:
            return self._motion.update(f)
        except Exception:  # noqa: BLE001
            log.exception("frame %d: motion model failed", f.seq)
            return None

    def _detect(self, frame: Frame, regions: list[Box]) -> Detections:
        """The detection job (on the worker thread, frames in order): the whole frame
        with the policy's profile, plus a closer look at the regions that moved."""
        if self._motion is None or self._roi_detector is None:
            return self.redactor.detect(frame)
        bgr = frame.planes[0]
        m = self._motion.cfg
        closer = self._roi_pool.submit(look_closer, self._roi_detector, bgr, regions, m.max_region_px,
                                       m.region_width) if regions else None
        found = self.redactor.detect(frame)
        parts = closer.result() if closer is not None else []  # its failure fails the detection too
        return merge_union(Detections.concat([found, *parts]), MERGE_IOU).clipped(frame.width, frame.height)

    def _drop_stale_queued(self) -> None:
        """Before a detection is submitted: cancels the stream's detections that have not
        started, while frames do not wait for their own detections (detections take longer
        than the wait): those would only move the tracks once done, which a detection of a
        newer frame does better.
        Otherwise a detector slower than `detect_interval_ms` queues detections of ever
        older frames (4 streams of 720p on 2 cores: detections 1.1 s old at the start,
        3.4 s after 20 s, nearly every frame fully masked). Where frames do wait for their
        detections (a file pushed faster than real time, a fast detector), all are kept."""
        cancel = self._wait_limit() <= 0
        left: deque[_Pending] = deque()
        for q in self._queued:
            d = q.detection
            if d is None or d.done():
                continue
            if cancel and d.cancel():  # not started: its frame goes (or went) out masked from the tracks
                q.detection = None
                continue
            left.append(q)  # running, or kept
        self._queued = left

    def _finished(self, fut: Future[Detections], submitted: float) -> None:
        took = time.perf_counter() - submitted
        with self._unfinished_lock:  # runs on the detect thread (or here, when cancelled)
            self._unfinished -= 1
            if fut.cancelled():
                return
            self._took_s = took if self._took_s is None else 0.7 * self._took_s + 0.3 * took

    def _wait_limit(self) -> float:
        """How long the head may wait for its own detection: its share of the budget
        while detections finish within it, none once they typically take longer
        (1080p on two cores): waiting would then only add latency."""
        took = self._took_s
        return self.wait_s if took is None or took <= self.wait_s else 0.0

    def ready(self, block: bool) -> Iterator[StreamOutput]:
        """Emits frames from the head while they can go; with `block`, waits for all."""
        while self._pending:
            head = self._pending[0]
            if not block and self._head_waiting(head):
                return
            self._wait_for_head()
            yield self._emit(self._pending.popleft())

    def _head_waiting(self, head: _Pending) -> bool:
        """The head awaits its detection, or the stream's first sweep, and may still wait."""
        waited = time.perf_counter() - head.received
        return ((head.detection is not None and not head.detection.done() and waited < self._wait_limit())
                or (self._first_sweep() is not None and waited < self.wait_s))

    def _wait_for_head(self) -> None:
        """Waits for the head's detection, at most its share of the latency budget, and
        for the stream's first sweep (wait_first) within the same share; timeouts and
        failures are handled by _emit."""
        head = self._pending[0]
        for job, limit in ((head.detection, self._wait_limit()), (self._first_sweep(), self.wait_s)):
            if job is not None and not job.done():
                try:
                    job.result(timeout=max(limit - (time.perf_counter() - head.received), 0))
                except Exception:  # noqa: BLE001
                    pass

    def _emit(self, p: _Pending) -> StreamOutput:
        f = p.frame
        self._fold_late()
        over_budget = time.perf_counter() - p.received > self.budget_s
        own = p.detection
        if own is not None and (over_budget or not own.done()):
            # not used on its own frame: it moves the tracks once done (and its failure,
            # if it fails, fails the frames after it closed)
            self._late.append((own, f.timestamp_us))
            own = None
        if p.starved:
            return self._overload(p, f"{self._max_unfinished} detections are still unfinished "
                                     "(limits.stream_queue_frames)")
        if over_budget:
            return self._overload(p, f"frame waited longer than the latency budget ({self.budget_s * 1000:.0f} ms)")
        if own is not None:
            error = own.exception()
            if error is not None:
                self._healthy = False
                reason = f"detection failed: {type(error).__name__}: {error}"
                return self._finish(self._fail_closed(f, reason), p.received)
            self._healthy = True
            self._last_detected_us = f.timestamp_us
            if self._still is not None:
                self._still.sweeper.pressure.report(id(self), False)
            tracked = self.tracker.update(own.result(), f.timestamp_us)
            self.stats["detected"] += 1
        else:
            if not self._healthy:
                return self._finish(self._fail_closed(f, "the last detection failed"), p.received)
            age = None if self._last_detected_us is None else f.timestamp_us - self._last_detected_us
            if self._still is not None:  # half the age limit gone: sweeps wait for detection
                # (not while this stream's detection itself waits for its first sweep)
                behind = age is not None and age > self._max_age_us // 2 and self._first_sweep() is None
                self._still.sweeper.pressure.report(id(self), behind)
            if age is None or age > self._max_age_us:
                why = "no detection yet" if age is None else f"newest detection is {age / 1000:.0f} ms old"
                if p.detection is not None:  # its own detection still running: behind, the overload rule
                    return self._overload(p, f"detection still running and {why}")
                return self._finish(self._fail_closed(f, why), p.received)
            tracked = self.tracker.peek(f.timestamp_us)
            self.stats["tracked"] += 1
        return self._redact(p, tracked)

    def _redact(self, p: _Pending, tracked: TrackedFrame) -> StreamOutput:
        """Masks the frame from its tracks, the sweeps' still boxes and what moved on it;
        fully, where either of the last two is not known."""
        f = p.frame
        if p.motion is None:
            return self._finish(self._fail_closed(f, "the motion model failed on this frame"), p.received)
        dets, reasons = tracked.detections, tracked.reasons
        if self._still is not None:
            self._still.collect()
            if self._still.failed is not None:  # what stands still is not known: nothing passes
                return self._finish(self._fail_closed(f, self._still.failed), p.received)
            if self._still.sweeps == 0 and self._still.cfg.wait_first:  # ... nor before the first one
                return self._finish(self._fail_closed(f, "the stream's first sweep of still ground is not done"),
                                    p.received)
            still = self._still.held(p.motion, f.timestamp_us)
            if len(still):  # track id 0: not tracked
                still = Detections(still.boxes, still.scores, still.labels, np.zeros(len(still), np.int64))
                dets = Detections.concat([dets, still])
                reasons = np.concatenate([reasons, np.full(len(still), int(MaskReason.STILL), np.int8)])
        moving = None
        if self._motion is not None:
            m = self._motion.cfg
            moving = p.motion.masks(self._cover, m.mask_margin, m.mask_margin_px)
        r = self.redactor.redact(f, dets, reasons, moving)
        if r.status == FrameStatus.FULLY_MASKED:
            self.stats["fully_masked"] += 1
        return self._finish(r, p.received)

    def _fold_late(self) -> None:
        """Detections of frames that went out late still inform the tracker once done."""
        while self._late and self._late[0][0].done():
            fut, ts = self._late.popleft()
            if fut.cancelled():  # replaced by a newer frame's detection (_drop_stale_queued)
                continue
            if fut.exception() is not None:
                self._healthy = False  # later frames stay fully masked until one succeeds
                continue
            self.tracker.update(fut.result(), ts)
            self.stats["late_detections"] += 1
            self._healthy = True
            self._last_detected_us = max(ts, self._last_detected_us or ts)

    def _fail_closed(self, f: Frame, reason: str) -> Redacted:
        self.stats["fully_masked"] += 1
        return self.redactor.fail_closed(f, reason)

    def _overload(self, p: _Pending, reason: str) -> StreamOutput:
        f = p.frame
        if self.policy.policy.on_overload == "drop":
            self.stats["dropped"] += 1
            log.warning("frame %d dropped: %s", f.seq, reason)
            return StreamOutput(f.seq, f.timestamp_us, FrameStatus.DROPPED, f"overload: {reason}",
                                width=f.width, height=f.height,
                                service_ms=(time.perf_counter() - p.received) * 1000)
        return self._finish(self._fail_closed(f, f"overload: {reason}"), p.received)

    def close(self) -> None:
        if self._still is not None:
            self._still.sweeper.pressure.report(id(self), False)
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._roi_pool.shutdown(wait=False, cancel_futures=True)
        self._pending.clear()
        super().close()


def look_closer(detector: Detector, bgr: np.ndarray, regions: list[tuple[int, int, int, int]],
                budget_px: int, width: int = 0) -> list[Detections]:
    """The region detector on each region's crop, boxes in frame pixels. Crops of a frame
    wider than `width` are first shrunk to that frame width's detail (0: never), then
    by one common factor where together they still exceed `budget_px` (0: no cap)."""
    f0 = min(1.0, width / bgr.shape[1]) if width > 0 else 1.0
    f = f0 * fit_scale(regions, round(budget_px / (f0 * f0)) if budget_px > 0 else 0)
    out = []
    for x0, y0, x1, y1 in regions:
        crop = bgr[y0:y1, x0:x1]
        w, h = max(1, round((x1 - x0) * f)), max(1, round((y1 - y0) * f))
        if f < 1.0:
            crop = cv2.resize(crop, (w, h), interpolation=cv2.INTER_AREA)
        d = detector.detect(np.ascontiguousarray(crop))
        if not isinstance(d, Detections):
            raise InvalidDetections(f"region detector returned {type(d).__name__}, expected Detections")
        # back to frame pixels: the crop's own scale per axis, then its place in the frame
        scale = np.array([(x1 - x0) / w, (y1 - y0) / h] * 2, np.float32)
        shift = np.array([x0, y0, x0, y0], np.float32)
        out.append(Detections(d.boxes * scale + shift, d.scores, d.labels))
    return out
