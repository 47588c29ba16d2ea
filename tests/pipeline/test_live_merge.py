"""Region and whole-frame boxes of one object merge into their union, never the smaller."""

from __future__ import annotations

import numpy as np

from redactor.boxes import merge_union
from redactor.types import Detections, Label


def test_overlapping_boxes_of_one_label_become_their_union() -> None:
    d = Detections.create(
        [[10, 10, 50, 50], [14, 10, 54, 52], [200, 200, 220, 220]], [0.9, 0.95, 0.5], Label.FACE
    )
    m = merge_union(d, 0.5)
    assert len(m) == 2
    assert np.allclose(m.boxes[0], [10, 10, 54, 52]) and np.isclose(m.scores[0], 0.95)


def test_labels_never_merge_and_small_overlaps_stay_apart() -> None:
    d = Detections.create(
        [[10, 10, 50, 50], [10, 10, 50, 50], [40, 40, 90, 90]],
        [0.9, 0.8, 0.7],
        [Label.FACE, Label.PLATE, Label.FACE],
    )
    m = merge_union(d, 0.5)
    assert len(m) == 3
    assert sorted(m.labels.tolist()) == [1, 1, 2]
