"""Every frame's own look at where it moved (redactor/pipeline/look.py): when a frame gets
one, which looks' boxes mask it, and that no backlog builds up."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from redactor.config import LookConfig, MotionConfig
from redactor.pipeline.background import Motion
from redactor.pipeline.look import FrameLook
from redactor.types import Detections, Frame, Label

W, H = 320, 240
BLOB = [100.0, 80.0, 130.0, 150.0]  # a walker, frame px


class _Gated:
    """Finds one face in the middle of each crop, once `open` is set; counts calls."""

    name = "gated"
    model_sha256 = ""

    def __init__(self, fail: bool = False) -> None:
        self.open = threading.Event()
        self.fail = fail
        self.calls = 0

    def detect(self, bgr: np.ndarray) -> Detections:
        self.calls += 1
        self.open.wait(10)
        if self.fail:
            raise RuntimeError("injected look failure")
        h, w = bgr.shape[:2]
        box = [w / 2 - 5, h / 2 - 5, w / 2 + 5, h / 2 + 5]
        return Detections.create([box], [0.5], [int(Label.FACE)])

    def close(self) -> None:
        pass


def _frame(seq: int) -> Frame:
    return Frame.from_bgr(np.zeros((H, W, 3), np.uint8), seq=seq, timestamp_us=seq * 100_000)


def _moving(trusted: bool = True, blobs: list[list[float]] | None = None) -> Motion:
    b = np.asarray([BLOB] if blobs is None else blobs, np.float32).reshape(-1, 4)
    return Motion(b, np.zeros((H, W), np.uint8), 1.0, trusted)


def _look(det: _Gated, wait_s: float = 1.0, **cfg: float) -> FrameLook:
    return FrameLook(det, LookConfig(**cfg), MotionConfig(), wait_s)  # type: ignore[arg-type]


def test_a_look_only_where_something_moved() -> None:
    det = _Gated()
    det.open.set()
    look = _look(det)
    try:
        assert look.offer(_frame(0), _moving(trusted=False)) is None  # still learning
        assert look.offer(_frame(1), _moving(blobs=[])) is None  # nothing moved
        job = look.offer(_frame(2), _moving())
        assert job is not None
        found = job.result(5)
        # the crop's box, back in frame pixels: inside the walker's region
        ((x0, y0, x1, y1),) = found.boxes.tolist()
        assert BLOB[0] - 30 < x0 < x1 < BLOB[2] + 30 and BLOB[1] - 30 < y0 < y1 < BLOB[3] + 30
    finally:
        look.close()


def test_no_backlog_a_frame_gets_no_look_while_one_runs() -> None:
    det = _Gated()
    look = _look(det)
    try:
        jobs = [look.offer(_frame(i), _moving()) for i in range(3)]
        assert jobs[0] is not None
        assert jobs[1] is None and jobs[2] is None
        det.open.set()
        jobs[0].result(5)
        assert look.offer(_frame(3), _moving()) is not None  # room again
    finally:
        det.open.set()
        look.close()


def test_a_frame_is_masked_from_the_looks_of_the_last_memory_frames_grown() -> None:
    det = _Gated()
    det.open.set()
    look = _look(det, memory=3, grow=2.0)
    try:
        job = look.offer(_frame(10), _moving())
        assert job is not None
        own = job.result(5).boxes[0]
        for seq in (10, 11, 12):  # its own frame, then the next memory - 1
            got = look.remembered(seq, W, H)
            assert len(got) == 1
            np.testing.assert_allclose(got.boxes[0][2:] - got.boxes[0][:2], 2 * (own[2:] - own[:2]))
        assert len(look.remembered(13, W, H)) == 0  # 10 <= 13 - 3: forgotten
    finally:
        look.close()


def test_a_look_done_after_its_frame_went_out_serves_the_next_frames() -> None:
    det = _Gated()
    look = _look(det, memory=3)
    try:
        job = look.offer(_frame(5), _moving())
        assert job is not None
        assert len(look.remembered(5, W, H)) == 0  # its frame went out without it
        det.open.set()
        job.result(5)
        assert len(look.remembered(6, W, H)) == 1
    finally:
        det.open.set()
        look.close()


def test_a_failed_look_masks_nothing_and_is_reported_until_one_succeeds() -> None:
    det = _Gated(fail=True)
    det.open.set()
    look = _look(det)
    try:
        job = look.offer(_frame(1), _moving())
        assert job is not None
        with pytest.raises(RuntimeError, match="injected look failure"):
            job.result(5)
        assert look.collect(1) == "RuntimeError: injected look failure"
        assert len(look.remembered(1, W, H)) == 0
        # a frame with no look of its own still hears of it: the session fails it closed
        assert look.collect(2) == "RuntimeError: injected look failure"
        det.fail = False
        job = look.offer(_frame(3), _moving())
        assert job is not None
        job.result(5)
        assert look.collect(3) == ""
        assert len(look.remembered(3, W, H)) == 1
    finally:
        look.close()


def test_while_looks_take_longer_than_a_frame_may_wait_frames_stop_waiting_and_few_are_looked_at() -> (
    None
):
    det = _Gated()
    look = _look(det, wait_s=0.05, probe_s=2.0)
    try:
        assert look.fits and look.wait_limit() == 0.05  # nothing known yet: frames wait
        job = look.offer(_frame(0), _moving())
        assert job is not None
        threading.Timer(0.2, det.open.set).start()  # this look takes 0.2 s
        job.result(5)
        deadline = time.monotonic() + 5  # the time is noted just after the result is set
        while look.fits and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not look.fits and look.wait_limit() == 0.0
        # frames 100 ms apart: the next look comes 2 s of video later (a probe)
        det.open.clear()
        offered = []
        for i in range(1, 45):
            probe = look.offer(_frame(i), _moving())
            if probe is not None:
                offered.append(i)
                if i == 20:  # slow again: looks stay out until the next probe
                    assert look.probing  # detections leave it the CPU (LiveSession)
                    threading.Timer(0.2, det.open.set).start()
                probe.result(5)
                assert not look.probing
                deadline = time.monotonic() + 5  # the time is noted just after the result
                while (look.fits == (i == 20)) and time.monotonic() < deadline:
                    time.sleep(0.01)
        # the probe at 40 fits: one is enough, every frame after it is looked at again
        assert offered == [20, 40, 41, 42, 43, 44], offered
    finally:
        det.open.set()
        look.close()


def _offer_taking(look: FrameLook, det: _Gated, frame: Frame, seconds: float) -> bool:
    """Offers `frame`; its look, if it gets one, takes `seconds` (0: none). True if it did,
    once its time is noted (just after the result is set)."""
    det.open.clear()
    threading.Timer(seconds, det.open.set).start()
    job = look.offer(frame, _moving())
    if job is not None:
        job.result(5)
        time.sleep(0.05)
    return job is not None


def test_one_slow_look_among_fast_ones_does_not_stop_the_frames_waiting() -> None:
    det = _Gated()
    look = _look(det, wait_s=0.05)
    try:
        for i in range(6):  # one look, in a crowd, is slower than the wait
            assert _offer_taking(look, det, _frame(i), 0.2 if i == 3 else 0.0)
            assert look.fits and look.wait_limit() == 0.05, i
    finally:
        det.open.set()
        look.close()


def test_looks_a_little_slower_than_the_wait_go_on_without_frames_waiting_for_them() -> None:
    det = _Gated()
    look = _look(det, wait_s=0.1)
    try:
        for i in range(3):  # each look over the wait, but within KEEP_LOOKING waits
            assert _offer_taking(look, det, _frame(i), 0.13), i  # every frame is looked at
            assert look.fits and look.wait_limit() == 0.0, i  # ... but none waits for it
    finally:
        det.open.set()
        look.close()


def test_at_a_high_rate_looks_too_late_to_mask_a_frame_stop() -> None:
    det = _Gated()
    look = _look(det, wait_s=0.1, memory=3)
    try:
        for i in range(3):  # each look done after the memory - 1 frames it could mask
            frame = Frame.from_bgr(np.zeros((H, W, 3), np.uint8), seq=i, timestamp_us=i * 40_000)
            assert _offer_taking(look, det, frame, 0.09) == (i == 0), i  # then only probes
        assert not look.fits and look.wait_limit() == 0.0
    finally:
        det.open.set()
        look.close()


@pytest.mark.parametrize("min_box_px", [0.0, 30.0])
def test_a_looks_small_boxes_are_masked_at_least_min_box_px_each_way(min_box_px: float) -> None:
    """A small face's box is a few px off from frame to frame: it is masked at least
    `min_box_px` each way about its centre (after `grow`); larger boxes as grown."""
    det = _Gated()
    det.open.set()
    look = _look(det, grow=1.5, min_box_px=min_box_px)
    try:
        job = look.offer(_frame(10), _moving())
        assert job is not None
        own = job.result(5).boxes[0]
        (got,) = look.remembered(10, W, H).boxes
        np.testing.assert_allclose((got[:2] + got[2:]) / 2, (own[:2] + own[2:]) / 2, atol=1e-3)
        grown = 1.5 * (own[2:] - own[:2])
        np.testing.assert_allclose(got[2:] - got[:2], np.maximum(min_box_px, grown), atol=1e-3)
    finally:
        look.close()


class _Costly:
    """Takes `s_per_px` seconds per pixel of each crop; finds one face in its middle."""

    name = "costly"
    model_sha256 = ""

    def __init__(self, s_per_px: float) -> None:
        self.s_per_px = s_per_px
        self.crops: list[tuple[int, ...]] = []

    def detect(self, bgr: np.ndarray) -> Detections:
        self.crops.append(bgr.shape)
        h, w = bgr.shape[:2]
        time.sleep(h * w * self.s_per_px)
        box = [w / 2 - 5, h / 2 - 5, w / 2 + 5, h / 2 + 5]
        return Detections.create([box], [0.5], [int(Label.FACE)])

    def close(self) -> None:
        pass


def _walker() -> Motion:
    """The walker of BLOB with its silhouette: a head on a body."""
    fg = np.zeros((H, W), np.uint8)
    x0, y0, x1, y1 = (int(v) for v in BLOB)
    fg[y0 : y0 + 12, x0 + 9 : x1 - 9] = 255  # the head
    fg[y0 + 12 : y1, x0:x1] = 255  # the body and legs
    return Motion(np.asarray([BLOB], np.float32), fg, 1.0, True)


@pytest.mark.parametrize(
    ("s_per_px", "head_depth", "heads"),
    [
        (2e-5, 0.5, True),  # the whole region takes four waits: the next look takes heads
        (1e-7, 0.5, False),  # the whole region fits: it stays whole
        (2e-5, 0.0, False),  # head looks off
    ],
)
def test_a_look_whose_whole_regions_would_not_fit_the_wait_crops_the_heads(
    s_per_px: float, head_depth: float, heads: bool
) -> None:
    det, counted = _Costly(s_per_px), []
    cfg = LookConfig(head_depth=head_depth, probe_s=0.1)  # frames 0.1 s apart: each may probe
    look = FrameLook(det, cfg, MotionConfig(), 0.05, on_heads=lambda: counted.append(1))
    motion = _walker()
    whole = motion.regions(MotionConfig(), W, H)
    try:
        for seq in (0, 1):
            job = look.offer(_frame(seq), motion)
            assert job is not None, seq
            found = job.result(5)
            time.sleep(0.05)  # its time is noted just after the result is set
        assert det.crops[0][:2] == (whole[0][3] - whole[0][1], whole[0][2] - whole[0][0])
        assert len(counted) == heads
        if heads:  # the top of the walker, its head with it, not its legs
            ((x0, y0, x1, y1),) = motion.regions(MotionConfig(), W, H, head_depth)
            assert det.crops[1][:2] == (y1 - y0, x1 - x0)
            assert y0 < BLOB[1] < BLOB[3] > y1 and x0 < BLOB[0] + 9 < BLOB[2] - 9 < x1
            ((_, fy0, _, fy1),) = found.boxes.tolist()
            assert y0 <= fy0 < fy1 <= y1
        else:
            assert det.crops[1] == det.crops[0]
    finally:
        look.close()
