"""The sweep: still boxes held from a slow thorough look, moving ones left to motion."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from redactor.config import SweepConfig
from redactor.pipeline.background import Motion
from redactor.pipeline.sweep import StillMasks, Sweeper
from redactor.types import Detections, Frame, Label

POSTER = [
    20.0,
    20.0,
    44.0,
    44.0,
]  # a face on a wall: never moves (24 px: min_box_px leaves it as is)
WALKER = [100.0, 50.0, 120.0, 74.0]  # a face on someone walking


class _Scripted:
    """Returns the boxes of its script in turn (the last one for ever), or raises on None."""

    name = "scripted"
    model_sha256 = ""

    def __init__(self, script: list[list[list[float]] | None], delay_s: float = 0.0) -> None:
        self.script, self.delay_s = script, delay_s
        self.calls = 0
        self.started: list[float] = []
        self.lock = threading.Lock()

    def detect(self, bgr: np.ndarray) -> Detections:
        with self.lock:
            self.started.append(time.perf_counter())
            boxes = self.script[min(self.calls, len(self.script) - 1)]
            self.calls += 1
        time.sleep(self.delay_s)
        if boxes is None:
            raise RuntimeError("injected sweep failure")
        return Detections.create(np.array(boxes).reshape(-1, 4), [0.5] * len(boxes), Label.FACE)

    def close(self) -> None:
        pass


def _motion(
    poster_level: int = 0,
    poster_moving: bool = False,
    size: tuple[int, int] = (120, 160),
    ground: int = 0,
) -> Motion:
    """The walker's box moves on this frame, the poster's does not unless `poster_moving`
    (work size = frame size); the picture is at `ground` but the poster's box, at
    `poster_level`."""
    fg = np.zeros(size, np.uint8)
    fg[45:80, 95:125] = 255
    small = np.full((*size, 3), ground, np.uint8)
    small[20:44, 20:44] = poster_level
    if poster_moving:
        fg[20:44, 20:44] = 255
    return Motion(np.array([[95, 45, 125, 80]], np.float32), fg, 1.0, True, small)


def _frame(ts_us: int) -> Frame:
    return Frame.from_bgr(np.zeros((120, 160, 3), np.uint8), 0, ts_us)


def _sweep(masks: StillMasks, ts_us: int) -> None:
    masks.offer(_frame(ts_us), _motion())
    masks.wait(10)


def test_holds_what_the_sweep_found_on_still_ground_only() -> None:
    sweeper = Sweeper(_Scripted([[POSTER, WALKER]]), nice=0)
    try:
        masks = StillMasks(sweeper, SweepConfig(interval_s=1.0))
        assert len(masks.held(_motion(), 0)) == 0  # nothing swept yet
        _sweep(masks, 0)
        np.testing.assert_allclose(
            masks.held(_motion(), 40_000).boxes, [POSTER]
        )  # the walker is motion's
        assert masks.failed is None and masks.sweeps == 1
    finally:
        sweeper.close()


@pytest.mark.parametrize(
    ("min_box_px", "times", "want"),
    [
        # the defaults: each side to twice its length, min_box_px at most
        pytest.param(24.0, 2.0, [25.0, 24.0, 45.0, 48.0], id="twice-up-to-24"),
        pytest.param(24.0, 100.0, [23.0, 24.0, 47.0, 48.0], id="every-box-to-24"),
        pytest.param(16.0, 2.0, [27.0, 28.0, 43.0, 44.0], id="twice-up-to-16"),
        pytest.param(0.0, 2.0, [30.0, 30.0, 40.0, 42.0], id="as-found"),
    ],
)
def test_a_small_still_box_is_masked_grown_about_its_centre(
    min_box_px: float, times: float, want: list[float]
) -> None:
    """A box at the sweep's floor is a few px off the thorough one's, by a share of its
    own size: each side grows to `min_box_px`, to at most `min_box_times` its length."""
    small = [30.0, 30.0, 40.0, 42.0]  # a far face, still
    sweeper = Sweeper(_Scripted([[small]]), nice=0)
    try:
        cfg = SweepConfig(interval_s=1.0, min_box_px=min_box_px, min_box_times=times)
        masks = StillMasks(sweeper, cfg)
        _sweep(masks, 0)
        np.testing.assert_allclose(masks.held(_motion(), 40_000).boxes, [want])
    finally:
        sweeper.close()


def test_still_boxes_grow_to_at_most_twice_their_size_by_default() -> None:
    cfg = SweepConfig()
    assert (cfg.min_box_px, cfg.min_box_times) == (24.0, 2.0)


def test_a_still_box_is_held_while_its_picture_stays_as_it_was() -> None:
    """A detector at its floor finds a small face on some sweeps only: sweeps that miss
    it do not drop it, nor does someone walking over it; its picture changing with
    nothing moving there (what was there has left) does, even within `keep` sweeps: a
    walker the sweep saw standing for a moment leaves no mask behind."""
    det = _Scripted([[POSTER], [POSTER], [], []])
    sweeper = Sweeper(det, nice=0)
    try:
        masks = StillMasks(sweeper, SweepConfig(interval_s=1.0, hold_s=60.0, keep=2))
        _sweep(masks, 0)
        _sweep(masks, 100_000)  # the second sweep follows the first at once
        _sweep(masks, 600_000)  # not due: half an interval later
        assert det.calls == 2
        _sweep(masks, 1_100_000)  # one sweep without it: still held
        np.testing.assert_allclose(masks.held(_motion(), 1_100_000).boxes, [POSTER])
        _sweep(masks, 2_100_000)  # two sweeps without it
        assert det.calls == 4
        np.testing.assert_allclose(masks.held(_motion(), 2_100_000).boxes, [POSTER])
        np.testing.assert_allclose(
            masks.held(_motion(4), 2_140_000).boxes, [POSTER]
        )  # coding noise
        walked_over = _motion(poster_level=200, poster_moving=True)
        np.testing.assert_allclose(masks.held(walked_over, 2_180_000).boxes, [POSTER])
        changed = _motion(poster_level=200)
        assert len(masks.held(changed, 2_220_000)) == 0  # changed, nothing moving: left
        assert len(masks.held(_motion(), 2_260_000)) == 0  # and gone for good
    finally:
        sweeper.close()


def test_the_second_sweep_follows_the_first_at_once_then_the_interval() -> None:
    """A detector at its floor finds a small still thing on some sweeps only: a stream's
    first sweep alone would decide what is masked for a whole interval, so the second
    follows it at once; from then on a sweep is due every interval."""
    det = _Scripted([[POSTER], [], [], []])
    sweeper = Sweeper(det, nice=0)
    try:
        masks = StillMasks(sweeper, SweepConfig(interval_s=1.0))
        for ts, calls in ((0, 1), (40_000, 2), (80_000, 2), (1_000_000, 2), (1_040_000, 3)):
            _sweep(masks, ts)
            assert det.calls == calls, ts
    finally:
        sweeper.close()


def test_a_streams_still_ground_is_known_after_its_first_sweeps_only() -> None:
    """What one sweep misses the next may find: the stream's start (its frames under the
    coarse mosaic, pipeline/decision.py) lasts until `first_sweeps` sweeps are done, the
    second sent on the frame after the first is done, on the first-sweep thread."""
    det = _Scripted([[POSTER], [WALKER], []])
    sweeper = Sweeper(det, nice=0)
    try:
        masks = StillMasks(sweeper, SweepConfig(first_sweeps=2))
        _sweep(masks, 0)
        assert masks.sweeps == 1 and not masks.started and masks.first_running() is None
        det.delay_s = 0.3
        masks.offer(_frame(40_000), _motion())
        running = masks.first_running()
        assert running is not None and not running.done()  # frames wait for it, as for the first
        running.result(timeout=5)
        assert masks.first_running() is None and masks.started and masks.sweeps == 2
        assert det.calls == 2  # no detector of its own for the second (`again`): the first's
        one = StillMasks(sweeper, SweepConfig(first_sweeps=1))
        det.delay_s = 0.0
        _sweep(one, 0)
        assert one.started
    finally:
        sweeper.close()


def test_the_starts_sweeps_after_its_first_read_again_with_their_own_profile() -> None:
    """A stream's first sweep is the whole profile; the start's next ones are second
    readings (live.sweep.start_again: text alone by default), and the sweeps after
    the start the whole profile again. What each finds is held alike."""
    sign = [60.0, 90.0, 100.0, 114.0]  # still, away from the walker, min_box_px each way
    whole, again = _Scripted([[POSTER], []]), _Scripted([[sign]])
    sweeper = Sweeper(whole, nice=0, first=whole, again=again)
    try:
        masks = StillMasks(sweeper, SweepConfig(first_sweeps=3, interval_s=1.0))
        for ts in (0, 40_000, 80_000):  # the start: three sweeps, one after the other
            _sweep(masks, ts)
        assert masks.started and (whole.calls, again.calls) == (1, 2)
        _sweep(masks, 1_080_000)  # an interval later: the whole profile
        assert (whole.calls, again.calls) == (2, 2)
        held = masks.held(_motion(), 1_100_000).boxes.tolist()
        assert sorted(held) == sorted([POSTER, sign])  # what the second readings read is held too
    finally:
        sweeper.close()


def test_a_box_that_left_goes_within_keep_sweeps() -> None:
    det = _Scripted([[POSTER]])
    sweeper = Sweeper(det, nice=0)
    try:
        masks = StillMasks(sweeper, SweepConfig(interval_s=1.0, hold_s=60.0, keep=4))
        _sweep(masks, 0)
        np.testing.assert_allclose(masks.held(_motion(), 40_000).boxes, [POSTER])
        assert len(masks.held(_motion(poster_level=200), 80_000)) == 0
    finally:
        sweeper.close()


def test_a_still_box_goes_hold_s_after_the_newest_sweep_that_found_it() -> None:
    det = _Scripted([[POSTER], [], [POSTER], []])
    sweeper = Sweeper(det, nice=0)
    try:
        masks = StillMasks(sweeper, SweepConfig(interval_s=1.0, hold_s=5.0, keep=1))
        for ts in (0, 1_000_000, 2_000_000, 3_000_000):  # found at 0 s and again at 2 s
            _sweep(masks, ts)
        assert det.calls == 4
        assert len(masks.held(_motion(), 4_000_000)) == 1  # a new sighting replaced the old one
        assert len(masks.held(_motion(), 6_900_000)) == 1
        assert len(masks.held(_motion(), 7_100_000)) == 0  # 5.1 s after it
    finally:
        sweeper.close()


def test_a_picture_of_another_size_holds_none_of_the_old_boxes() -> None:
    sweeper = Sweeper(_Scripted([[POSTER]]), nice=0)
    try:
        masks = StillMasks(sweeper, SweepConfig(interval_s=60.0))
        _sweep(masks, 0)
        assert len(masks.held(_motion(), 40_000)) == 1
        assert len(masks.held(_motion(size=(240, 320)), 80_000)) == 0
    finally:
        sweeper.close()


def test_a_failed_sweep_is_reported_until_one_succeeds_and_retried_at_once() -> None:
    det = _Scripted([None, [POSTER]])
    sweeper = Sweeper(det, nice=0)
    try:
        masks = StillMasks(sweeper, SweepConfig(interval_s=60.0))
        _sweep(masks, 0)
        assert masks.failed is not None and "injected sweep failure" in masks.failed
        _sweep(masks, 40_000)  # the next frame, well within the interval: retried
        assert det.calls == 2 and masks.failed is None
        np.testing.assert_allclose(masks.held(_motion(), 40_000).boxes, [POSTER])
    finally:
        sweeper.close()


def test_the_sweeper_rests_to_stay_within_its_busy_share_but_first_sweeps_do_not_wait() -> None:
    det = _Scripted([[]], delay_s=0.1)
    sweeper = Sweeper(det, nice=0, busy_share=0.5)  # busy 0.1 s, then rest 0.1 s
    try:
        a, b = (
            StillMasks(sweeper, SweepConfig(interval_s=0.01)),
            StillMasks(sweeper, SweepConfig(interval_s=0.01)),
        )
        _sweep(a, 0)  # a's start: its first_sweeps (2) on the first-sweep thread
        _sweep(a, 20_000)
        _sweep(a, 40_000)  # two streams' later sweeps, one sweeper: they take turns, with rests
        b.sweeps = 2  # (b's start is over)
        _sweep(b, 40_000)
        assert det.calls == 4
        assert det.started[3] - det.started[2] >= 0.19, det.started
        c = StillMasks(sweeper, SweepConfig())  # a new stream, while the sweeper rests
        t0 = time.perf_counter()
        _sweep(c, 0)
        _sweep(c, 40_000)
        assert det.started[4] - t0 < 0.05 and det.started[5] - det.started[4] < 0.15 and c.started
    finally:
        sweeper.close()


def test_a_held_object_seen_again_otherwise_is_masked_as_both() -> None:
    """A detector at its floor outlines a still thing differently from sweep to sweep (a
    sign read as two words, then as a whole): the held box grows to cover every outline
    instead of the newest replacing the others."""
    words = [24.0, 26.0, 40.0, 38.0]  # inside the poster, IoU 0.33
    shifted = [26.0, 26.0, 50.0, 50.0]  # the poster 6 px off, IoU 0.39
    for script, held in (
        ([[POSTER], [words]], [POSTER]),
        ([[words], [POSTER]], [POSTER]),
        ([[POSTER], [shifted]], [[20.0, 20.0, 50.0, 50.0]]),
    ):
        sweeper = Sweeper(_Scripted(script), nice=0)
        try:
            masks = StillMasks(sweeper, SweepConfig(interval_s=0.01, min_box_px=0))
            _sweep(masks, 0)
            _sweep(masks, 20_000)
            np.testing.assert_allclose(masks.held(_motion(), 40_000).boxes, held)
        finally:
            sweeper.close()


def test_sweeps_wait_while_a_stream_falls_behind() -> None:
    """Live detection first: while any stream reports its detections behind, no sweep
    starts, except a stream's first ones (until they are done its still ground is masked)."""
    det = _Scripted([[POSTER]])
    sweeper = Sweeper(det, nice=0)
    try:
        masks = StillMasks(sweeper, SweepConfig())
        masks.sweeps = 2  # its start is over
        sweeper.pressure.report(1, True)
        masks.offer(_frame(0), _motion())
        time.sleep(0.3)
        assert det.calls == 0, "a sweep started while a stream was behind"
        sweeper.pressure.report(2, False)  # another stream keeping up changes nothing
        time.sleep(0.1)
        assert det.calls == 0
        sweeper.pressure.report(1, False)
        masks.wait(10)
        assert det.calls == 1 and len(masks.held(_motion(), 0)) == 1

        new = StillMasks(sweeper, SweepConfig())
        sweeper.pressure.report(1, True)
        new.offer(_frame(0), _motion())
        new.wait(10)
        assert det.calls == 2 and new.sweeps == 1, (
            "a new stream's first sweep waited on another's pressure"
        )
    finally:
        sweeper.close()


def test_closing_does_not_wait_out_a_rest() -> None:
    """After a sweep the thread rests (busy_share); a sweep queued behind that rest ends
    at close() instead: a server stopping (or a process exiting, which joins the thread)
    must not wait minutes for it."""
    det = _Scripted([[POSTER]])
    sweeper = Sweeper(det, nice=0, busy_share=1e-6)
    masks = StillMasks(sweeper, SweepConfig())
    masks.sweeps = 2  # past its start: later sweeps take turns and rest
    masks.offer(_frame(0), _motion())
    masks.wait(10)  # done; the next would rest a million times its time
    assert det.calls == 1
    masks.offer(_frame(10_000_000), _motion())
    (queued,) = masks._in_flight
    time.sleep(0.1)
    t0 = time.perf_counter()
    sweeper.close()
    try:
        queued[0].result(timeout=2)
    except RuntimeError as e:
        assert "closing" in str(e)
    else:
        raise AssertionError("the rested sweep ran after close()")
    assert time.perf_counter() - t0 < 1.5 and det.calls == 1
    workers = list(sweeper._pool._threads)  # this sweeper's thread (other tests' may be alive)
    assert workers
    for t in workers:
        t.join(2)
    assert not any(t.is_alive() for t in workers)


def _changed() -> Motion:
    """A frame whose picture changed as a whole: nothing known to move, the model untrusted."""
    m = _motion()
    return Motion(np.zeros((0, 4), np.float32), np.zeros_like(m.fg), 1.0, False, m.small, True)


def test_a_picture_changed_as_a_whole_is_swept_again_at_once_its_boxes_held_till_then() -> None:
    """A light switched on changes every still box's picture: they would all go as
    'left'. They are held, whatever their picture, and the stream's still ground is
    stale until a sweep of a frame after the change is done; that sweep is due at once
    (the stream's next trusted frame), not an interval later."""
    det = _Scripted([[POSTER]], delay_s=0.2)
    sweeper = Sweeper(det, nice=0)
    try:
        masks = StillMasks(sweeper, SweepConfig(interval_s=60.0, hold_s=120.0))
        _sweep(masks, 0)
        _sweep(masks, 100_000)  # the second sweep follows the first
        assert not masks.stale and det.calls == 2
        masks.offer(_frame(200_000), _changed())
        assert masks.stale and det.calls == 2  # no sweep of a picture still changing
        lit = _motion(poster_level=200, ground=80)  # the model trusts the new picture
        masks.offer(_frame(240_000), lit)  # swept at once, an interval early
        assert masks.stale  # until that sweep is done
        np.testing.assert_allclose(masks.held(lit, 240_000).boxes, [POSTER])
        masks.wait(10)
        assert det.calls == 3 and not masks.stale
        np.testing.assert_allclose(masks.held(lit, 280_000).boxes, [POSTER])  # as swept now
        assert len(masks.held(_motion(), 320_000)) == 0  # the new picture left: it goes
    finally:
        sweeper.close()


def test_after_the_change_a_box_the_new_sweep_misses_is_held_by_its_new_picture() -> None:
    """A detector at its floor misses a small face on some sweeps: the first sweep after
    the change missing it does not drop it (its picture is taken anew), within `keep`."""
    det = _Scripted([[POSTER], [POSTER], []])
    sweeper = Sweeper(det, nice=0)
    try:
        masks = StillMasks(sweeper, SweepConfig(interval_s=60.0, hold_s=120.0, keep=2))
        _sweep(masks, 0)
        _sweep(masks, 100_000)
        masks.offer(_frame(200_000), _changed())
        lit = _motion(poster_level=200, ground=80)
        masks.offer(_frame(240_000), lit)
        masks.wait(10)
        assert det.calls == 3 and not masks.stale
        np.testing.assert_allclose(masks.held(lit, 280_000).boxes, [POSTER])
    finally:
        sweeper.close()


def test_a_sweep_begun_before_the_change_does_not_end_it() -> None:
    det = _Scripted([[POSTER]], delay_s=0.3)
    sweeper = Sweeper(det, nice=0)
    try:
        masks = StillMasks(sweeper, SweepConfig(interval_s=60.0))
        masks.offer(_frame(0), _motion())  # the first sweep runs ...
        masks.offer(_frame(40_000), _changed())  # ... when the picture changes
        masks.wait(10)
        assert masks.sweeps == 1 and masks.stale
        masks.offer(_frame(80_000), _motion(poster_level=200, ground=80))
        masks.wait(10)
        assert det.calls == 2 and not masks.stale
    finally:
        sweeper.close()


def test_a_changed_picture_is_swept_beside_a_sweep_resting_its_turn() -> None:
    """A sweep sent before the change may wait minutes for the sweeper's rest: the new
    picture's sweep does not wait behind it (it runs at the first sweep's priority)."""
    det = _Scripted([[POSTER]])
    sweeper = Sweeper(det, nice=0, busy_share=1e-6)
    try:
        masks = StillMasks(sweeper, SweepConfig(interval_s=1.0))
        masks.sweeps = 2  # past its first two: later sweeps take turns and rest
        masks.offer(_frame(0), _motion())
        masks.wait(10)
        masks.offer(_frame(2_000_000), _motion())  # resting a million times its time
        masks.offer(_frame(2_040_000), _changed())
        masks.offer(_frame(2_080_000), _motion(poster_level=200, ground=80))
        assert len(masks._in_flight) == 2
        deadline = time.monotonic() + 5
        while masks.stale and time.monotonic() < deadline:
            time.sleep(0.02)
            masks.collect()
        assert not masks.stale and det.calls == 2 and len(masks._in_flight) == 1
    finally:
        sweeper.close()


def test_a_picture_filled_by_something_passing_is_not_swept_again() -> None:
    """Something large passing close to the camera fills the picture as a light does;
    once it has gone, the still ground looks as it did: nothing is stale."""
    det = _Scripted([[POSTER]])
    sweeper = Sweeper(det, nice=0)
    try:
        masks = StillMasks(sweeper, SweepConfig(interval_s=60.0))
        _sweep(masks, 0)
        _sweep(masks, 100_000)
        masks.offer(_frame(200_000), _changed())
        assert masks.stale
        masks.offer(_frame(240_000), _motion())  # the picture as before the change
        assert not masks.stale and det.calls == 2
    finally:
        sweeper.close()
