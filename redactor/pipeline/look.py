"""Every live frame's own look at where it moved (live.look).

The stream's tracked detections come from earlier frames and a walker's face moves between
them; the motion band covers where heads can be, and with them the top of every body. A
look runs the look profile on the crops of the frame's moving regions (the closer look of
pipeline/scheduler.py) on a worker thread while the frame waits, so its boxes mask the faces
where they are on that very frame. A detector at its floor finds a small face on some frames
only, so the boxes of the last `memory` looked frames are masked together. A frame whose
look is not done in time goes out as before (tracks and the full band); once a look fails,
frames go out fully masked until one succeeds (pipeline/decision.py). Where a look at the
whole regions would not be done in time (a large frame at a high rate, a crowd), it looks at
the top of each moving blob only, where heads are (live.look.head_depth).
Why: docs/tuning.md#every-frame-look.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from functools import partial

import numpy as np

from redactor.boxes import at_least, enlarge, merge_union
from redactor.config import LookConfig, MotionConfig
from redactor.detect.base import Detector
from redactor.detect.threads import lower_priority
from redactor.pipeline.background import Box, Motion
from redactor.pipeline.scheduler import MERGE_IOU, look_closer, look_px
from redactor.types import Detections, Frame

# Whether looks fit (docs/tuning.md#every-frame-look): the median of the last TIMED looks, so
# that a few slow ones in a crowd do not decide.
TIMED = 8
KEEP_LOOKING = 1.5  # looks go on at every frame while they typically take at most this many waits


class FrameLook:
    """One stream's looks, one at a time: a frame that comes while one runs gets none, so a
    look starts when its frame comes and no backlog of old frames builds up. Frames wait for
    their look while looks typically take at most `wait_s`. While they take longer than
    KEEP_LOOKING waits, or too long to mask any of the next `memory` - 1 frames, only one in
    `probe_s` of video is looked at, to see whether they fit again (one probe that fits
    brings them back); the stream then detects as it would without looks. A look whose
    whole regions would take longer than a frame may wait, at recent such looks' time per
    pixel, crops the blobs' heads only (`head_depth`); `on_heads` is called for each."""

    def __init__(
        self,
        detector: Detector,
        cfg: LookConfig,
        motion: MotionConfig,
        wait_s: float,
        on_heads: Callable[[], None] | None = None,
    ) -> None:
        self.cfg = cfg
        self.wait_s = wait_s
        self._detector = detector
        self._motion = motion
        self._pool = ThreadPoolExecutor(
            1, thread_name_prefix="look", initializer=lower_priority, initargs=(cfg.nice,)
        )
        # a look's crops at once: its latency, which the frame waits, not its CPU
        self._crops = (
            ThreadPoolExecutor(
                cfg.threads,
                thread_name_prefix="look-crop",
                initializer=lower_priority,
                initargs=(cfg.nice,),
            )
            if cfg.threads > 1
            else None
        )
        self._jobs: deque[tuple[int, Future[Detections]]] = deque()  # (seq, look) not yet seen
        self._seen: deque[tuple[int, Detections]] = deque()  # (seq, boxes) of looked frames
        self.failed = ""  # why the newest collected look failed; "" once one succeeds
        self._took: deque[float] = deque(maxlen=TIMED)  # recent looks' seconds, submit to done
        self._per_px: deque[float] = deque(maxlen=TIMED)  # whole regions' looks' s per px
        self._on_heads = on_heads
        self._last_us: int | None = None  # timestamp of the newest frame looked at
        self._probe: Future[Detections] | None = None  # the newest probe, while looks do not fit
        self._prev_us: int | None = None  # timestamp of the newest frame offered
        self._gap_s: float | None = None  # video seconds between frames (moving average)
        self._lock = threading.Lock()

    def offer(self, frame: Frame, motion: Motion) -> Future[Detections] | None:
        """Submits `frame`'s look when something moved on it and no look is running (while
        looks do not fit, only `probe_s` of video after the last one)."""
        self._note_rate(frame.timestamp_us)
        if not motion.moved:
            return None
        last = self._last_us
        probe_us = round(self.cfg.probe_s * 1e6)
        if not self.fits and last is not None and 0 <= frame.timestamp_us - last < probe_us:
            return None
        if self._jobs and not self._jobs[-1][1].done():  # the newest look still runs
            return None
        regions, px = self._regions(frame, motion)
        if not regions:
            return None
        bgr = frame.to_bgr().copy()  # the worker must not see pixels being masked
        self._last_us = frame.timestamp_us
        job = self._pool.submit(self._look, bgr, regions)
        probe = not self.fits
        done = partial(self._finished, submitted=time.perf_counter(), probe=probe, px=px)
        job.add_done_callback(done)
        self._probe = job if probe else None
        self._jobs.append((frame.seq, job))
        return job

    def _regions(self, frame: Frame, motion: Motion) -> tuple[list[Box], float]:
        """The crops of `frame`'s look and the pixels they hold: the whole moving regions,
        or their heads where those would not be done within a frame's wait."""
        m, depth = self._motion, self.cfg.head_depth
        regions = motion.regions(m, frame.width, frame.height)
        px = look_px(regions, m.max_region_px, m.region_width, frame.width)
        with self._lock:
            per_px = sorted(self._per_px)
        if 0 < depth < 1 and per_px and px * per_px[len(per_px) // 2] > self._limits()[0]:
            regions = motion.regions(m, frame.width, frame.height, depth)
            if self._on_heads is not None:
                self._on_heads()
            return regions, 0.0  # a look at heads says nothing of what the whole would take
        return regions, px

    def _note_rate(self, ts_us: int) -> None:
        prev, self._prev_us = self._prev_us, ts_us
        if prev is not None and ts_us > prev:
            gap = (ts_us - prev) / 1e6
            self._gap_s = gap if self._gap_s is None else 0.9 * self._gap_s + 0.1 * gap

    def _finished(self, job: Future[Detections], submitted: float, probe: bool, px: float) -> None:
        took = time.perf_counter() - submitted
        with self._lock:  # on the look's thread
            if probe:  # one probe that fits is evidence enough; the slow looks before it are past
                self._took.clear()
            self._took.append(took)
            if px > 0:
                self._per_px.append(took / px)

    def _typical(self) -> float | None:
        """The median of the recent looks' times (since the newest probe): one slow look in a
        crowd does not decide; None before any finished."""
        with self._lock:
            took = sorted(self._took)
        return took[len(took) // 2] if took else None

    def _limits(self) -> tuple[float, float]:
        """(the longest typical look frames wait for, the longest worth one at every frame).
        A look done more than `memory` - 1 frames after its own masks no frame: at 25 fps
        that is 80 ms, and frames waiting longer only pile up behind each other."""
        wait, keep = self.wait_s, KEEP_LOOKING * self.wait_s
        gap = self._gap_s
        if self.cfg.memory == 1:
            keep = wait  # only its own frame, which waits for it
        elif gap is not None:
            serves = (self.cfg.memory - 1) * gap
            wait, keep = min(wait, serves), min(keep, serves)
        return wait, keep

    @property
    def fits(self) -> bool:
        """Every frame is looked at: looks typically finish within KEEP_LOOKING waits, and in
        time to mask a frame (or none finished yet); a look done after its frame went out
        serves the next ones."""
        took = self._typical()
        return took is None or took <= self._limits()[1]

    @property
    def probing(self) -> bool:
        """A probe runs: it is timed as a look would be, so detections leave it the CPU as
        they would a look's (the session holds them to whole frames at their interval)."""
        probe = self._probe
        return probe is not None and not probe.done()

    def wait_limit(self) -> float:
        """How long a frame may wait for its look: `wait_s` while looks typically finish
        within it (and in time to mask a frame), none otherwise (a crowd, a large frame at
        a high rate): waiting would only add latency."""
        took = self._typical()
        return self.wait_s if took is None or took <= self._limits()[0] else 0.0

    def _look(self, bgr: np.ndarray, regions: list[tuple[int, int, int, int]]) -> Detections:
        m = self._motion
        parts = look_closer(
            self._detector, bgr, regions, m.max_region_px, m.region_width, self._crops
        )
        h, w = bgr.shape[:2]
        return merge_union(Detections.concat(parts), MERGE_IOU).clipped(w, h)

    def collect(self, seq: int) -> str:
        """Takes in the looks done by now of frame `seq` and those before it. Returns why the
        newest of them failed ("Type: message"), "" if it succeeded: until a look succeeds
        again the stream's frames fail closed, as after a failed detection."""
        while self._jobs and self._jobs[0][0] <= seq and self._jobs[0][1].done():
            s, job = self._jobs.popleft()
            error = None if job.cancelled() else job.exception()
            if error is not None:
                self.failed = f"{type(error).__name__}: {error}"
            elif not job.cancelled():
                self.failed = ""
                self._seen.append((s, job.result()))
        return self.failed

    def remembered(self, seq: int, width: int, height: int) -> Detections:
        """The boxes to mask on frame `seq`: those of the looks collected of it and of the
        `memory` - 1 frames before it (a look done after its own frame went out serves the
        next ones), grown by `grow`. Frames come in order."""
        self.collect(seq)
        while self._seen and self._seen[0][0] <= seq - self.cfg.memory:
            self._seen.popleft()
        parts = [d for s, d in self._seen if s <= seq]
        found = Detections.concat(parts) if parts else Detections.empty()
        if not len(found):
            return found
        grown = at_least(enlarge(found.boxes, self.cfg.grow), self.cfg.min_box_px)
        return Detections(grown, found.scores, found.labels).clipped(width, height)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        if self._crops is not None:
            self._crops.shutdown(wait=False, cancel_futures=True)
        self._seen.clear()
