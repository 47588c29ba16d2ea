"""The scoring rule bench.eval applies: coverage by the union of masks, size buckets."""

from __future__ import annotations

import numpy as np
import pytest

from bench.eval import mask_raster
from bench.eval_score import box_mask, coverage, recall_table
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
