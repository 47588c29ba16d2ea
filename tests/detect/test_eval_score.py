"""The scoring rule bench.eval applies: coverage by the union of masks, size buckets."""

from __future__ import annotations

import numpy as np
import pytest

from bench.eval import mask_raster
from bench.eval_score import (
    PLATE_WIDTH_BUCKETS,
    box_mask,
    coverage,
    plate_lines,
    recall_by,
    recall_table,
)
from redactor.config import PolicyConfig
from redactor.types import Detections, Label


def test_coverage_counts_the_union_of_masks() -> None:
    mask = box_mask(np.array([[0, 0, 10, 20], [10, 0, 20, 20]], np.float32), 40, 40)
    labelled = np.array([[0, 0, 20, 20], [15, 0, 25, 20], [30, 30, 40, 40]], np.float32)
    np.testing.assert_allclose(coverage(mask, labelled), [1.0, 0.5, 0.0])


@pytest.mark.parametrize(
    ("covered", "sizes", "recall", "n_small"),
    [
        ([0.8, 0.79, 1.0, 0.0], [10, 10, 40, 100], 0.5, 2),  # 0.8 counts, 0.79 does not
        ([1.0], [16], 1.0, 0),  # 16 px belongs to 16-32
    ],
)
def test_recall_table(
    covered: list[float], sizes: list[float], recall: float, n_small: int
) -> None:
    table = recall_table(np.array(covered), np.array(sizes, np.float32))
    assert table["all"]["recall"] == pytest.approx(recall)
    assert table["<16"]["n"] == n_small


def test_masks_are_scored_as_the_kernels_draw_them() -> None:
    """A 10 x 10 box under the default policy (1.3x: 18.5..31.5) masks 14 x 14 px; an ellipse less."""
    found = Detections.create([[20, 20, 30, 30]], [0.9], Label.FACE)
    boxes = mask_raster(found, PolicyConfig(), 64, 64)
    assert boxes.sum() == 14 * 14 and boxes[25, 25]
    ellipse = mask_raster(found, PolicyConfig(ellipse=True), 64, 64)
    assert 0 < ellipse.sum() < boxes.sum() and ellipse[25, 25] and not ellipse[18, 18]


def test_plates_are_bucketed_by_width_and_grouped_by_layout() -> None:
    covered = np.array([1.0, 0.5, 0.9, 0.79, 0.8])
    widths = np.array([20, 40, 50, 100, 300], np.float32)
    table = recall_table(covered, widths, PLATE_WIDTH_BUCKETS)
    assert [k for k in table] == ["all", "<32", "32-64", "64-128", ">=128"]
    assert table["32-64"] == {"n": 2, "recall": 0.5}
    assert table["64-128"] == {"n": 1, "recall": 0.0}
    labels = ["kr-1line-white", "kr-2line-green", "kr-2line-yellow", "eu", "kr-2line-white"]
    assert [plate_lines(t) for t in labels] == [
        "one-line",
        "two-line",
        "two-line",
        "one-line",
        "two-line",
    ]
    by = recall_by(covered, [plate_lines(t) for t in labels])
    assert by == {"one-line": {"n": 2, "recall": 0.5}, "two-line": {"n": 3, "recall": 2 / 3}}
