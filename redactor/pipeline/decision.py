"""What becomes of one live frame: a stream's fail-closed and overload rules, in order.

`decide` is pure: the session (pipeline/live.py) gathers the facts about the frame and
its stream, calls it and acts on the answer, so the rules read in one place and are
tested as a table (tests/pipeline/test_decision.py). Why each rule: docs/live.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Own(Enum):
    """The frame's own detection when the frame goes out."""

    NONE = "none"  # not a detect frame (or its detection was cancelled for a newer one)
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class Action(Enum):
    REDACT = "redact"  # masked from its boxes, the still ones and what moved on it
    FAIL_CLOSED = "fail closed"  # fully masked for safety
    COARSE = "coarse"  # as REDACT, under a coarse mosaic (a stream's start, a changed picture)
    OVERLOAD_MASK = "overload: fully masked"  # the overload rule, policy on_overload = mask
    OVERLOAD_DROP = "overload: dropped"  # ... on_overload = drop


class Source(Enum):
    """Where the frame's boxes come from. Decided before the rules that may still fail the
    frame closed: a frame's own detection moves the tracks even then."""

    NONE = "none"
    OWN = "own detection"  # it moves the tracks to this frame; the stream is healthy again
    TRACKS = "tracks"  # the tracks predicted to the frame's time (Tracker.peek)


@dataclass(frozen=True, slots=True)
class Facts:
    """What the rules look at: one frame and its stream as the frame goes out."""

    own: Own = Own.NONE
    own_error: str = ""  # "Type: message" of the own detection's failure
    over_budget: bool = False  # the frame waited longer than its latency budget
    budget_ms: float = 0.0
    starved: bool = False  # due for detection, not submitted: too many were unfinished
    max_unfinished: int = 0  # limits.stream_queue_frames
    healthy: bool = True  # no detection failed since the last one that succeeded
    age_us: int | None = None  # frame time minus the newest folded detection's; None: none yet
    max_age_us: int = 0  # limits.max_detection_age_ms
    motion_failed: bool = False  # the motion model failed on this frame
    look_error: str = ""  # why the stream's newest look failed, until one succeeds (live.look)
    sweeps: bool = False  # the stream sweeps still ground (the sweep facts below apply)
    sweep_failed: str | None = None  # why the newest sweep failed, until one succeeds
    first_sweep_done: bool = False  # the stream's start sweeps are done (StillMasks.started)
    wait_first: bool = False  # live.sweep.wait_first
    first_sweep_waited: bool = False  # frames wait for the stream's start sweeps: one runs
    coarse_first: bool = False  # live.sweep.first_mosaic_blocks > 0 (and sweeps)
    picture_changed: bool = False  # most of the picture changed at once (Motion.changed)
    still_stale: bool = False  # ... on an earlier frame, and no sweep since (StillMasks.stale)
    drop_on_overload: bool = False  # the policy's on_overload is "drop"


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    source: Source = Source.NONE
    why: str = ""  # why the frame is not redacted from its boxes
    unhealthy: bool = False  # its own detection failed: later frames fail closed until one succeeds
    # what to tell the sweeps (Pressure) about this stream's detections falling behind;
    # None: nothing (no sweeps, or the rules stopped before it was known)
    behind: bool | None = None

    @property
    def reason(self) -> str:
        """As the frame's output gives it."""
        overload = self.action in (Action.OVERLOAD_MASK, Action.OVERLOAD_DROP)
        return f"overload: {self.why}" if overload else self.why


def decide(x: Facts) -> Decision:
    """The rules, first match wins."""
    if x.starved:
        return _overload(
            x, f"{x.max_unfinished} detections are still unfinished (limits.stream_queue_frames)"
        )
    if x.over_budget:
        return _overload(x, f"frame waited longer than the latency budget ({x.budget_ms:.0f} ms)")
    behind = None
    if x.own is Own.FAILED:
        return Decision(Action.FAIL_CLOSED, why=f"detection failed: {x.own_error}", unhealthy=True)
    if x.own is Own.DONE:
        source = Source.OWN
        if x.sweeps:
            behind = False
    else:
        if not x.healthy:  # predictions from before a failure are not trusted
            return Decision(Action.FAIL_CLOSED, why="the last detection failed")
        age = x.age_us
        if (
            x.sweeps
        ):  # half the age limit gone: sweeps wait for detection (not while it waits for a sweep)
            behind = age is not None and age > x.max_age_us // 2 and not x.first_sweep_waited
        if age is None or age > x.max_age_us:
            why = (
                "no detection yet"
                if age is None
                else f"newest detection is {age / 1000:.0f} ms old"
            )
            if x.own is Own.RUNNING:  # behind on its own detection: the overload rule
                return _overload(x, f"detection still running and {why}", behind)
            return Decision(Action.FAIL_CLOSED, why=why, behind=behind)
        source = Source.TRACKS
    if x.motion_failed:
        return Decision(
            Action.FAIL_CLOSED, source, "the motion model failed on this frame", behind=behind
        )
    if x.look_error:  # where faces move is not known: nothing passes until a look succeeds
        return Decision(Action.FAIL_CLOSED, source, f"look failed: {x.look_error}", behind=behind)
    if x.sweeps:
        if x.sweep_failed is not None:  # what stands still is not known: nothing passes
            return Decision(Action.FAIL_CLOSED, source, x.sweep_failed, behind=behind)
        if not x.first_sweep_done and x.wait_first:  # ... nor before the start's sweeps
            return Decision(
                Action.COARSE if x.coarse_first else Action.FAIL_CLOSED,
                source,
                ("coarse mosaic: " if x.coarse_first else "")
                + "the stream's first sweeps of still ground are not done",
                behind=behind,
            )
    if x.picture_changed or x.still_stale:  # what moves, or what stands still, is not known
        why = (
            "the picture changed as a whole (a light, the camera): what moves is not known"
            if x.picture_changed
            else "the picture changed as a whole: its still ground is not swept again yet"
        )
        if x.coarse_first:
            return Decision(Action.COARSE, source, "coarse mosaic: " + why, behind=behind)
        return Decision(Action.FAIL_CLOSED, source, why, behind=behind)
    return Decision(Action.REDACT, source, behind=behind)


def _overload(x: Facts, why: str, behind: bool | None = None) -> Decision:
    return Decision(
        Action.OVERLOAD_DROP if x.drop_on_overload else Action.OVERLOAD_MASK, why=why, behind=behind
    )
