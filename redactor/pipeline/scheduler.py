"""One live stream's detections: when to submit, what to cancel, how late ones land.

Detection runs in a worker thread beside the frame path (pipeline/live.py). This module
submits it, caps how many are unfinished, cancels those a newer frame's detection makes
useless, and folds detections that finished after their frame went out into the tracker.
The detection job looks at the whole frame and closer at the regions that moved. Why it
works this way: docs/live.md.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from functools import partial
from typing import Protocol

import cv2
import numpy as np

from redactor.boxes import merge_union, region_area
from redactor.config import MotionConfig
from redactor.detect.base import Detector
from redactor.detect.threads import lower_priority
from redactor.errors import InvalidDetections
from redactor.pipeline.background import Box, Motion, detail_scale, fit_scale
from redactor.pipeline.decision import Own
from redactor.track import TrackedFrame, Tracker, TrackerParams
from redactor.track.tracker import Reach
from redactor.types import Detections, Frame

MERGE_IOU = 0.5  # region and whole-frame boxes of one object merge above this overlap


class Waiting(Protocol):
    """A frame waiting for its detection; `detection` becomes None if it is cancelled."""

    detection: Future[Detections] | None


class DetectionScheduler:
    """One stream's detections and the tracker they move. Used from the session's thread,
    except `_finished` (the detect thread, under the lock)."""

    def __init__(
        self,
        detect: Callable[[Frame], Detections],
        *,
        wait_s: float,
        max_unfinished: int,
        interval_us: int,
        hold_s: float,
        face_margin: float | None,
        nice: int,
        roi: tuple[Detector, MotionConfig] | None = None,
    ) -> None:
        self.tracker = Tracker(TrackerParams(hold_s=hold_s, face_sigma_cap=face_margin))
        self.healthy = True  # False after a failed detection, until one succeeds
        self.last_detected_us: int | None = None  # timestamp of the newest detections folded in
        self.last_submitted_us: int | None = None
        self.wait_s = wait_s  # how long a frame may wait for its own detection
        self.max_unfinished = max_unfinished
        self._detect_frame = detect
        self._roi = roi  # the region detector and the motion settings of the closer look
        self._interval_us = interval_us
        self._pool = ThreadPoolExecutor(
            1, thread_name_prefix="detect", initializer=lower_priority, initargs=(nice,)
        )  # detection yields the CPU to the frame path
        # the closer look at moving regions runs beside the whole-frame pass: a detection
        # then takes the longer of the two, not their sum (the latency a frame waits)
        self._roi_pool = ThreadPoolExecutor(
            1, thread_name_prefix="detect-roi", initializer=lower_priority, initargs=(nice,)
        )
        self._in_flight: Future[Detections] | None = None
        self._queued: deque[Waiting] = deque()  # frames whose detections are unfinished
        # Detections submitted and not finished. A wedged detector finishes none, so
        # without this cap every due frame would queue a frame copy for good.
        self._unfinished = 0
        self._lock = threading.Lock()
        self._took_s: float | None = None  # recent detection time, submit to done (moving average)
        self._late: deque[tuple[Future[Detections], int]] = deque()  # detections of late frames

    def offer(
        self,
        frame: Frame,
        motion: Motion | None,
        hold: bool,
        due_only: bool = False,
        closer: bool = True,
    ) -> tuple[Future[Detections] | None, bool]:
        """Submits `frame`'s detection when it is due (`detect_interval_ms` of video after the
        last submitted frame) or none is running, unless `hold` (frames wait for a sweep:
        after the stream's first detection, none), or, with `due_only`, only when due (a
        sweep runs beside and frames go out without waiting for it, or frames' own looks
        cover what moves). With `closer`, it also looks closer at the moving regions.
        Returns its detection, and whether it was due but too many detections were
        unfinished (starved)."""
        last = self.last_submitted_us
        due = (
            last is None
            or frame.timestamp_us - last >= self._interval_us
            or frame.timestamp_us < last
        )  # clock went back: start afresh
        free = not due_only and (self._in_flight is None or self._in_flight.done())
        wanted = (due or free) and (last is None or not hold)
        if wanted:
            self.drop_stale_queued()
        starved = self._unfinished >= self.max_unfinished
        if not wanted or starved:
            return None, due and starved
        regions = (
            motion.regions(self._roi[1], frame.width, frame.height)
            if (closer and self._roi is not None and motion is not None and motion.trusted)
            else []
        )
        return self._submit(frame, regions), False

    def _submit(self, frame: Frame, regions: list[Box]) -> Future[Detections]:
        self.last_submitted_us = frame.timestamp_us
        bgr = frame.to_bgr().copy()  # the worker must not see pixels being masked
        det = self._pool.submit(self._detect, Frame.from_bgr(bgr), regions)
        with self._lock:
            self._unfinished += 1
        submitted = time.perf_counter()
        det.add_done_callback(partial(self._finished, submitted=submitted))
        self._in_flight = det
        return det

    def queue(self, frame: Waiting) -> None:
        """`frame` waits for the detection just submitted (it may be cancelled)."""
        self._queued.append(frame)

    def _finished(self, fut: Future[Detections], submitted: float) -> None:
        took = time.perf_counter() - submitted
        with self._lock:  # runs on the detect thread (or the caller's, when cancelled)
            self._unfinished -= 1
            if fut.cancelled():
                return
            self._took_s = took if self._took_s is None else 0.7 * self._took_s + 0.3 * took

    def wait_limit(self) -> float:
        """How long a frame may wait for its own detection: its share of the budget while
        detections finish within it, none once they typically take longer: waiting would
        then only add latency."""
        took = self._took_s
        return self.wait_s if took is None or took <= self.wait_s else 0.0

    def drop_stale_queued(self) -> None:
        """Before a detection is submitted: cancels the stream's detections that have not
        started, while frames do not wait for their own detections (detections take longer
        than the wait): those would only move the tracks once done, which a detection of a
        newer frame does better. Otherwise a detector slower than `detect_interval_ms`
        queues detections of ever older frames. Where frames do wait for their detections
        (a file pushed faster than real time, a fast detector), all are kept."""
        cancel = self.wait_limit() <= 0
        left: deque[Waiting] = deque()
        for q in self._queued:
            d = q.detection
            if d is None or d.done():
                continue
            if (
                cancel and d.cancel()
            ):  # not started: its frame goes (or went) out masked from the tracks
                q.detection = None
                continue
            left.append(q)  # running, or kept
        self._queued = left

    def claim(
        self, detection: Future[Detections] | None, timestamp_us: int, over_budget: bool
    ) -> tuple[Own, str]:
        """A frame's own detection as the frame goes out, and its failure ("Type: message").
        One not used on its frame (still running, or the frame is over budget) moves the
        tracks once done instead (and its failure, if it fails, fails later frames closed)."""
        if detection is None:
            return Own.NONE, ""
        done = detection.done()
        if over_budget or not done:
            self._late.append((detection, timestamp_us))
        if not done:
            return Own.RUNNING, ""
        error = detection.exception()
        return (Own.DONE, "") if error is None else (Own.FAILED, f"{type(error).__name__}: {error}")

    def fold_late(self) -> int:
        """Folds the deferred detections that are done into the tracker; how many."""
        folded = 0
        while self._late and self._late[0][0].done():
            fut, ts = self._late.popleft()
            if fut.cancelled():  # replaced by a newer frame's detection (drop_stale_queued)
                continue
            if fut.exception() is not None:
                self.healthy = False  # later frames stay fully masked until one succeeds
                continue
            self.tracker.update(fut.result(), ts)
            folded += 1
            self.healthy = True
            self.last_detected_us = max(ts, self.last_detected_us or ts)
        return folded

    def fold(
        self,
        found: Detections,
        timestamp_us: int,
        face_cap: float | None = None,
        reach: Reach | None = None,
    ) -> TrackedFrame:
        """A frame's own detection, used on it: the tracks move to it (`face_cap`, `reach`:
        see Tracker.update)."""
        self.healthy = True
        self.last_detected_us = timestamp_us
        return self.tracker.update(found, timestamp_us, face_cap, reach)

    def _detect(self, frame: Frame, regions: list[Box]) -> Detections:
        """The detection job (on the worker thread, frames in order): the whole frame
        with the policy's profile, plus a closer look at the regions that moved."""
        if self._roi is None:
            return self._detect_frame(frame)
        detector, m = self._roi
        bgr = frame.planes[0]
        closer = (
            self._roi_pool.submit(
                look_closer, detector, bgr, regions, m.max_region_px, m.region_width
            )
            if regions
            else None
        )
        found = self._detect_frame(frame)
        parts = closer.result() if closer is not None else []  # its failure fails the detection too
        return merge_union(Detections.concat([found, *parts]), MERGE_IOU).clipped(
            frame.width, frame.height
        )

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._roi_pool.shutdown(wait=False, cancel_futures=True)


def look_closer(
    detector: Detector,
    bgr: np.ndarray,
    regions: list[tuple[int, int, int, int]],
    budget_px: int,
    width: int = 0,
    pool: Executor | None = None,
) -> list[Detections]:
    """The region detector on each region's crop, boxes in frame pixels. Crops of a frame
    wider than `width` are first shrunk to that frame width's detail (0: never), then
    by one common factor where together they still exceed `budget_px` (0: no cap).
    With `pool`, the crops are detected on its threads at once."""
    one = partial(_look_at, detector, bgr, _shrink(regions, budget_px, width, bgr.shape[1]))
    return list(pool.map(one, regions)) if pool is not None else [one(r) for r in regions]


def look_px(
    regions: list[tuple[int, int, int, int]], budget_px: int, width: int, frame_width: int
) -> float:
    """The pixels `look_closer` hands its detector for these regions: what a look costs."""
    f = _shrink(regions, budget_px, width, frame_width)
    return f * f * float(sum(region_area(r) for r in regions))


def _shrink(
    regions: list[tuple[int, int, int, int]], budget_px: int, width: int, frame_width: int
) -> float:
    """look_closer's one factor for every crop: `width`'s detail, then `budget_px` at most."""
    f0 = detail_scale(frame_width, width)
    return f0 * fit_scale(regions, round(budget_px / (f0 * f0)) if budget_px > 0 else 0)


def _look_at(
    detector: Detector, bgr: np.ndarray, f: float, region: tuple[int, int, int, int]
) -> Detections:
    """The region detector on one region's crop shrunk by `f` (<= 1), boxes in frame pixels."""
    x0, y0, x1, y1 = region
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
    return Detections(d.boxes * scale + shift, d.scores, d.labels)
