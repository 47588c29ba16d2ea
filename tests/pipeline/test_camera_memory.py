"""A camera's still ground, kept from one of its streams for the next
(pipeline/camera_memory.py), and how a stream's sweeps take it in (pipeline/sweep.py)."""

from __future__ import annotations

import time

import numpy as np
import pytest

from redactor.config import SweepConfig
from redactor.pipeline.background import Motion
from redactor.pipeline.camera_memory import (
    NOISE_PX,
    CameraMemory,
    Remembered,
    picture,
    unchanged_cells,
)
from redactor.pipeline.sweep import StillMasks, Sweeper
from redactor.types import Detections, Frame, Label

H, W = 120, 160
POSTER = [20.0, 20.0, 44.0, 44.0]  # a face on a wall, found by every sweep


def _ground() -> np.ndarray:
    """Grey ground with some texture (BGR)."""
    g = np.random.default_rng(3).integers(60, 120, (H, W), dtype=np.uint8)
    return np.repeat(g[..., None], 3, axis=2)


@pytest.mark.parametrize(
    ("patch", "changed_cells"),
    [
        pytest.param(None, [], id="the-same-picture"),
        # a small face where nothing was
        pytest.param((50, 56, 70, 76, 200), [(3, 4)], id="a-small-new-face"),
        # coding noise: a few pixels far off, no more than NOISE_PX in a cell
        pytest.param((0, 1, 0, NOISE_PX, 255), [], id="noise"),
        pytest.param((0, 1, 0, NOISE_PX + 1, 255), [(0, 0)], id="more-than-noise"),
        # the bottom-right cell is cut short by the frame's edge, and still compared
        pytest.param((116, 120, 156, 160, 0), [(7, 9)], id="an-edge-cell"),
    ],
)
def test_only_the_cells_where_something_differs_are_changed(
    patch: tuple[int, int, int, int, int] | None, changed_cells: list[tuple[int, int]]
) -> None:
    before = _ground()
    now = before.copy()
    if patch is not None:
        y0, y1, x0, x1, value = patch
        now[y0:y1, x0:x1] = value
    known = unchanged_cells(before, now, 16, 32.0)
    assert known.shape == (8, 10)  # 120 / 16 rows, the last cut short, by 160 / 16 columns
    assert sorted(map(tuple, np.argwhere(~known).tolist())) == changed_cells


def test_a_colour_of_the_grounds_brightness_is_a_change() -> None:
    """A red coat on grey ground of the same luma: a comparison of luma alone misses it."""
    before = np.full((H, W, 3), 90, np.uint8)
    now = before.copy()
    now[50:56, 70:76] = (30, 30, 200)  # BGR red; luma 0.114*30 + 0.587*30 + 0.299*200 = 81
    assert sorted(map(tuple, np.argwhere(~unchanged_cells(before, now, 16, 32.0)).tolist())) == [
        (3, 4)
    ]


def test_a_light_that_changed_changes_every_cell() -> None:
    before = _ground()
    now = (before + 40).astype(np.uint8)
    assert not unchanged_cells(before, now, 16, 32.0).any()
    assert unchanged_cells(before, (before + 20).astype(np.uint8), 16, 32.0).all()


def test_pictures_of_two_sizes_are_not_compared() -> None:
    with pytest.raises(ValueError, match=r"\(120, 160, 3\) and \(60, 80, 3\)"):
        unchanged_cells(_ground(), _ground()[:60, :80], 16, 32.0)


@pytest.mark.parametrize("layout", ["bgr", "i420"])
def test_the_picture_is_a_bgr_copy_of_the_frame(layout: str) -> None:
    bgr = _ground()
    if layout == "bgr":
        frame = Frame.from_bgr(bgr)
    else:
        grey = np.full((H // 2, W // 2), 128, np.uint8)
        frame = Frame("i420", (np.ascontiguousarray(bgr[..., 0]), grey, grey.copy()))
    out = picture(frame)
    assert out.shape == (H, W, 3) and out.dtype == np.uint8
    np.testing.assert_array_equal(out, frame.to_bgr())
    out[0, 0] ^= 1  # a copy: the frame is masked after it is taken
    assert (frame.to_bgr()[0, 0] != out[0, 0]).all()


def _remembered(tag: int) -> Remembered:
    return Remembered(np.full((2, 2, 3), tag, np.uint8), ())  # 12 bytes


def test_the_memory_keeps_each_camera_and_size_apart() -> None:
    memory = CameraMemory(60.0, 1000)
    memory.save(("cam-1", 1920, 1080), _remembered(1))
    memory.save(("cam-2", 1920, 1080), _remembered(2))
    assert memory.recall(("cam-1", 1920, 1080)).picture[0, 0, 0] == 1  # type: ignore[union-attr]
    assert memory.recall(("cam-2", 1920, 1080)).picture[0, 0, 0] == 2  # type: ignore[union-attr]
    assert memory.recall(("cam-1", 1280, 720)) is None
    assert memory.recall(("cam-3", 1920, 1080)) is None
    memory.save(("cam-1", 1920, 1080), _remembered(3))  # the newest stream's
    assert memory.recall(("cam-1", 1920, 1080)).picture[0, 0, 0] == 3  # type: ignore[union-attr]


def test_the_memory_forgets_after_keep_s() -> None:
    memory = CameraMemory(0.05, 1000)
    memory.save(("cam-1", 16, 16), _remembered(1))
    assert memory.recall(("cam-1", 16, 16)) is not None
    time.sleep(0.1)
    assert memory.recall(("cam-1", 16, 16)) is None


def test_the_least_recently_saved_camera_goes_first_past_max_bytes() -> None:
    memory = CameraMemory(60.0, 24)  # two pictures of 12 bytes
    for cam in ("a", "b", "c", "a", "d"):
        memory.save((cam, 16, 16), _remembered(1))
    assert [c for c in "abcd" if memory.recall((c, 16, 16)) is not None] == ["a", "d"]
    assert memory.bytes == 24
    memory.save(("e", 64, 64), Remembered(np.zeros((4, 4, 3), np.uint8), ()))  # 48: too large
    assert memory.recall(("e", 64, 64)) is None
    assert [c for c in "abcd" if memory.recall((c, 16, 16)) is not None] == ["a", "d"]


class _Poster:
    """The sweep's detector: the poster on every sweep."""

    name = "poster"
    model_sha256 = ""

    def detect(self, bgr: np.ndarray) -> Detections:
        return Detections.create([POSTER], [0.5], Label.FACE)

    def close(self) -> None:
        pass


class _Nothing(_Poster):
    def detect(self, bgr: np.ndarray) -> Detections:
        return Detections.empty()


def _still() -> Motion:
    """Nothing moves; the work picture is the frame's (work size = frame size)."""
    return Motion(np.zeros((0, 4), np.float32), np.zeros((H, W), np.uint8), 1.0, True, _bgr())


def _bgr() -> np.ndarray:
    return _ground()


def _frame(bgr: np.ndarray, ts_us: int) -> Frame:
    return Frame.from_bgr(bgr, 0, ts_us)


def _swept_stream(cfg: SweepConfig) -> Remembered:
    """A stream whose start's sweeps found the poster: what it leaves for the next."""
    sweeper = Sweeper(_Poster(), nice=0)
    try:
        masks = StillMasks(sweeper, cfg)
        for i in range(cfg.first_sweeps):
            assert masks.remembered() is None  # its own start is not over
            masks.offer(_frame(_bgr(), i * 100_000), _still())
            masks.wait(10)
        remembered = masks.remembered()
        assert remembered is not None
        return remembered
    finally:
        sweeper.close()


def test_the_next_stream_holds_the_boxes_and_knows_the_unchanged_cells_during_its_start() -> None:
    cfg = SweepConfig(interval_s=60.0)
    remembered = _swept_stream(cfg)
    np.testing.assert_array_equal(remembered.picture, _ground())
    assert [h.box.tolist() for h in remembered.held] == [POSTER]
    # the next stream: its sweeps find nothing (a detector at its floor), and are slow
    sweeper = Sweeper(_Nothing(), nice=0)
    try:
        masks = StillMasks(sweeper, cfg)
        masks.recall(remembered, 5_000_000)
        bgr = _bgr()
        bgr[100:106, 140:146] = 255  # someone came and stands there
        frame = _frame(bgr, 5_000_000)
        known = masks.known_cells(frame, 16)
        assert known is not None
        assert sorted(map(tuple, np.argwhere(~known).tolist())) == [(6, 8), (6, 9)]
        # the poster is held from the first frame on, as if this stream had swept it
        np.testing.assert_allclose(masks.held(_still(), 5_000_000).boxes, [POSTER])
        for i in range(cfg.first_sweeps):
            masks.offer(_frame(bgr, 5_000_000 + i * 100_000), _still())
            masks.wait(10)
        assert masks.started
        assert masks.known_cells(frame, 16) is None  # its own sweeps know the still ground now
        np.testing.assert_allclose(masks.held(_still(), 6_000_000).boxes, [POSTER])
        again = masks.remembered()
        assert again is not None and [h.box.tolist() for h in again.held] == [POSTER]
        np.testing.assert_array_equal(again.picture, bgr)
    finally:
        sweeper.close()


def test_a_frame_of_another_size_knows_no_cell() -> None:
    cfg = SweepConfig(interval_s=60.0)
    remembered = _swept_stream(cfg)
    sweeper = Sweeper(_Nothing(), nice=0)
    try:
        masks = StillMasks(sweeper, cfg)
        masks.recall(remembered, 0)
        small = np.zeros((60, 80, 3), np.uint8)
        assert masks.known_cells(_frame(small, 0), 16) is None
    finally:
        sweeper.close()


class _PosterThenFails(_Poster):
    def __init__(self, good: int) -> None:
        self.good = good

    def detect(self, bgr: np.ndarray) -> Detections:
        self.good -= 1
        if self.good < 0:
            raise RuntimeError("injected sweep failure")
        return super().detect(bgr)


def test_a_stream_whose_newest_sweep_failed_leaves_nothing() -> None:
    cfg = SweepConfig(interval_s=0.05)
    sweeper = Sweeper(_PosterThenFails(cfg.first_sweeps), nice=0)
    try:
        masks = StillMasks(sweeper, cfg)
        for i in range(cfg.first_sweeps):
            masks.offer(_frame(_bgr(), i * 100_000), _still())
            masks.wait(10)
        assert masks.remembered() is not None
        masks.offer(_frame(_bgr(), 1_000_000), _still())
        masks.wait(10)
        assert masks.failed is not None
        assert masks.remembered() is None
    finally:
        sweeper.close()
