"""A live stream, frames out in input order, masked from motion, tracked detections and sweeps.

LiveSession decodes each frame, learns what moved on it, offers it to the stream's sweeps
and to detection (pipeline/scheduler.py), and sends frames out in order as soon as they
may go: what becomes of each is decided by pipeline/decision.py. The design, its
fail-closed rules and the measurements behind them: docs/live.md.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass

import numpy as np

from redactor.boxes import grid_block
from redactor.config import Limits
from redactor.pipeline.background import BackgroundModel, Motion, detail_scale
from redactor.pipeline.decision import Action, Decision, Facts, Source, decide
from redactor.pipeline.engine import Engine
from redactor.pipeline.look import FrameLook
from redactor.pipeline.scheduler import DetectionScheduler
from redactor.pipeline.stream import StreamOutput, StreamSession, StreamSpec
from redactor.pipeline.sweep import StillMasks
from redactor.track import TrackedFrame
from redactor.types import Detections, Frame, FrameStatus, Label, MaskReason

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Pending:
    frame: Frame
    received: float  # perf_counter when the request arrived
    detection: Future[Detections] | None  # set on detect frames
    motion: Motion | None  # what moved on it; None: the motion model failed on it
    starved: bool = False  # due for detection, but too many detections were unfinished
    look: Future[Detections] | None = None  # its own look at where it moved (live.look)


@dataclass(slots=True)
class LiveStats:
    """What became of a stream's frames."""

    detected: int = 0  # masked from their own detection
    tracked: int = 0  # masked from the tracks
    late_detections: int = 0  # detections folded in after their frame went out
    looked: int = 0  # masked with their own look at where they moved (live.look)
    fully_masked: int = 0
    dropped: int = 0
    coarse: int = 0  # under the start's coarse mosaic (live.sweep.first_mosaic_blocks)
    recalled: bool = False  # started from the camera's previous stream's still ground

    def count(self, d: Decision) -> None:
        """A frame's decision (a redacted frame the redactor fully masks is counted apart)."""
        self.detected += d.source is Source.OWN
        self.tracked += d.source is Source.TRACKS
        if d.action is Action.OVERLOAD_DROP:
            self.dropped += 1
        elif d.action is Action.COARSE:
            self.coarse += 1
        elif d.action is not Action.REDACT:
            self.fully_masked += 1

    def __str__(self) -> str:
        return " ".join(f"{f.name}={getattr(self, f.name)}" for f in dataclasses.fields(self))


class LiveSession(StreamSession):
    """StreamSession plus tracking, concurrent detection and the overload rule."""

    LIVE = True

    def __init__(self, engine: Engine, spec: StreamSpec, limits: Limits) -> None:
        super().__init__(engine, spec, limits)
        policy = self.policy.policy
        self.budget_s = (spec.latency_budget_ms or limits.latency_budget_ms) / 1000
        # how long a detect frame waits for its own detection; after that it goes out
        # masked from the tracks (and the detection, once done, moves them)
        self.wait_s = self.budget_s * limits.detection_wait_share
        motion = engine.config.live.motion
        self._motion = BackgroundModel(motion) if motion.enabled else None
        look = engine.config.live.look
        self._look = (
            FrameLook(
                engine.detectors[look.profile],
                look,
                motion,
                self.wait_s,
                on_heads=engine.metrics.live_head_looks.inc,
            )
            if motion.enabled and look.enabled
            else None
        )
        self._det = DetectionScheduler(
            self.redactor.detect,
            wait_s=self.wait_s,
            max_unfinished=limits.stream_queue_frames,
            interval_us=limits.detect_interval_ms * 1000,
            hold_s=policy.hold_s,
            face_margin=policy.face_track_margin,
            nice=engine.config.detect.nice,
            roi=(engine.detectors[motion.profile], motion) if motion.enabled else None,
        )
        self._pending: deque[_Pending] = deque()
        self._cover = policy.motion_cover  # how far down each moving blob is masked
        self._cover_looked = policy.motion_cover_looked  # ... on a frame whose look is done
        self._looked_max_px = policy.motion_looked_max_px  # ... and over taller walkers
        self._looked_min_score = policy.motion_looked_min_score  # ... only where no face this sure
        self._face_margin_looked = policy.face_track_margin_looked  # held faces' margin, too
        self._outline = policy.motion_mask == "outline"
        sweeper = engine.sweeper
        self._still = StillMasks(sweeper, engine.config.live.sweep) if sweeper is not None else None
        # until the start's sweeps are done, frames go out under a coarse mosaic (0: fully masked)
        self._coarse_blocks = engine.config.live.sweep.first_mosaic_blocks if self._still else 0
        self._coarse_moving = engine.config.live.sweep.first_moving_share  # ... but what moves
        self._cameras = engine.cameras  # ... and where the camera's last stream swept
        self._camera: tuple[str, int, int] | None = None  # (camera id, size) once a frame came
        self._remembered_at = 0  # the sweeps done when the camera's still ground was last kept
        self._recalled = engine.metrics.live_recalled
        self.stats = LiveStats()
        # the server's counts, for operators: how many frames that moved had their own look
        self._moving, self._looked = engine.metrics.live_moving, engine.metrics.live_looked

    @property
    def has_pending(self) -> bool:
        return bool(self._pending)

    @property
    def pending(self) -> int:
        return len(self._pending)

    def drain_head(self) -> list[StreamOutput]:
        """Waits (within the budget) for the oldest frame, emits it and whatever follows ready:
        when too many frames are pending, a faster sender is slowed by flow control."""
        if not self._pending:
            return []
        self._wait_for_head()
        return [self._emit(self._pending.popleft()), *self.ready(block=False)]

    def push(self, seq: int, timestamp_us: int, data: bytes, received: float) -> list[StreamOutput]:
        """Takes one input frame; returns the outputs that became ready (in order)."""
        frames = self.decode(seq, timestamp_us, data)
        out: list[StreamOutput] = []
        if not frames:
            reason = "no picture in this access unit yet (decoder buffering)"
            out.append(StreamOutput.dropped(seq, timestamp_us, reason))
        for f in frames:
            motion = self._observe(f)
            if self._still is not None and motion is not None:
                if self._camera is None:  # the first frame: its size says which memory
                    self._recall(f)
                self._still.offer(f, motion)
            # while the stream's start sweeps run its frames wait for them, then go out fully masked:
            # after the first frame's detection the CPU goes to that sweep, not to unused
            # detections; under the coarse mosaic they are used, at the detection interval
            first = self._first_sweep() is not None
            # under the start's coarse mosaic the CPU goes to its sweeps, not to looks
            look = (
                self._look.offer(f, motion)
                if self._look is not None and motion is not None and not first
                else None
            )
            # while every frame's look covers what moves, detections look at whole frames
            # only, at the detection interval: the CPU goes to the looks frames wait for
            # (and to a probe, timed fairly, while looks do not fit)
            looking = self._look is not None and (self._look.fits or self._look.probing)
            det, starved = self._det.offer(
                f,
                motion,
                hold=first and not self._coarse_blocks,
                due_only=first or looking,
                closer=not looking,
            )
            self._pending.append(_Pending(f, received, det, motion, starved, look))
            if det is not None:
                self._det.queue(self._pending[-1])
        out += list(self.ready(block=False))
        return out

    def _recall(self, f: Frame) -> None:
        """Takes in the camera's still ground as its previous stream of this size left it."""
        self._camera = (self.spec.camera_id, f.width, f.height)
        remembered = None if self._cameras is None else self._cameras.recall(self._camera)
        if remembered is not None and self._still is not None:
            self._still.recall(remembered, f.timestamp_us)
            self.stats.recalled = True
            self._recalled.inc()

    def _remember(self) -> None:
        """Keeps the camera's still ground for its next stream, or one beside this (a second
        recipient), as of this stream's newest sweep."""
        still, cameras, camera = self._still, self._cameras, self._camera
        if still is None or cameras is None or camera is None:
            return
        if still.sweeps == self._remembered_at:
            return
        remembered = still.remembered()
        if remembered is not None:
            cameras.save(camera, remembered)
            self._remembered_at = still.sweeps

    def _first_sweep(self) -> Future[Detections] | None:
        """The stream's running start sweep while frames wait for the start (live.sweep.wait_first)."""
        return None if self._still is None else self._still.first_waited()

    def _sweep_waited(self) -> Future[Detections] | None:
        """The stream's first sweep, while a frame may wait for it: only where frames would
        otherwise go out fully masked. Under the coarse mosaic a frame gains at most one
        frame of picture by waiting, and every frame of the start would pay the wait."""
        return None if self._coarse_blocks else self._first_sweep()

    def _observe(self, f: Frame) -> Motion | None:
        """What moved on `f` (the model learns from every frame, in order); None: it failed."""
        if self._motion is None:
            return Motion.none()
        try:
            return self._motion.update(f)
        except Exception:  # noqa: BLE001
            log.exception("frame %d: motion model failed", f.seq)
            return None

    def ready(self, block: bool) -> Iterator[StreamOutput]:
        """Emits frames from the head while they can go; with `block`, waits for all."""
        while self._pending:
            if not block and self._head_waiting(self._pending[0]):
                return
            self._wait_for_head()
            yield self._emit(self._pending.popleft())

    def _head_waiting(self, head: _Pending) -> bool:
        """The head awaits its detection, or the stream's first sweep, and may still wait."""
        waited = time.perf_counter() - head.received
        return (
            (
                head.detection is not None
                and not head.detection.done()
                and waited < self._det.wait_limit()
            )
            or (self._sweep_waited() is not None and waited < self.wait_s)
            or (head.look is not None and not head.look.done() and waited < self._look_wait())
        )

    def _look_wait(self) -> float:
        """How long a frame may wait for its own look (its share of the budget while looks
        finish within it)."""
        return 0.0 if self._look is None else self._look.wait_limit()

    def _wait_for_head(self) -> None:
        """Waits for the head's detection (at most its share of the latency budget), the
        stream's first sweep (wait_first, frames fully masked until it) and the head's look
        (the same share each); _emit handles timeouts and failures."""
        head = self._pending[0]
        for job, limit in (
            (head.detection, self._det.wait_limit()),
            (self._sweep_waited(), self.wait_s),
            (head.look, self._look_wait()),
        ):
            if job is not None and not job.done():
                try:
                    job.result(timeout=max(limit - (time.perf_counter() - head.received), 0))
                except Exception:  # noqa: BLE001
                    pass

    def _emit(self, p: _Pending) -> StreamOutput:
        f, ts = p.frame, p.frame.timestamp_us
        self.stats.late_detections += self._det.fold_late()
        d = decide(self._facts(p, time.perf_counter() - p.received > self.budget_s))
        self.stats.count(d)
        self._remember()
        if d.behind is not None and self._still is not None:
            self._still.sweeper.pressure.report(id(self), d.behind)
        if d.unhealthy:
            self._det.healthy = False
        # read once: the look may finish while the frame is masked, and its held faces and its
        # band must agree on whether it was looked at
        own_look = _result(p.look) is not None
        # where the frame's own look found its faces, held faces widen less for their path
        face_cap = self._face_margin_looked if own_look else None
        # a held box is masked where its object can be: where it was if nothing moves near,
        # else within what moves into the box
        reach = p.motion.reach if p.motion is not None else None
        tracked = (
            self._det.fold(p.detection.result(), ts, face_cap, reach)
            if d.source is Source.OWN and p.detection is not None
            else self._det.tracker.peek(ts, face_cap, reach)
            if d.source is Source.TRACKS
            else None
        )
        redact = d.action in (Action.REDACT, Action.COARSE)
        if redact and tracked is not None and p.motion is not None:
            coarse = self._coarse_blocks if d.action is Action.COARSE else 0
            return self._redact(p, p.motion, tracked, own_look, coarse, d.why)
        if d.action is Action.OVERLOAD_DROP:
            log.warning("frame %d dropped: %s", f.seq, d.why)
            return StreamOutput.dropped(f.seq, ts, d.reason, f, since=p.received)
        return self._finish(self.redactor.fail_closed(f, d.reason), p.received)

    def _facts(self, p: _Pending, over_budget: bool) -> Facts:
        """What the rules look at, about `p` and its stream as `p` goes out."""
        ts, last, still = p.frame.timestamp_us, self._det.last_detected_us, self._still
        own, error = self._det.claim(p.detection, ts, over_budget)
        waited = self._first_sweep() is not None
        if still is not None:
            still.collect()
        return Facts(
            own=own,
            own_error=error,
            over_budget=over_budget,
            budget_ms=self.budget_s * 1000,
            starved=p.starved,
            max_unfinished=self._det.max_unfinished,
            healthy=self._det.healthy,
            age_us=None if last is None else ts - last,
            max_age_us=self.limits.max_detection_age_ms * 1000,
            motion_failed=p.motion is None,
            look_error="" if self._look is None else self._look.collect(p.frame.seq),
            sweeps=still is not None,
            sweep_failed=None if still is None else still.failed,
            first_sweep_done=still is not None and still.started,
            wait_first=still is not None and still.cfg.wait_first,
            first_sweep_waited=waited,
            drop_on_overload=self.policy.policy.on_overload == "drop",
            coarse_first=self._coarse_blocks > 0,
            picture_changed=p.motion is not None and p.motion.changed,
            still_stale=still is not None and still.stale,
        )

    def _redact(
        self,
        p: _Pending,
        motion: Motion,
        tracked: TrackedFrame,
        own_look: bool,
        coarse: int = 0,
        why: str = "",
    ) -> StreamOutput:
        """Masks the frame from its tracks, the sweeps' still boxes and what moved on it
        (`own_look`: its own look is done); with `coarse`, all of it first under a mosaic of
        that many blocks across."""
        f = p.frame
        dets, reasons = tracked.detections, tracked.reasons
        cover = self._cover
        max_height = 0.0  # no band over tall walkers' faces its look found (0: none)
        seen = None  # ... those faces, the look sure of them
        if not coarse and motion.moved:
            self._moving.inc()
        if self._look is not None:
            # the band only covers what the look may miss; silhouettes (cover 1) stay
            if own_look:
                if not coarse:  # counted on the frames counted as moving
                    self.stats.looked += 1
                    self._looked.inc()
                if cover < 1.0:
                    cover = min(cover, self._cover_looked)
                    max_height = self._looked_max_px
            looked = self._look.remembered(f.seq, f.width, f.height)
            if own_look:
                sure = (looked.scores >= self._looked_min_score) & (looked.labels == Label.FACE)
                seen = looked.boxes[sure]
            if len(looked):
                dets = Detections.concat([dets, looked])
                reasons = np.concatenate(
                    [reasons, np.full(len(looked), int(MaskReason.DETECTED), np.int8)]
                )
        if self._still is not None:
            still = self._still.held_untracked(motion, f.timestamp_us)
            if len(still):
                dets = Detections.concat([dets, still])
                reasons = np.concatenate(
                    [reasons, np.full(len(still), int(MaskReason.STILL), np.int8)]
                )
        moving = None
        if self._motion is not None:
            m = self._motion.cfg
            if self._outline:
                max_height /= detail_scale(f.width, m.region_width)  # in frame px
                # side strips go only where the frame's own look covers the heads a
                # shoulder's strip may hold (a shorter walker's beside a taller one)
                moving = motion.outline(
                    cover, m.mask_margin, m.mask_margin_px, max_height, seen, sides=own_look
                )
            else:
                moving = motion.masks(cover, m.mask_margin, m.mask_margin_px)
        shown, cell = None, 0  # under the start's mosaic, half blocks that moved show
        if coarse and moving is not None:
            cell = max(2, grid_block(f.width, f.height, coarse) // 2)
            shown = motion.shown_cells(cell, f.width, f.height, self._coarse_moving, moving)
            # ... and those the camera's previous stream swept, whose picture is as it was
            known = None if self._still is None else self._still.known_cells(f, cell)
            if known is not None:
                shown |= known
        r = self.redactor.redact(
            f, dets, reasons, moving, coarse_blocks=coarse, coarse_shown=shown, coarse_cell=cell
        )
        if coarse and r.status == FrameStatus.REDACTED:
            r.reason = why
        if r.status == FrameStatus.FULLY_MASKED:
            self.stats.fully_masked += 1
        return self._finish(r, p.received)

    def close(self) -> None:
        if self._still is not None:
            self._still.sweeper.pressure.report(id(self), False)
            self._remember()
        self._det.close()
        if self._look is not None:
            self._look.close()
        self._pending.clear()
        super().close()


def _result(job: Future[Detections] | None) -> Detections | None:
    """A finished look's boxes; None when there was none, it is not done or it failed."""
    if job is None or not job.done() or job.cancelled() or job.exception() is not None:
        return None
    return job.result()
