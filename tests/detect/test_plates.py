"""Plates: DBNet post-processing on synthetic maps, the classical localiser, real plates."""

from __future__ import annotations

from collections.abc import Iterator

import cv2
import numpy as np
import numpy.typing as npt
import pytest
from detect_helpers import recall

from redactor.config import PlateClassicConfig, PlateTextConfig
from redactor.data import LabelledImage, data_dir
from redactor.detect.plate_classic import PlateClassicDetector, count_characters
from redactor.detect.plate_text import PlateTextDetector, grow_to_plate, text_boxes
from redactor.types import Label


def _map_with(
    rects: list[tuple[int, int, int, int]], value: float = 0.9, shape: tuple[int, int] = (100, 200)
):
    prob = np.zeros(shape, np.float32)
    for x0, y0, x1, y1 in rects:
        prob[y0:y1, x0:x1] = value
    return prob


def test_text_boxes_finds_each_region_and_unclips_it() -> None:
    prob = _map_with([(20, 30, 80, 40), (120, 60, 180, 90)])
    rects, scores = text_boxes(prob, bin_threshold=0.3, box_threshold=0.5, unclip=1.5)
    assert rects.shape == (2, 5) and scores.shape == (2,)
    np.testing.assert_allclose(scores, 0.9, rtol=1e-5)
    first = rects[np.argmin(rects[:, 0])]
    w, h = sorted(first[2:4], reverse=True)
    # a 60 x 10 region (cv2 measures 59 x 9 between pixel centres) grows by
    # area * 1.5 / perimeter on every side
    d = 59 * 9 * 1.5 / (2 * (59 + 9))
    assert w == pytest.approx(59 + 2 * d, rel=1e-3)
    assert h == pytest.approx(9 + 2 * d, rel=1e-3)
    assert (first[0], first[1]) == pytest.approx((49.5, 34.5), abs=0.01)


@pytest.mark.parametrize(
    ("value", "box_threshold", "expected"),
    [
        (0.9, 0.5, 1),
        (0.4, 0.5, 0),
        (0.2, 0.1, 0),
    ],  # a low region fails the score, a faint one the binarisation
)
def test_text_boxes_thresholds(value: float, box_threshold: float, expected: int) -> None:
    prob = _map_with([(20, 30, 80, 40)], value)
    rects, _ = text_boxes(prob, bin_threshold=0.3, box_threshold=box_threshold, unclip=1.5)
    assert len(rects) == expected


def test_text_boxes_drops_specks() -> None:
    rects, _ = text_boxes(_map_with([(10, 10, 12, 40)]), 0.3, 0.5, 1.5)
    assert len(rects) == 0


def test_grow_to_plate_grows_along_and_across_the_text() -> None:
    level = grow_to_plate(np.array([[100, 50, 40, 10, 0]], np.float32), 1.5, 2.0)
    np.testing.assert_allclose(level, [[70, 40, 130, 60]], atol=1e-3)
    # the same text reported upright (w < h, angle 90) grows the same way
    upright = grow_to_plate(np.array([[100, 50, 10, 40, 90]], np.float32), 1.5, 2.0)
    np.testing.assert_allclose(upright, level, atol=1e-3)
    tilted = grow_to_plate(np.array([[100, 50, 40, 10, 30]], np.float32), 1.0, 1.0)
    # the axis-aligned box around 40 x 10 tilted by 30 degrees
    c, s = np.cos(np.radians(30)), np.sin(np.radians(30))
    assert tilted[0, 2] - tilted[0, 0] == pytest.approx(40 * c + 10 * s, abs=1e-3)
    assert tilted[0, 3] - tilted[0, 1] == pytest.approx(40 * s + 10 * c, abs=1e-3)


def _synthetic_plate(dark_text: bool = True) -> np.ndarray:
    img = np.full((240, 400, 3), 90, np.uint8)
    cv2.rectangle(img, (100, 100), (300, 150), (235, 235, 235) if dark_text else (30, 30, 30), -1)
    colour = (10, 10, 10) if dark_text else (240, 240, 240)
    for i, ch in enumerate("AB1234"):
        cv2.putText(img, ch, (110 + i * 31, 142), cv2.FONT_HERSHEY_SIMPLEX, 1.3, colour, 3)
    return img


def test_count_characters_on_a_drawn_plate() -> None:
    grey = cv2.cvtColor(_synthetic_plate(), cv2.COLOR_BGR2GRAY)
    assert count_characters(grey[100:151, 100:301]) >= 5
    assert count_characters(np.full((50, 200), 200, np.uint8)) == 0


def test_classic_localiser_finds_a_drawn_plate() -> None:
    det = PlateClassicDetector(PlateClassicConfig(min_chars=3))
    found = det.detect(_synthetic_plate())
    assert len(found) >= 1 and set(found.labels.tolist()) == {int(Label.PLATE)}
    x0, y0, x1, y1 = found.boxes[0]
    assert x0 < 130 and x1 > 270 and y0 < 125 and y1 > 125
    assert len(det.detect(np.full((240, 400, 3), 90, np.uint8))) == 0


@pytest.fixture(scope="module")
def plate_text() -> Iterator[PlateTextDetector]:
    det = PlateTextDetector(PlateTextConfig(max_side=800))
    yield det
    det.close()


@pytest.mark.parametrize("shape", [(1, 1), (37, 101), (720, 1280)])
def test_plate_text_runs_on_any_size_and_finds_nothing_on_a_blank_frame(
    plate_text: PlateTextDetector, shape: tuple[int, int]
) -> None:
    assert len(plate_text.detect(np.full((*shape, 3), 127, np.uint8))) == 0


@pytest.mark.data
def test_plate_text_finds_real_plates(
    plate_sample: list[LabelledImage], plate_text: PlateTextDetector
) -> None:
    """Measured 15/15. (DBNet reads text in either colour order, so no colour-swap test here:
    a wrong normalisation or a broken model fails this floor.)"""
    assert recall(plate_text.detect, plate_sample) >= 0.9


@pytest.mark.data
def test_classic_localiser_is_a_second_opinion_on_real_plates(
    plate_sample: list[LabelledImage],
) -> None:
    """Measured 10/15."""
    assert recall(PlateClassicDetector(PlateClassicConfig(min_chars=3)).detect, plate_sample) >= 0.5


def test_fused_text_model_computes_what_the_file_does() -> None:
    """The in-memory graph rewrite (affine folding, HardSwish) changes speed, not output."""
    import onnx

    from redactor.detect.onnx_session import fuse_scalar_chains, session
    from redactor.models import model_path

    path = model_path("ppocr_det")
    fused = onnx.load_from_string(fuse_scalar_chains(path, "test"))
    ops = {n.op_type for n in fused.graph.node}
    assert "HardSwish" in ops and "Clip" not in ops and "Div" not in ops
    x = np.random.default_rng(0).normal(0, 1.5, (1, 3, 96, 160)).astype(np.float32)
    want = session(path, 1, "file").run(None, {"x": x})[0]
    got = session(fused.SerializeToString(), 1, "fused").run(None, {"x": x})[0]
    np.testing.assert_allclose(got, want, atol=1e-4)


def test_steep_text_lines_are_not_plates() -> None:
    """Parking-bay lines and kerbs seen at an angle make long thin 'text' regions; their
    axis-aligned boxes are large squares. Plates on the ground are near level."""
    from redactor.detect.plate_text import tilt

    rects = np.array(
        [
            [50, 50, 40, 10, 0],
            [50, 50, 10, 40, 90],
            [50, 50, 40, 10, 15],
            [50, 50, 40, 10, 45],
            [50, 50, 10, 40, 30],
            [50, 50, 40, 10, 89],
        ],
        np.float32,
    )
    np.testing.assert_allclose(tilt(rects), [0, 0, 15, 45, 60, 89], atol=1e-4)
    prob = np.zeros((120, 120), np.float32)
    cv2.line(prob, (10, 110), (110, 10), 1.0, 6)  # a 45-degree line
    cv2.rectangle(prob, (20, 20), (60, 30), 1.0, -1)  # a level line of text
    rects, _ = text_boxes(prob, 0.3, 0.5, 1.5)
    assert len(rects) == 2
    assert sorted(np.round(tilt(rects) / 45)) == [0, 1]


def _drawn_plate_1080p() -> npt.NDArray[np.uint8]:
    img = np.full((1080, 1920, 3), 90, np.uint8)
    cv2.rectangle(img, (500, 400), (1400, 620), (255, 255, 255), -1)
    cv2.putText(img, "12GA 3456", (540, 580), cv2.FONT_HERSHEY_SIMPLEX, 5.0, (0, 0, 0), 18)
    return img


def test_a_tall_plate_line_is_looked_at_again_and_kept() -> None:
    """Characters far taller than DBNet reads best are still text at its height."""
    cfg = PlateTextConfig(max_side=1280)
    det = PlateTextDetector(cfg)
    img = _drawn_plate_1080p()
    small, _, _ = det.network_input(img)
    rects, _ = text_boxes(det.text_probability(small), cfg.bin_threshold, cfg.min_score, cfg.unclip)
    assert (
        len(rects) == 1 and min(rects[0, 2], rects[0, 3]) > cfg.verify_text_px
    )  # this path is taken
    assert det.confirmed(small, rects[0]) >= cfg.verify_min_score
    (box,) = det.detect(img).boxes
    assert box[0] <= 540 and box[2] >= 1380 and box[1] <= 440 and box[3] >= 590


@pytest.mark.data
def test_tall_non_text_is_not_a_plate() -> None:
    """Measured: on opencv_vtest's frame 68 at 1920x1080, DBNet at 1280 px reports a
    294 px wide 'plate' (0.99) over two walkers' torsos and the ground between them;
    looked at again with its 'text' 44 px tall it has none."""
    root = data_dir()
    if root is None or not (root / "videos" / "opencv_vtest.avi").exists():
        pytest.skip(
            "shared data not found (videos/opencv_vtest.avi): set REDACTOR_DATA or place it at ../shared/data"
        )
    cap = cv2.VideoCapture(str(root / "videos" / "opencv_vtest.avi"))
    for _ in range(69):
        ok, frame = cap.read()
        assert ok
    cap.release()
    frame = cv2.resize(frame, (1920, 1080))

    def widest(verify_text_px: float) -> float:
        cfg = PlateTextConfig(max_side=1280, verify_text_px=verify_text_px)
        boxes = PlateTextDetector(cfg).detect(frame).boxes
        return float((boxes[:, 2] - boxes[:, 0]).max(initial=0.0))

    assert widest(0.0) > 200  # the blob, unchecked
    assert widest(44.0) < 100
