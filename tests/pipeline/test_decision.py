"""A live frame's fate, rule by rule (redactor/pipeline/decision.py): one row per rule.

Each row is a frame that every earlier rule lets through and its own rule stops (or the
happy paths), plus rows where two rules apply, so that the order of the rules is tested
too: swapping two rules fails a row.
"""

from __future__ import annotations

import dataclasses

import pytest

from redactor.pipeline.decision import Action, Decision, Facts, Own, Source, decide

MAX_AGE_US = 1_000_000
# a frame every rule lets through: healthy, detected 40 ms ago, swept, motion known
OK = Facts(
    own=Own.NONE,
    budget_ms=400.0,
    max_unfinished=8,
    healthy=True,
    age_us=40_000,
    max_age_us=MAX_AGE_US,
    sweeps=True,
    first_sweep_done=True,
    wait_first=True,
)
MASK, DROP, FAIL, REDACT = (
    Action.OVERLOAD_MASK,
    Action.OVERLOAD_DROP,
    Action.FAIL_CLOSED,
    Action.REDACT,
)

ROWS = [
    # name, facts changed from OK, action, source, reason (substring)
    ("own detection → masked from it", dict(own=Own.DONE), REDACT, Source.OWN, ""),
    ("no own detection → masked from the tracks", {}, REDACT, Source.TRACKS, ""),
    (
        "own detection still running → masked from the tracks",
        dict(own=Own.RUNNING),
        REDACT,
        Source.TRACKS,
        "",
    ),
    (
        "over the latency budget → overload",
        dict(over_budget=True),
        MASK,
        Source.NONE,
        "overload: frame waited longer than the latency budget (400 ms)",
    ),
    (
        "over the budget, policy drops → dropped",
        dict(over_budget=True, drop_on_overload=True),
        DROP,
        Source.NONE,
        "overload: frame waited longer than the latency budget",
    ),
    (
        "too many unfinished detections → overload",
        dict(starved=True),
        MASK,
        Source.NONE,
        "overload: 8 detections are still unfinished (limits.stream_queue_frames)",
    ),
    (
        "starved, policy drops → dropped",
        dict(starved=True, drop_on_overload=True),
        DROP,
        Source.NONE,
        "8 detections are still unfinished",
    ),
    (
        "own detection failed → fail closed",
        dict(own=Own.FAILED, own_error="RuntimeError: boom"),
        FAIL,
        Source.NONE,
        "detection failed: RuntimeError: boom",
    ),
    (
        "last detection failed (unhealthy) → fail closed",
        dict(healthy=False),
        FAIL,
        Source.NONE,
        "the last detection failed",
    ),
    ("no detection yet → fail closed", dict(age_us=None), FAIL, Source.NONE, "no detection yet"),
    (
        "newest detection too old → fail closed",
        dict(age_us=MAX_AGE_US + 1_000),
        FAIL,
        Source.NONE,
        "newest detection is 1001 ms old",
    ),
    (
        "detection exactly max age old → masked from the tracks",
        dict(age_us=MAX_AGE_US),
        REDACT,
        Source.TRACKS,
        "",
    ),
    (
        "no detection yet, own running → overload",
        dict(age_us=None, own=Own.RUNNING),
        MASK,
        Source.NONE,
        "overload: detection still running and no detection yet",
    ),
    (
        "too old, own running, policy drops → dropped",
        dict(age_us=2 * MAX_AGE_US, own=Own.RUNNING, drop_on_overload=True),
        DROP,
        Source.NONE,
        "overload: detection still running and newest detection is 2000 ms old",
    ),
    (
        "motion model failed, tracks → fail closed",
        dict(motion_failed=True),
        FAIL,
        Source.TRACKS,
        "the motion model failed on this frame",
    ),
    (
        "motion model failed, own detection → fail closed, yet it moves the tracks",
        dict(motion_failed=True, own=Own.DONE),
        FAIL,
        Source.OWN,
        "the motion model failed on this frame",
    ),
    (
        "the newest look failed → fail closed",
        dict(look_error="RuntimeError: onnx"),
        FAIL,
        Source.TRACKS,
        "look failed: RuntimeError: onnx",
    ),
    (
        "the newest look failed, own detection → fail closed, yet it moves the tracks",
        dict(look_error="RuntimeError: onnx", own=Own.DONE),
        FAIL,
        Source.OWN,
        "look failed: RuntimeError: onnx",
    ),
    (
        "a failed sweep → fail closed",
        dict(sweep_failed="sweep failed: OSError: disk"),
        FAIL,
        Source.TRACKS,
        "sweep failed: OSError: disk",
    ),
    (
        "first sweep not done, wait_first → fail closed",
        dict(first_sweep_done=False),
        FAIL,
        Source.TRACKS,
        "the stream's first sweeps of still ground are not done",
    ),
    (
        "first sweep not done, wait_first, coarse mosaic → masked under it",
        dict(first_sweep_done=False, coarse_first=True),
        Action.COARSE,
        Source.TRACKS,
        "coarse mosaic: the stream's first sweeps of still ground are not done",
    ),
    (
        "a failed sweep, coarse mosaic → still fail closed",
        dict(sweep_failed="sweep failed: OSError: disk", coarse_first=True),
        FAIL,
        Source.TRACKS,
        "sweep failed: OSError: disk",
    ),
    (
        "the picture changed as a whole, coarse mosaic → masked under it",
        dict(picture_changed=True, coarse_first=True),
        Action.COARSE,
        Source.TRACKS,
        "coarse mosaic: the picture changed as a whole (a light, the camera): what moves is "
        "not known",
    ),
    (
        "the picture changed as a whole, no mosaic (no sweeps, or 0 blocks) → fail closed",
        dict(picture_changed=True),
        FAIL,
        Source.TRACKS,
        "the picture changed as a whole (a light, the camera): what moves is not known",
    ),
    (
        "its still ground not swept since the picture changed, coarse mosaic → masked under it",
        dict(still_stale=True, coarse_first=True),
        Action.COARSE,
        Source.TRACKS,
        "coarse mosaic: the picture changed as a whole: its still ground is not swept again yet",
    ),
    (
        "the picture changed, and a look failed → fail closed",
        dict(picture_changed=True, coarse_first=True, look_error="RuntimeError: x"),
        FAIL,
        Source.TRACKS,
        "look failed: RuntimeError: x",
    ),
    (
        "first sweep not done, no wait_first → masked",
        dict(first_sweep_done=False, wait_first=False),
        REDACT,
        Source.TRACKS,
        "",
    ),
    (
        "no sweeps: their facts do not count",
        dict(sweeps=False, sweep_failed="x", first_sweep_done=False),
        REDACT,
        Source.TRACKS,
        "",
    ),
    # two rules at once: the earlier one decides
    (
        "starved and over budget → starved",
        dict(starved=True, over_budget=True),
        MASK,
        Source.NONE,
        "detections are still unfinished",
    ),
    (
        "over budget and own failed → overload",
        dict(over_budget=True, own=Own.FAILED, own_error="E: x"),
        MASK,
        Source.NONE,
        "latency budget",
    ),
    (
        "own failed and unhealthy → own failure",
        dict(own=Own.FAILED, own_error="E: x", healthy=False),
        FAIL,
        Source.NONE,
        "detection failed: E: x",
    ),
    (
        "own done while unhealthy → masked from it",
        dict(own=Own.DONE, healthy=False, age_us=None),
        REDACT,
        Source.OWN,
        "",
    ),
    (
        "unhealthy and no detection yet → unhealthy",
        dict(healthy=False, age_us=None),
        FAIL,
        Source.NONE,
        "the last detection failed",
    ),
    (
        "unhealthy, own running → fail closed, not overload",
        dict(healthy=False, own=Own.RUNNING, age_us=None),
        FAIL,
        Source.NONE,
        "the last detection failed",
    ),
    (
        "too old and motion failed → too old",
        dict(age_us=None, motion_failed=True),
        FAIL,
        Source.NONE,
        "no detection yet",
    ),
    (
        "motion failed and sweep failed → motion",
        dict(motion_failed=True, sweep_failed="sweep failed: E: x"),
        FAIL,
        Source.TRACKS,
        "the motion model failed",
    ),
    (
        "motion model and look failed → the motion model first",
        dict(motion_failed=True, look_error="E: x"),
        FAIL,
        Source.TRACKS,
        "the motion model failed",
    ),
    (
        "look and sweep failed → the look first",
        dict(look_error="E: x", sweep_failed="sweep failed: E: y"),
        FAIL,
        Source.TRACKS,
        "look failed: E: x",
    ),
    (
        "sweep failed before the first is done → sweep failed",
        dict(sweep_failed="sweep unavailable: closing", first_sweep_done=False),
        FAIL,
        Source.TRACKS,
        "sweep unavailable: closing",
    ),
]


@pytest.mark.parametrize(
    ("changes", "action", "source", "reason"), [r[1:] for r in ROWS], ids=[r[0] for r in ROWS]
)
def test_rule(changes: dict[str, object], action: Action, source: Source, reason: str) -> None:
    d = decide(dataclasses.replace(OK, **changes))  # type: ignore[arg-type]
    assert (d.action, d.source) == (action, source)
    assert reason in d.reason
    assert bool(d.reason) == (action is not Action.REDACT)  # a frame not redacted always says why
    assert d.unhealthy == (changes.get("own") is Own.FAILED and action is FAIL)


@pytest.mark.parametrize(
    ("changes", "behind"),
    [
        (dict(own=Own.DONE), False),  # its own detection: not behind
        ({}, False),  # 40 ms old
        (
            dict(age_us=MAX_AGE_US // 2 + 1),
            True,
        ),  # half the age limit gone: sweeps wait for detection
        (
            dict(age_us=MAX_AGE_US // 2 + 1, first_sweep_waited=True),
            False,
        ),  # ... not while it waits for a sweep
        (dict(age_us=None), False),  # nothing detected yet
        (dict(age_us=2 * MAX_AGE_US), True),  # reported, though the frame fails closed
        (dict(sweeps=False), None),  # no sweeps: nothing to tell
        (dict(healthy=False), None),  # the rules stopped before
        (dict(starved=True), None),
        (dict(over_budget=True), None),
        (dict(own=Own.FAILED), None),
    ],
)
def test_what_the_sweeps_are_told(changes: dict[str, object], behind: bool | None) -> None:
    assert decide(dataclasses.replace(OK, **changes)).behind is behind  # type: ignore[arg-type]


def test_reason_says_overload_only_for_the_overload_rule() -> None:
    assert Decision(Action.OVERLOAD_DROP, why="x").reason == "overload: x"
    assert Decision(Action.FAIL_CLOSED, why="x").reason == "x"
