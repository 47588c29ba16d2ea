"""bench.export_score: leaks at 80% coverage, gap filling, masked and oracle shares."""

from __future__ import annotations

import numpy as np
import pytest

from bench.export_score import fill_gaps, oracle_share, score

W, H = 100, 50


def boxes(*rows: tuple[float, float, float, float]) -> np.ndarray:
    return np.array(rows, np.float32).reshape(-1, 4)


@pytest.mark.parametrize(
    ("mask", "leaked"),
    [
        (boxes((10, 10, 20, 20)), 0),  # covered exactly
        (boxes((0, 0, 50, 50)), 0),  # covered with room
        (boxes((10, 10, 18, 20)), 0),  # 80% covered: not a leak
        (boxes((10, 10, 17, 20)), 1),  # 70%
        (boxes(), 1),  # nothing masked
        (boxes((0, 0, W, H)), 0),  # a fully masked frame covers everything
    ],
)
def test_a_reference_box_leaks_when_covered_less_than_80_percent(
    mask: np.ndarray, leaked: int
) -> None:
    s = score([boxes((10, 10, 20, 20))], [mask], W, H)
    assert (s.objects, s.leaks) == (1, leaked)
    assert s.leak_rate == leaked


def test_79_percent_of_the_box_is_a_leak() -> None:
    ref = boxes((0, 0, 100, 1))  # 100 px in one row
    assert score([ref], [boxes((0, 0, 79, 1))], W, H).leaks == 1
    assert score([ref], [boxes((0, 0, 80, 1))], W, H).leaks == 0


def test_masked_share_counts_overlapping_masks_once_and_averages_frames() -> None:
    s = score(
        [boxes(), boxes()],
        [boxes((0, 0, 50, 50), (25, 0, 50, 50)), boxes()],
        W,
        H,
    )
    assert s.masked_share == pytest.approx(0.25)  # half the first frame, none of the second
    assert s.objects == 0 and s.leak_rate == 0.0
    assert s.oracle_share == 0.0 and s.over_oracle is None


def test_oracle_share_grows_the_box_by_1_3_about_its_centre() -> None:
    # a 20x20 box centred at (50, 25) grows to 26x26: 676 of 5000 px
    assert oracle_share(boxes((40, 15, 60, 35)), W, H) == pytest.approx(676 / 5000)
    # clipped at the frame's edge: 13x13 of the grown box's quarter is inside
    assert oracle_share(boxes((-10, -10, 10, 10)), W, H) == pytest.approx(13 * 13 / 5000)
    s = score([boxes((40, 15, 60, 35))], [boxes((0, 0, 50, 50))], W, H)
    assert s.over_oracle == pytest.approx(0.5 / (676 / 5000))


def test_gaps_up_to_2_s_are_interpolated_longer_ones_are_not() -> None:
    fps = 10
    t = [i * 1_000_000 // fps for i in range(50)]
    per_frame = [boxes() for _ in t]
    ids = [np.zeros(0, np.int64) for _ in t]
    # track 1 at frames 0 and 10 (1 s apart), moving right; track 2 at 20 and 50 (3 s)
    for i, box, tid in ((0, (0, 0, 10, 10), 1), (10, (20, 0, 30, 10), 1), (20, (0, 20, 5, 25), 2)):
        per_frame[i] = boxes(box)
        ids[i] = np.array([tid], np.int64)
    t.append(50 * 1_000_000 // fps)
    per_frame.append(boxes((0, 20, 5, 25)))
    ids.append(np.array([2], np.int64))

    filled = fill_gaps(per_frame, ids, t)
    assert [len(b) for b in filled[:11]] == [1] * 11  # 1 s gap: every frame filled
    np.testing.assert_allclose(filled[5][0], (10, 0, 20, 10))  # half-way in time
    assert all(len(b) == 0 for b in filled[11:20])  # between two tracks: nothing
    assert all(len(b) == 0 for b in filled[21:50])  # 3 s gap: not filled
    assert len(filled[20]) == len(filled[50]) == 1


def test_two_tracks_on_one_frame_are_filled_apart() -> None:
    t = [0, 100_000, 200_000]
    per_frame = [boxes((0, 0, 10, 10), (50, 0, 60, 10)), boxes(), boxes((2, 0, 12, 10))]
    ids = [np.array([1, 2]), np.zeros(0, np.int64), np.array([1])]
    filled = fill_gaps(per_frame, ids, t)
    np.testing.assert_allclose(filled[1], boxes((1, 0, 11, 10)))  # only track 1 came back


def test_frames_of_masks_and_reference_must_match() -> None:
    with pytest.raises(ValueError, match="frames"):
        score([boxes()], [], W, H)
