"""What a fixed camera sees that does not move, masked from a slow thorough look.

Live detection is fast and coarse; the thorough profile finds small and faint
faces (a person standing far off, a face on a poster) and the plates of parked
cars, but costs seconds of CPU per frame. A fixed camera's still parts do not
need it on every frame: a box found on an earlier frame still holds as long as
the picture there has not changed. So each stream is swept now and then
(`live.sweep.interval_s`), and what the sweep found on still ground (at most
`max_moving_share` of the box moving on its frame) is masked on every later
frame while its picture stays as the sweep saw it: for the next `keep` sweeps
whether they find it again or not (a detector at its floor finds a small face on
some sweeps and not on others), then up to `hold_s`. A new sighting of a held object
widens its box to cover both (the same sign read as two words on one sweep, as a
whole on another). A box goes once its picture
has changed with nothing moving over it (what was there has left), whenever
that is: a walker the sweep saw standing for a moment leaves no mask behind.
What moves is masked by the motion blobs and the tracks instead.

One `Sweeper` serves the whole server: a single thread at the lowest CPU
priority, busy at most a share of the time, so the sweeps take only what the
frame path and live detection leave, and one thorough detection's memory is in
use at a time (two while a stream's start sweeps run beside). Each stream has at
most one sweep queued or running, so streams take turns. A sweep that fails
makes its stream's frames fail closed until one succeeds (LiveSession).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import NamedTuple

import cv2
import numpy as np
import numpy.typing as npt

from redactor.boxes import at_least, inside_matrix, iou_matrix
from redactor.config import SweepConfig
from redactor.detect.base import Detector
from redactor.detect.threads import lower_priority
from redactor.errors import InvalidDetections
from redactor.pipeline.background import Box, Motion
from redactor.pipeline.camera_memory import Remembered, picture, unchanged_cells
from redactor.types import Detections, Frame

log = logging.getLogger(__name__)

SAME_OBJECT_IOU = (
    0.3  # a swept box overlapping a held one of its label this much is the same object
)
SAME_OBJECT_INSIDE = 0.5  # ... and so is one lying this much inside the other


class Pressure:
    """Which live streams' detections are falling behind: sweeps wait while any is.

    On two logical CPUs a sweep slows live detection whatever its priority; a
    stream whose detections fall behind goes fully masked, so while one does, the
    CPU is better left to detection (still boxes already held stay masked). A
    stream's start sweeps do not wait: its still ground is masked until they are done
    (live.sweep.wait_first), and a stream waiting for them reports nothing (its own
    detection waits for those sweeps: 4 streams starting together otherwise held
    each other's first sweeps back for good)."""

    def __init__(self) -> None:
        self._behind: set[int] = set()
        self._lock = threading.Lock()
        self._clear = threading.Event()
        self._clear.set()

    def report(self, stream: int, behind: bool) -> None:
        with self._lock:
            if behind:
                self._behind.add(stream)
            else:
                self._behind.discard(stream)
            (self._clear.clear if self._behind else self._clear.set)()

    def wait_clear(self, timeout_s: float) -> bool:
        """Waits until no stream is behind; False if one still is after `timeout_s`."""
        return self._clear.wait(timeout_s)


class Sweeper:
    """The server's sweep thread, over one detector (the sweep profile's).

    It is busy at most `busy_share` of the time: after a sweep of T seconds the next
    starts T * (1 / busy_share - 1) later at the earliest. A low priority alone is not
    enough where the two logical CPUs share one core (this project's 2-vCPU machines):
    a thread on the sibling slows the frame path and live detection whatever its niceness.

    A stream's start sweeps (its first `first_sweeps`) cannot wait that long: until they
    are done, its still ground is not known. They run on a second thread, at a
    priority between live detection's and the other sweeps' (`first_nice`), with
    `first` (an instance of the profile made at that priority), those after a stream's
    first with `again` (live.sweep.start_again; `first` by default), and count
    towards no rest."""

    def __init__(
        self,
        detector: Detector,
        nice: int,
        busy_share: float = 1.0,
        first: Detector | None = None,
        first_nice: int = 0,
        on_done: Callable[[bool, float], None] | None = None,
        pressure: Pressure | None = None,
        again: Detector | None = None,
    ) -> None:
        self.detector = detector
        self.first = first or detector
        self.again = again or self.first
        self.busy_share = busy_share
        self._on_done = on_done  # (succeeded, seconds) after each sweep: the metrics hook
        self.pressure = pressure or Pressure()
        self._closed = threading.Event()
        self._rest_until = 0.0  # perf_counter before which no sweep starts
        self._pool = ThreadPoolExecutor(
            1, thread_name_prefix="sweep", initializer=lower_priority, initargs=(nice,)
        )
        self._first_pool = ThreadPoolExecutor(
            1, thread_name_prefix="sweep-first", initializer=lower_priority, initargs=(first_nice,)
        )

    def submit(self, frame: Frame, first: bool = False, again: bool = False) -> Future[Detections]:
        """A sweep of `frame`: a stream's start sweep with `first` (`again`: not its first)."""
        if first:  # not held back by other streams' pressure: a new stream is fully masked until it is done
            det = self.again if again else self.first
            return self._first_pool.submit(self._timed, det, frame, False)
        return self._pool.submit(self._rested, frame)

    def _rested(self, frame: Frame) -> Detections:
        # a rest can last minutes (a long sweep under load): closing must not wait it out
        if self._closed.wait(max(0.0, self._rest_until - time.perf_counter())):
            raise RuntimeError("the sweeper is closing")
        t0 = time.perf_counter()
        try:
            return self._timed(self.detector, frame)
        finally:
            took = time.perf_counter() - t0
            self._rest_until = time.perf_counter() + took * (1 / self.busy_share - 1)

    def _timed(self, detector: Detector, frame: Frame, yields: bool = True) -> Detections:
        while yields and not self.pressure.wait_clear(0.5):  # live detection first
            if self._closed.is_set():
                raise RuntimeError("the sweeper is closing")
        t0 = time.perf_counter()
        ok = False
        try:
            found = _detect(detector, frame)
            ok = True
            return found
        finally:
            if self._on_done is not None:
                self._on_done(ok, time.perf_counter() - t0)

    def close(self) -> None:
        self._closed.set()
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._first_pool.shutdown(wait=False, cancel_futures=True)


def _detect(detector: Detector, frame: Frame) -> Detections:
    found = detector.detect(frame.to_bgr())
    if not isinstance(found, Detections):
        raise InvalidDetections(
            f"sweep detector returned {type(found).__name__}, expected Detections"
        )
    return found.clipped(frame.width, frame.height)


def _same_object(
    box: npt.NDArray[np.float32], held: npt.NDArray[np.float32]
) -> npt.NDArray[np.bool_]:
    """Per held box (n, 4), whether it and `box` are one object: they overlap enough or one
    lies mostly inside the other (a detector at its floor outlines a thing differently each
    time). Labels are the caller's to compare."""
    inside = np.maximum(inside_matrix(box[None], held)[0], inside_matrix(held, box[None])[:, 0])
    same: npt.NDArray[np.bool_] = (iou_matrix(box[None], held)[0] > SAME_OBJECT_IOU) | (
        inside >= SAME_OBJECT_INSIDE
    )
    return same


@dataclass(slots=True)
class Held:
    """A still box, and its picture (work size) on the newest swept frame that showed it."""

    box: npt.NDArray[np.float32]  # (4,) frame px
    score: float
    label: int
    region: Box  # the box at the motion model's work size
    picture: npt.NDArray[np.uint8]
    work_shape: tuple[int, ...]  # of the whole work picture it was cut from
    seen_us: int  # timestamp of that frame
    seen_sweep: int  # that sweep's number in the stream


class _Sweep(NamedTuple):
    """A sweep sent and not yet folded in."""

    job: Future[Detections]
    motion: Motion  # what moved on its frame
    ts: int  # its frame's timestamp
    frame: Frame  # a copy of its frame, for the camera's next stream


class StillMasks:
    """One stream's sweeps: when to sweep, and the still boxes they found."""

    def __init__(self, sweeper: Sweeper, cfg: SweepConfig) -> None:
        self.sweeper = sweeper
        self.cfg = cfg
        self._interval_us = round(cfg.interval_s * 1_000_000)
        self._hold_us = round(cfg.hold_s * 1_000_000)
        # the sweeps not yet folded in: one, and a sweep of a changed picture beside one begun
        # before the change
        self._in_flight: list[_Sweep] = []
        self._last_us: int | None = None  # timestamp of the newest frame sent to a sweep
        self._held: list[Held] = []
        self.failed: str | None = None  # why the newest sweep failed, until one succeeds
        self.sweeps = 0  # sweeps done
        # the picture changed as a whole (Motion.changed) at this timestamp, and no sweep of a
        # frame after it is done: the held boxes' pictures say nothing, where they are is unsure
        self._changed_us: int | None = None
        # the work picture of the newest frame the model trusted before that
        self._before: npt.NDArray[np.uint8] | None = None
        self._swept: Frame | None = None  # the newest folded sweep's frame (a copy)
        # the camera's previous stream's still ground, while this stream's start lasts
        self._recalled: Remembered | None = None

    def offer(self, frame: Frame, motion: Motion) -> None:
        """Sends `frame` to a sweep if one is due and none of this stream's is unfinished
        (after the picture changed as a whole, on the first frame the model trusts, beside
        one begun before the change). `motion` is what moved on it: the boxes on still
        ground are the ones held."""
        self.collect()
        ts = frame.timestamp_us
        if motion.changed:  # the new picture is swept once the model has learnt it
            self._changed_us = ts
            return
        if self._changed_us is not None and self._as_before(motion):
            self._changed_us = None  # only something large passed: the still ground is as it was
        if motion.trusted and self._changed_us is None:
            self._before = motion.small
        # a changed picture is swept at once, beside a sweep that may be resting its turn
        changed = self._changed_us
        fresh = changed is not None and not any(s.ts > changed for s in self._in_flight)
        if self._in_flight and not fresh:
            return
        # A detector at its floor finds a small still thing on some sweeps only: the start's
        # sweeps follow one another at once, not the first alone deciding for an interval.
        due = (
            self._last_us is None
            or self.failed is not None
            or not self.started
            or fresh
            or ts - self._last_us >= self._interval_us
            or ts < self._last_us
        )  # clock went back: start afresh
        if not due:
            return
        copy = Frame(frame.layout, tuple(p.copy() for p in frame.planes), frame.seq, ts)
        try:
            # the start's sweeps after its first are second readings (start_again)
            again = not self.started and self.sweeps > 0
            job = self.sweeper.submit(copy, first=not self.started or fresh, again=again)
        except RuntimeError as e:  # the server is closing
            self.failed = f"sweep unavailable: {e}"
            return
        self._last_us = ts
        self._in_flight.append(_Sweep(job, motion, ts, copy))

    def _as_before(self, motion: Motion) -> bool:
        """The model trusts the picture again, and what stands still on it looks as it did
        before the change (within `changed_level`): a person close to the camera or a
        lorry, not a light or the camera, filled the picture."""
        before = self._before
        if not motion.trusted or before is None or before.shape != motion.small.shape:
            return False
        still = motion.fg == 0
        if motion.fg.shape != motion.small.shape[:2] or not still.any():
            return False
        diff = cv2.absdiff(motion.small, before)[still]
        return float(diff.mean()) <= self.cfg.changed_level

    @property
    def stale(self) -> bool:
        """The picture changed as a whole since the newest sweep's frame: until a sweep of the
        new picture is done, what stands still is not known (its frames go out as a stream's
        start does)."""
        return self._changed_us is not None

    @property
    def started(self) -> bool:
        """The stream's first `first_sweeps` sweeps are done: its still ground is known."""
        return self.sweeps >= self.cfg.first_sweeps

    def first_running(self) -> Future[Detections] | None:
        """The stream's start sweep that runs (None once the start is over, or a sweep failed)."""
        self.collect()
        if self.started or self.failed is not None or not self._in_flight:
            return None
        return self._in_flight[0].job

    def first_waited(self) -> Future[Detections] | None:
        """The stream's start sweep that runs, while frames wait for the start (wait_first)."""
        return self.first_running() if self.cfg.wait_first else None

    def collect(self) -> None:
        """Folds in the finished sweeps, in the order they were sent (one sent beside a
        resting one may finish first)."""
        for sweep in [s for s in self._in_flight if s.job.done()]:
            self._in_flight.remove(sweep)
            self._fold(sweep)

    def _fold(self, sweep: _Sweep) -> None:
        """One finished sweep: its still boxes join the held ones (a held box of the same
        object is replaced by one around both); its failure is kept in `failed` until a
        sweep succeeds."""
        job, motion, ts = sweep.job, sweep.motion, sweep.ts
        error = job.exception()
        if error is not None:
            self.failed = f"sweep failed: {type(error).__name__}: {error}"
            log.warning("%s", self.failed)
            return
        found = job.result()
        if self._changed_us is not None and ts > self._changed_us:
            self._changed_us = None  # a sweep of the new picture: the held boxes' pictures now
            for h in self._held:
                if motion.small.shape == h.work_shape:
                    x0, y0, x1, y1 = h.region
                    h.picture = motion.small[y0:y1, x0:x1].copy()
        still = found.select(motion.moving_share(found.boxes) <= self.cfg.max_moving_share)
        for box, score, label in zip(still.boxes, still.scores, still.labels, strict=True):
            if self._held:  # a new sighting of a held object: one box around both, picture as now
                held = np.stack([h.box for h in self._held])
                same = _same_object(box, held) & (np.array([h.label for h in self._held]) == label)
                if same.any():
                    boxes = np.concatenate([box[None], held[same]])
                    box = np.concatenate([boxes[:, :2].min(axis=0), boxes[:, 2:].max(axis=0)])
                    score = max(
                        float(score),
                        max(h.score for h, s in zip(self._held, same, strict=True) if s),
                    )
                    self._held = [h for h, s in zip(self._held, same, strict=True) if not s]
            region = motion.work_box(box)
            x0, y0, x1, y1 = region
            self._held.append(
                Held(
                    box.copy(),
                    float(score),
                    int(label),
                    region,
                    motion.small[y0:y1, x0:x1].copy(),
                    motion.small.shape,
                    ts,
                    self.sweeps,
                )
            )
        if len(self._held) > self.cfg.max_held:  # oldest sightings go first
            self._held = sorted(self._held, key=lambda h: h.seen_us)[-self.cfg.max_held :]
        self.failed = None
        self.sweeps += 1
        self._swept = sweep.frame
        if self.started:
            self._recalled = None

    def recall(self, remembered: Remembered, ts_us: int) -> None:
        """Takes in what the camera's previous stream held (`CameraMemory`), before this
        stream's first frame (at `ts_us`): its boxes are held as if this stream's first sweep
        had found them, and until the start's sweeps are done the cells whose picture is
        still the remembered one are known (`known_cells`)."""
        self._held += [replace(h, seen_us=ts_us, seen_sweep=self.sweeps) for h in remembered.held]
        self._recalled = remembered

    def remembered(self) -> Remembered | None:
        """What the camera's next stream may take in: the held boxes and the picture of the
        newest sweep, once the start's sweeps are done, while the picture has not changed as a
        whole since and the newest sweep did not fail."""
        if not self.started or self.stale or self.failed is not None or self._swept is None:
            return None
        # copies: this stream goes on updating its own (a changed picture's new crops)
        return Remembered(picture(self._swept), tuple(replace(h) for h in self._held))

    def known_cells(self, frame: Frame, cell: int) -> npt.NDArray[np.bool_] | None:
        """While the start's sweeps run on a camera seen before: the cells of a `cell`-px grid
        whose picture on `frame` is the one the previous stream swept (`remember_level`); None
        otherwise."""
        recalled = self._recalled
        if recalled is None or self.started or self.stale:
            return None
        now = frame.to_bgr()
        if now.shape != recalled.picture.shape:
            return None
        return unchanged_cells(recalled.picture, now, cell, self.cfg.remember_level)

    def held(self, motion: Motion, now_us: int) -> Detections:
        """The still boxes that hold on the frame at `now_us`, whose `motion` says what moved
        and shows its picture. A box goes once its picture has changed (beyond
        `changed_level`) with nothing moving over it (what was there has left); one not
        found by any of the last `keep` sweeps goes `hold_s` after the newest that did."""
        self.collect()
        keep: list[Held] = []
        for h in self._held:
            if motion.small.shape != h.work_shape:  # another picture size: another picture
                continue
            recent = self.sweeps - h.seen_sweep <= self.cfg.keep  # found by one of the last `keep`
            if not recent and not 0 <= now_us - h.seen_us <= self._hold_us:
                continue
            if motion.trusted and not self.stale and self._left(h, motion):
                continue
            keep.append(h)
        self._held = keep
        if not keep:
            return Detections.empty()
        return Detections.create(
            at_least(np.stack([h.box for h in keep]), self.cfg.min_box_px, self.cfg.min_box_times),
            [h.score for h in keep],
            [h.label for h in keep],
        )

    def held_untracked(self, motion: Motion, now_us: int) -> Detections:
        """`held`, as detections beside a frame's tracks: track id 0, not tracked."""
        still = self.held(motion, now_us)
        return Detections(still.boxes, still.scores, still.labels, np.zeros(len(still), np.int64))

    def _left(self, h: Held, motion: Motion) -> bool:
        """Nothing moves over `h` and its picture is no longer the swept one."""
        if motion.moving_share(h.box[None])[0] > self.cfg.max_moving_share:
            return False
        x0, y0, x1, y1 = h.region
        now = motion.small[y0:y1, x0:x1]
        return bool(now.size) and float(cv2.absdiff(now, h.picture).mean()) > self.cfg.changed_level

    def wait(self, timeout_s: float) -> None:
        """Waits for the unfinished sweeps, if any (tests, benchmarks)."""
        for job, *_ in list(self._in_flight):
            try:
                job.result(timeout=timeout_s)
            except Exception:  # noqa: BLE001 - collect() records it
                pass
        self.collect()
