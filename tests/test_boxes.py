"""redactor.boxes, the one home of box geometry, against tables and slow obvious references."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.eval_score import box_mask, coverage
from redactor.boxes import (
    Region,
    aligned_windows,
    at_least,
    centres_in,
    clip,
    enlarge,
    grid_block,
    grid_rest,
    grid_sums,
    grid_touched,
    iou_matrix,
    merge_regions,
    merge_union,
    nms,
    suppress,
)
from redactor.types import Detections, Label

F32 = npt.NDArray[np.float32]


def _boxes(*rows: tuple[float, float, float, float]) -> F32:
    return np.array(rows, np.float32).reshape(-1, 4)


def _slow_iou(a: F32, b: F32) -> npt.NDArray[np.float64]:
    """One pair at a time, in Python floats: the definition, nothing clever."""
    out = np.zeros((len(a), len(b)))
    for i, (ax0, ay0, ax1, ay1) in enumerate(a.tolist()):
        for j, (bx0, by0, bx1, by1) in enumerate(b.tolist()):
            inter = max(0.0, min(ax1, bx1) - max(ax0, bx0)) * max(
                0.0, min(ay1, by1) - max(ay0, by0)
            )
            union = (ax1 - ax0) * (ay1 - ay0) + (bx1 - bx0) * (by1 - by0) - inter
            out[i, j] = inter / union if union > 0 else 0.0
    return out


def _random_boxes(rng: np.random.Generator, n: int, size: float = 100.0, top: float = 400.0) -> F32:
    xy = rng.uniform(0, top, (n, 2))
    wh = rng.uniform(0, size, (n, 2))
    return np.concatenate([xy, xy + wh], axis=1).astype(np.float32)


# ------------------------------------------------------------------ iou_matrix


@pytest.mark.parametrize(
    ("a", "b", "want"),
    [
        pytest.param((0, 0, 10, 10), (20, 20, 30, 30), 0.0, id="disjoint"),
        pytest.param((0, 0, 10, 10), (10, 0, 20, 10), 0.0, id="touching-edge"),
        pytest.param((0, 0, 10, 10), (0, 0, 10, 10), 1.0, id="identical"),
        pytest.param((5, 5, 10, 10), (0, 0, 20, 20), 0.0625, id="nested"),
        pytest.param((0, 0, 20, 20), (5, 5, 10, 10), 0.0625, id="nested-other-way"),
        pytest.param((0, 0, 10, 10), (5, 0, 15, 10), 1 / 3, id="half-overlap"),
        pytest.param((0, 0, 10, 10), (0, 0, 10, 20), 0.5, id="one-in-two"),
        pytest.param((5, 5, 5, 5), (0, 0, 10, 10), 0.0, id="zero-area-inside"),
        pytest.param((5, 5, 5, 5), (5, 5, 5, 5), 0.0, id="both-zero-area"),
        pytest.param((0, 0, 0, 10), (0, 0, 10, 10), 0.0, id="zero-width"),
    ],
)
def test_iou_matrix_table(
    a: tuple[float, float, float, float], b: tuple[float, float, float, float], want: float
) -> None:
    got = iou_matrix(_boxes(a), _boxes(b))
    assert got.shape == (1, 1) and got.dtype == np.float64
    assert got[0, 0] == pytest.approx(want, abs=1e-12)
    assert iou_matrix(_boxes(b), _boxes(a))[0, 0] == got[0, 0]  # symmetric


@pytest.mark.parametrize(("n", "m"), [(0, 0), (0, 3), (3, 0)])
def test_iou_matrix_of_no_boxes_has_the_shape_of_none(n: int, m: int) -> None:
    rng = np.random.default_rng(0)
    got = iou_matrix(_random_boxes(rng, n), _random_boxes(rng, m))
    assert got.shape == (n, m) and got.dtype == np.float64


def test_iou_matrix_matches_the_slow_reference() -> None:
    rng = np.random.default_rng(1)
    for _ in range(20):
        a, b = _random_boxes(rng, 12), _random_boxes(rng, 9)
        np.testing.assert_allclose(iou_matrix(a, b), _slow_iou(a, b), rtol=1e-12, atol=1e-12)


# ------------------------------------------------------------------ nms


def _slow_nms(boxes: F32, scores: npt.NDArray[np.float32], iou: float) -> list[int]:
    """Greedy: take the best left, drop all that overlap it by more than `iou`, again."""
    left = sorted(range(len(boxes)), key=lambda i: -float(scores[i]))  # sorted() is stable
    keep: list[int] = []
    while left:
        best = left.pop(0)
        keep.append(best)
        left = [i for i in left if _slow_iou(boxes[best : best + 1], boxes[i : i + 1])[0, 0] <= iou]
    return keep


@pytest.mark.parametrize(
    ("boxes", "scores", "iou", "want"),
    [
        pytest.param([], [], 0.5, [], id="none"),
        pytest.param([(0, 0, 10, 10)], [0.3], 0.5, [0], id="one"),
        pytest.param(
            [(0, 0, 10, 10), (1, 0, 11, 10), (50, 50, 60, 60)],
            [0.5, 0.9, 0.7],
            0.5,
            [1, 2],
            id="best-first",
        ),
        pytest.param(
            [(0, 0, 10, 10), (0, 0, 10, 10)], [0.8, 0.8], 0.5, [0], id="tie-keeps-the-first"
        ),
        # IoU exactly 0.5: suppressed only above the threshold, not at it
        pytest.param(
            [(0, 0, 10, 10), (0, 0, 10, 20)], [0.9, 0.8], 0.5, [0, 1], id="iou-equal-threshold-kept"
        ),
        pytest.param(
            [(0, 0, 10, 10), (0, 0, 10, 20)],
            [0.9, 0.8],
            0.49,
            [0],
            id="iou-above-threshold-dropped",
        ),
        pytest.param(
            [(0, 0, 10, 10), (20, 0, 30, 10)], [0.9, 0.8], 0.0, [0, 1], id="disjoint-at-zero"
        ),
        pytest.param(
            [(5, 5, 5, 5), (0, 0, 10, 10)], [0.9, 0.8], 0.0, [0, 1], id="zero-area-never-suppresses"
        ),
    ],
)
def test_nms_table(
    boxes: list[tuple[float, float, float, float]], scores: list[float], iou: float, want: list[int]
) -> None:
    got = nms(_boxes(*boxes), np.array(scores, np.float32), iou)
    assert got.dtype == np.intp
    assert got.tolist() == want


def test_nms_matches_the_slow_reference() -> None:
    rng = np.random.default_rng(2)
    for _ in range(30):
        boxes = _random_boxes(rng, 25, size=150)
        scores = rng.choice([0.2, 0.5, 0.7, 0.9], 25).astype(np.float32)  # ties on purpose
        for iou in (0.0, 0.3, 0.5):
            assert nms(boxes, scores, iou).tolist() == _slow_nms(boxes, scores, iou)


# ------------------------------------------------------------------ suppress and merge_union


def test_suppress_keeps_the_best_per_label_in_the_original_order() -> None:
    d = Detections.create(
        [[0, 0, 10, 10], [1, 0, 11, 10], [0, 0, 10, 10], [100, 100, 110, 110]],
        [0.5, 0.9, 0.4, 0.3],
        [Label.FACE, Label.FACE, Label.PLATE, Label.FACE],
    )
    got = suppress(d, 0.5)
    # the plate overlaps both faces but has another label: it stays
    assert got.scores.tolist() == pytest.approx([0.9, 0.4, 0.3])
    assert got.labels.tolist() == [Label.FACE, Label.PLATE, Label.FACE]


@pytest.mark.parametrize("n", [0, 1])
def test_suppress_and_merge_union_leave_fewer_than_two_boxes_as_they_are(n: int) -> None:
    d = Detections.create(_boxes(*[(0, 0, 10, 10)] * n), [0.5] * n, [Label.FACE] * n)
    assert suppress(d, 0.5) is d
    assert merge_union(d, 0.5) is d


def test_merge_union_covers_both_and_keeps_the_best_score() -> None:
    d = Detections.create([[10, 10, 50, 50], [14, 8, 54, 52]], [0.6, 0.95], Label.FACE)
    got = merge_union(d, 0.5)
    assert len(got) == 1
    assert got.boxes.dtype == np.float32
    assert got.boxes[0].tolist() == [10, 8, 54, 52]
    assert got.scores[0] == pytest.approx(0.95)


@pytest.mark.parametrize(
    ("labels", "iou", "want"),
    [
        pytest.param([Label.FACE, Label.PLATE], 0.5, 2, id="labels-kept-apart"),
        pytest.param([Label.FACE, Label.FACE], 0.5, 1, id="same-label-merged"),
        pytest.param([Label.FACE, Label.FACE], 0.9, 2, id="below-threshold-apart"),
    ],
)
def test_merge_union_merges_one_label_above_the_threshold(
    labels: list[Label], iou: float, want: int
) -> None:
    d = Detections.create([[0, 0, 10, 10], [1, 0, 11, 10]], [0.9, 0.8], labels)  # IoU 9/11
    assert len(merge_union(d, iou)) == want


def test_merge_union_holds_every_box_inside_one_of_its_label() -> None:
    """Unlike suppress, nothing found is lost: each input box lies inside an output box of its label."""
    rng = np.random.default_rng(3)
    for _ in range(20):
        d = Detections.create(
            _random_boxes(rng, 15, 150),
            rng.uniform(0.1, 1, 15),
            rng.choice([int(Label.FACE), int(Label.PLATE)], 15),
        )
        merged = merge_union(d, 0.3)
        for i in range(len(d)):
            b, lab = d.boxes[i], d.labels[i]
            inside = (
                (merged.labels == lab)
                & (merged.boxes[:, 0] <= b[0])
                & (merged.boxes[:, 1] <= b[1])
                & (merged.boxes[:, 2] >= b[2])
                & (merged.boxes[:, 3] >= b[3])
            )
            assert inside.any()


def _slow_merge_union(
    found: Detections, iou: float
) -> tuple[list[list[float]], list[float], list[int]]:
    """Box by box in score order: join the first kept box of the label (as grown) that
    overlaps it more than `iou`, else be kept."""
    boxes: list[list[float]] = []
    scores: list[float] = []
    labels: list[int] = []
    for i in sorted(range(len(found)), key=lambda i: -float(found.scores[i])):
        b, lab = found.boxes[i].tolist(), int(found.labels[i])
        for k, kb in enumerate(boxes):
            pair = np.array([b, kb], np.float32)
            if labels[k] == lab and _slow_iou(pair[:1], pair[1:])[0, 0] > iou:
                boxes[k] = [min(b[0], kb[0]), min(b[1], kb[1]), max(b[2], kb[2]), max(b[3], kb[3])]
                break
        else:
            boxes.append(b)
            scores.append(float(found.scores[i]))
            labels.append(lab)
    return boxes, scores, labels


def test_merge_union_is_the_box_by_box_reference() -> None:
    """The vectorised merge gives exactly what merging box by box gives: chains of
    overlaps, ties in score, and both labels."""
    rng = np.random.default_rng(11)
    for n in (2, 5, 40):
        for iou in (0.0, 0.1, 0.3, 0.5):
            scores = rng.choice([0.2, 0.5, 0.9], n) if n > 2 else rng.uniform(0.1, 1, n)
            d = Detections.create(
                _random_boxes(rng, n, 80, 200),
                scores,
                rng.choice([int(Label.FACE), int(Label.PLATE)], n),
            )
            got = merge_union(d, iou)
            boxes, want_scores, labels = _slow_merge_union(d, iou)
            assert got.boxes.tolist() == boxes
            assert got.scores.tolist() == pytest.approx(want_scores)
            assert got.labels.tolist() == labels


# ------------------------------------------------------------------ enlarge, at_least, clip


@pytest.mark.parametrize(
    ("box", "factor", "want"),
    [
        pytest.param((10, 10, 20, 30), 1.0, (10, 10, 20, 30), id="factor-one"),
        pytest.param((10, 10, 20, 30), 2.0, (5, 0, 25, 40), id="doubled"),
        pytest.param((10, 10, 20, 30), 0.5, (12.5, 15, 17.5, 25), id="halved"),
        pytest.param((10, 10, 10, 10), 3.0, (10, 10, 10, 10), id="point-stays-a-point"),
    ],
)
def test_enlarge_grows_about_the_centre(
    box: tuple[float, float, float, float], factor: float, want: tuple[float, float, float, float]
) -> None:
    b = _boxes(box)
    got = enlarge(b, factor)
    assert got.dtype == np.float32 and got is not b
    assert got[0].tolist() == pytest.approx(want)


def test_enlarge_leaves_its_input_alone() -> None:
    b = _boxes((0, 0, 10, 10))
    for factor in (1.0, 1.3):
        assert enlarge(b, factor) is not b
    assert b.tolist() == [[0, 0, 10, 10]]
    assert enlarge(np.zeros((0, 4), np.float32), 1.3).shape == (0, 4)


@pytest.mark.parametrize(
    ("box", "side", "times", "want"),
    [
        pytest.param((10, 10, 14, 20), 8, math.inf, (8, 10, 16, 20), id="narrow-grows-wide-stays"),
        pytest.param((10, 10, 12, 12), 8, math.inf, (7, 7, 15, 15), id="both-grow"),
        pytest.param((0, 0, 30, 30), 8, math.inf, (0, 0, 30, 30), id="big-enough"),
        pytest.param((10, 10, 10, 10), 4, math.inf, (8, 8, 12, 12), id="point"),
        # each side to at most `times` its own length
        pytest.param((10, 10, 14, 20), 8, 2.0, (8, 10, 16, 20), id="narrow-doubles-wide-stays"),
        pytest.param((10, 10, 13, 13), 8, 2.0, (8.5, 8.5, 14.5, 14.5), id="stops-at-twice"),
        pytest.param((10, 10, 16, 22), 8, 2.0, (9, 10, 17, 22), id="near-it-reaches-it"),
        pytest.param((10, 10, 13, 13), 8, 1.0, (10, 10, 13, 13), id="once-is-as-found"),
        pytest.param((10, 10, 10, 10), 8, 2.0, (10, 10, 10, 10), id="point-stays"),
    ],
)
def test_at_least_grows_small_sides_to_the_minimum(
    box: tuple[float, float, float, float],
    side: float,
    times: float,
    want: tuple[float, float, float, float],
) -> None:
    got = at_least(_boxes(box), side, times)
    assert got.dtype == np.float32
    assert got[0].tolist() == pytest.approx(want)


@pytest.mark.parametrize("side", [0, -5])
def test_at_least_without_a_minimum_is_its_input(side: float) -> None:
    b = _boxes((10, 10, 12, 12))
    assert at_least(b, side) is b
    empty = np.zeros((0, 4), np.float32)
    assert at_least(empty, 8) is empty


@pytest.mark.parametrize(
    ("box", "want"),
    [
        pytest.param((10, 10, 20, 20), (10, 10, 20, 20), id="inside"),
        pytest.param((-5, -5, 20, 20), (0, 0, 20, 20), id="past-top-left"),
        pytest.param((90, 40, 120, 70), (90, 40, 100, 50), id="past-bottom-right"),
        pytest.param((200, 10, 300, 20), (100, 10, 100, 20), id="outside-kept-empty"),
    ],
)
def test_clip_to_the_frame(
    box: tuple[float, float, float, float], want: tuple[float, float, float, float]
) -> None:
    b = _boxes(box)
    got = clip(b, 100, 50)
    assert got.dtype == np.float32 and got is not b
    assert got[0].tolist() == list(want)
    assert b[0].tolist() == list(box)  # a copy: the input is left alone


def test_detections_clipped_clips_with_boxes_clip_and_keeps_the_rest() -> None:
    d = Detections(
        _boxes((-5, 10, 120, 70)),
        np.array([0.7], np.float32),
        np.array([1], np.int8),
        np.array([42], np.int64),
    )
    got = d.clipped(100, 50)
    assert got.boxes.tolist() == clip(d.boxes, 100, 50).tolist() == [[0, 10, 100, 50]]
    assert got.scores is d.scores and got.labels is d.labels and got.track_ids is d.track_ids


# ------------------------------------------------------------------ merge_regions


@pytest.mark.parametrize(
    ("regions", "want"),
    [
        pytest.param([], [], id="none"),
        # a chain along a row: each union is smaller than its two parts together
        pytest.param(
            [(0, 0, 10, 10), (8, 0, 30, 10), (25, 0, 50, 10)], [(0, 0, 50, 10)], id="chain"
        ),
        # one box mostly inside another: merged; a box far away: kept
        pytest.param(
            [(0, 0, 20, 20), (5, 5, 22, 22), (30, 30, 40, 40)],
            [(0, 0, 22, 22), (30, 30, 40, 40)],
            id="mostly-inside",
        ),
        # touching at a corner: the union would be mostly empty ground (400 px against 100 + 225)
        pytest.param(
            [(0, 0, 10, 10), (5, 5, 20, 20)], [(0, 0, 10, 10), (5, 5, 20, 20)], id="corner-apart"
        ),
        # not overlapping at all: never merged, however close
        pytest.param(
            [(0, 0, 10, 10), (10, 0, 20, 10)],
            [(0, 0, 10, 10), (10, 0, 20, 10)],
            id="adjacent-apart",
        ),
        pytest.param([(0, 0, 10, 10), (0, 0, 10, 10)], [(0, 0, 10, 10)], id="identical"),
    ],
)
def test_merge_regions_unions_overlaps_where_that_is_no_more_pixels(
    regions: list[Region], want: list[Region]
) -> None:
    assert merge_regions(regions) == want


# ------------------------------------------------------------------ coverage (bench.eval_score)


def _slow_coverage(mask: npt.NDArray[np.bool_], box: tuple[float, float, float, float]) -> float:
    """Pixel by pixel: a pixel belongs to a box when the box reaches into it at all."""
    h, w = mask.shape
    inside = [
        (y, x)
        for y in range(h)
        for x in range(w)
        if box[0] < x + 1 and x < box[2] and box[1] < y + 1 and y < box[3]
    ]
    return sum(bool(mask[y, x]) for y, x in inside) / len(inside) if inside else 1.0


@pytest.mark.parametrize(
    ("masked", "box", "want"),
    [
        pytest.param([(0, 0, 10, 10)], (0, 0, 10, 10), 1.0, id="exact"),
        pytest.param([(0, 0, 5, 10)], (0, 0, 10, 10), 0.5, id="half"),
        pytest.param([(0, 0, 5, 10), (5, 0, 10, 10)], (0, 0, 10, 10), 1.0, id="union-of-two"),
        pytest.param([], (2, 2, 6, 6), 0.0, id="nothing-masked"),
        pytest.param([(0, 0, 1, 1)], (0.5, 0.5, 1.5, 1.5), 0.25, id="rounded-outward"),
        pytest.param([(0, 0, 10, 10)], (3, 3, 3, 8), 1.0, id="empty-box-counts-covered"),
        pytest.param([(0, 0, 10, 10)], (25, 25, 30, 30), 1.0, id="outside-the-frame"),
        pytest.param([(0, 0, 20, 20)], (15, 15, 30, 30), 1.0, id="cut-by-the-frame"),
    ],
)
def test_coverage_table(
    masked: list[tuple[float, float, float, float]],
    box: tuple[float, float, float, float],
    want: float,
) -> None:
    mask = box_mask(_boxes(*masked), 20, 20)
    got = coverage(mask, _boxes(box))
    assert got.dtype == np.float64
    assert got[0] == pytest.approx(want)
    assert _slow_coverage(mask, box) == pytest.approx(want)


def test_coverage_matches_the_slow_reference() -> None:
    rng = np.random.default_rng(4)
    for _ in range(10):
        mask = box_mask(_random_boxes(rng, 4, size=20, top=40), 48, 32)
        labelled = _random_boxes(rng, 6, size=20, top=40)
        want = np.array([_slow_coverage(mask, (b[0], b[1], b[2], b[3])) for b in labelled.tolist()])
        np.testing.assert_allclose(coverage(mask, labelled), want)


# ------------------------------------------------------------------ aligned_windows


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(0, 1900), st.integers(0, 1060), st.integers(1, 400), st.integers(1, 300)
        ),
        max_size=6,
    ),
    st.sampled_from([0.5, 1.0, 1.5]),
)
def test_aligned_windows_cover_regions_on_the_grid(
    rects: list[tuple[int, int, int, int]], fx: float
) -> None:
    width, height, align, context = 1920, 1088, 32, 70
    iw, ih = -(-round(width / fx) // align) * align, -(-round(height / fx) // align) * align
    regions = [(x, y, min(width, x + w), min(height, y + h)) for x, y, w, h in rects]
    wins = aligned_windows(regions, fx, fx, iw, ih, align, context)
    cores = [c for c, _ in wins]
    for core, outer in wins:
        assert all(v % align == 0 or v in (iw, ih) for v in core), core
        assert all(v % align == 0 or v in (iw, ih) for v in outer), outer
        pad = 96  # the context rounded up to the grid
        assert outer == (
            max(0, core[0] - pad),
            max(0, core[1] - pad),
            min(iw, core[2] + pad),
            min(ih, core[3] + pad),
        )
    for i, a in enumerate(cores):  # cores never overlap: a box is kept by one window at most
        for b in cores[i + 1 :]:
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]), (a, b)
    for x0, y0, x1, y1 in regions:  # every region lies inside the cores, in input px
        probe = np.array(
            [[x / fx, y / fx, x / fx, y / fx] for x in (x0, x1 - 1) for y in (y0, y1 - 1)],
            np.float32,
        )
        assert centres_in(probe, cores).all(), (x0, y0, x1, y1, cores)


def test_windows_of_near_regions_are_united_far_ones_kept_apart() -> None:
    near = aligned_windows([(0, 0, 40, 40), (100, 0, 140, 40)], 1.0, 1.0, 640, 640, 32, 64)
    assert [c for c, _ in near] == [(0, 0, 160, 64)]
    far = aligned_windows([(0, 0, 40, 40), (500, 500, 540, 540)], 1.0, 1.0, 640, 640, 32, 64)
    assert sorted(c for c, _ in far) == [(0, 0, 64, 64), (480, 480, 544, 544)]
    assert aligned_windows([], 1.0, 1.0, 640, 640, 32, 64) == []


@pytest.mark.parametrize(
    ("w", "h", "blocks", "block"),
    [(1920, 1080, 24, 80), (768, 576, 24, 32), (1280, 720, 24, 54), (250, 100, 12, 22)],
)
def test_a_grid_block_is_even_and_covers_the_long_side(
    w: int, h: int, blocks: int, block: int
) -> None:
    assert grid_block(w, h, blocks) == block
    assert block % 2 == 0 and block * blocks >= max(w, h)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 9),
    st.integers(1, 9),
    st.integers(2, 12),
    st.integers(0, 11),
    st.integers(0, 11),
    st.randoms(use_true_random=False),
)
def test_grid_rest_covers_exactly_the_cells_not_shown_once(
    rows: int, cols: int, block: int, cut_w: int, cut_h: int, rnd: object
) -> None:
    """The boxes, rasterised, are the hidden cells' pixels, each pixel under one box only;
    the frame's last row and column of cells may be cut short."""
    rng = np.random.default_rng(rnd.randrange(1 << 30))  # type: ignore[attr-defined]
    shown = rng.random((rows, cols)) < 0.4
    width = max(1, cols * block - min(cut_w, block - 1))
    height = max(1, rows * block - min(cut_h, block - 1))
    rest = grid_rest(shown, block, width, height)
    count = np.zeros((height, width), int)
    for x0, y0, x1, y1 in rest.astype(int):
        assert x1 > x0 and y1 > y0
        count[y0:y1, x0:x1] += 1
    hidden = np.repeat(np.repeat(~shown, block, axis=0), block, axis=1)[:height, :width]
    np.testing.assert_array_equal(count, hidden.astype(int))


def test_grid_rest_merges_a_run_down_the_rows() -> None:
    shown = np.array([[True, False, False], [True, False, False], [False, False, True]])
    rest = grid_rest(shown, 10, 30, 30)
    assert sorted(map(tuple, rest.tolist())) == [
        (0.0, 20.0, 20.0, 30.0),
        (10.0, 0.0, 30.0, 20.0),
    ]
    assert grid_rest(np.ones((2, 2), bool), 10, 20, 20).shape == (0, 4)


def test_grid_touched_holds_the_cells_a_box_reaches_into() -> None:
    boxes = np.array(
        [[5.0, 5.0, 20.0, 10.0], [-4.0, 25.0, 1.0, 40.0], [7.0, 7.0, 7.0, 9.0]], np.float32
    )
    touched = grid_touched(boxes, 10, 4, 3)
    expected = np.zeros((4, 3), bool)
    expected[0, 0:2] = True  # x 5-20 ends on a cell's edge: columns 0 and 1
    expected[2:4, 0] = True  # cut at the frame's left edge, rows 25-40
    np.testing.assert_array_equal(touched, expected)  # the empty box touches nothing


def test_grid_sums_count_each_cell_edge_cells_cut_short_and_at_a_scale() -> None:
    sums, area = grid_sums(np.ones((10, 10), np.uint8), 4, 10, 10)
    want = [[16, 16, 8], [16, 16, 8], [8, 8, 4]]
    np.testing.assert_array_equal(sums, want)
    np.testing.assert_array_equal(area, want)
    half = np.zeros((5, 5), np.uint8)
    half[0, 0] = 1  # a work pixel in the first cell: scaled back, the cell counts it once
    sums, area = grid_sums(half, 4, 10, 10, 0.5)
    np.testing.assert_array_equal(sums, [[1, 0, 0], [0, 0, 0], [0, 0, 0]])
    np.testing.assert_array_equal(area, [[4, 4, 2], [4, 4, 2], [2, 2, 1]])
