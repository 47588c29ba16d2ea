"""bench.live_bound: the reference masking its own later frames, on hand-made boxes."""

from __future__ import annotations

import numpy as np
import pytest

from bench import live_bound as lb

W, H = 200, 50


def walker(frames: int, step: float) -> list[np.ndarray]:
    """A 10 px face moving `step` px right per frame."""
    return [np.array([[10 + i * step, 20, 20 + i * step, 30]], np.float32) for i in range(frames)]


def test_on_time_the_reference_covers_itself() -> None:
    b = lb.bound(walker(10, 10), W, H, lag=0, memory=1, grow=1.3, enlargement=1.3)
    assert (b.leaks, b.objects) == (0, 10)
    assert b.masked_over_oracle == pytest.approx(1.0)


def test_a_frame_late_a_face_that_moves_its_width_leaks() -> None:
    b = lb.bound(walker(10, 10), W, H, lag=1, memory=1, grow=1.3, enlargement=1.3)
    # the first frame has nothing to mask from; the others are a box width on
    assert b.leaks == 10
    # grown 3x, last frame's box reaches over this one
    assert lb.bound(walker(10, 10), W, H, 1, 1, 3.0, 1.3).leaks == 1


def test_a_still_face_the_reference_finds_on_some_frames_only_needs_memory() -> None:
    face = np.array([[50, 20, 60, 30]], np.float32)
    none = np.zeros((0, 4), np.float32)
    ref = [face, none, face, none, none, face]  # found, lost, found again
    late = lb.bound(ref, W, H, lag=1, memory=1, grow=1.3, enlargement=1.3)
    assert late.leaks == 3  # frame 0 has no past; frames 2 and 5 follow a frame without it
    remembered = lb.bound(ref, W, H, lag=1, memory=3, grow=1.3, enlargement=1.3)
    assert remembered.leaks == 1  # only frame 0
    assert remembered.masked_share > late.masked_share


def test_lagged_masks_take_the_frames_asked_for() -> None:
    ref = [np.array([[i, 0, i + 1, 1]], np.float32) for i in range(5)]
    masks = lb.lagged_masks(ref, lag=1, memory=2, grow=1.0)
    assert len(masks[0]) == 0
    np.testing.assert_array_equal(masks[1], ref[0])
    np.testing.assert_array_equal(masks[4], np.concatenate([ref[2], ref[3]]))
    with pytest.raises(ValueError, match="memory >= 1"):
        lb.lagged_masks(ref, lag=0, memory=0, grow=1.0)
