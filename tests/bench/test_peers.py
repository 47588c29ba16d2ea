"""The peers' scoring and deface's mask recovery (bench.peers)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bench import peers
from redactor.data import LabelledImage, load_faces


def _item(boxes: list[list[float]], w: int = 100, h: int = 80) -> LabelledImage:
    return LabelledImage(
        Path("synthetic.png"),
        w,
        h,
        np.asarray(boxes, np.float32).reshape(-1, 4),
        ("",) * len(boxes),
    )


def test_score_counts_a_box_protected_at_80_percent_cover() -> None:
    item = _item([[0, 0, 10, 10], [50, 50, 60, 60]])
    mask = np.zeros((80, 100), bool)
    mask[0:8, 0:10] = True  # 80% of the first box
    mask[50:57, 50:60] = True  # 70% of the second
    r = peers.score([item], [mask], None, [5.0])
    assert r["boxes"] == 2
    assert r["recall"]["all"]["recall"] == pytest.approx(0.5)
    assert r["recall"]["<16"]["n"] == 2
    assert r["masked_share"] == pytest.approx(mask.mean())
    assert r["ms_per_image_median"] == 5.0


def test_score_refuses_a_mask_of_another_size() -> None:
    with pytest.raises(ValueError, match="mask is 50x40, the labels say 100x80"):
        peers.score([_item([[0, 0, 10, 10]])], [np.zeros((40, 50), bool)], None, [1.0])


def test_haar_baseline_masks_its_detections_on_real_photos() -> None:
    items = load_faces(smoke=True)[:3]
    if not items:
        pytest.skip("shared data not found: set REDACTOR_DATA or place it at ../shared/data")
    r = peers.haar_images(items, "face")
    assert r["images"] == 3 and r["boxes"] == sum(len(i.boxes) for i in items)
    # group photos of frontal faces 37-109 px: the cascade finds some, and masks only part of the image
    assert r["recall"]["all"]["recall"] > 0.2
    assert 0.0 < r["masked_share"] < 0.5


@pytest.mark.slow
def test_recovered_deface_masks_hold_every_pixel_its_cli_changes(tmp_path: Path) -> None:
    if not peers.deface_ready():
        pytest.skip(f"deface is not set up in {peers.VENV} (python -m bench.peers --setup)")
    items = load_faces(smoke=True)[:2]
    if not items:
        pytest.skip("shared data not found: set REDACTOR_DATA or place it at ../shared/data")
    r = peers.check_deface_masks(items, tmp_path)
    assert r["images"] == 2
    assert r["recovered_mask_pixels"] > 1000  # it found faces
    assert r["changed_pixels_outside_recovered_mask"] == 0
