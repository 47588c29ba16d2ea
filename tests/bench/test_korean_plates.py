"""bench.korean_plates: the synthetic Korean plate set is reproducible and what it says it is."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from bench import korean_plates as kp
from redactor.data import data_dir, load_labels, plates_csv

needs_font = pytest.mark.skipif(not kp.FONT_DIR.is_dir(), reason=kp.FONT_MISSING)
ONE_LINE = 520 / 110
TWO_LINE = 335 / 170


@pytest.fixture(scope="module")
def shared_plates() -> Path:
    root = data_dir()
    if root is None or plates_csv(root) is None or not (root / "videos").is_dir():
        pytest.skip(
            "shared data not found (plates/plates.csv, videos/): "
            "set REDACTOR_DATA or place it at ../shared/data"
        )
    if not kp.FONT_DIR.is_dir():
        pytest.skip(kp.FONT_MISSING)
    return root


@pytest.fixture(scope="module")
def small(shared_plates: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return kp.generate(tmp_path_factory.mktemp("small"), 8, seed=3, widths=(32, 64))


@pytest.fixture(scope="module")
def large(shared_plates: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return kp.generate(tmp_path_factory.mktemp("large"), 8, seed=4, widths=(120, 200))


def rows(csv_path: Path) -> list[dict[str, str]]:
    with csv_path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def box(row: dict[str, str]) -> tuple[float, float, float, float]:
    x0, y0, x1, y1 = (float(row[k]) for k in ("xmin", "ymin", "xmax", "ymax"))
    return x0, y0, x1, y1


def test_plate_text_follows_each_kinds_pattern() -> None:
    private, commercial = f"[{kp.PRIVATE}]", f"[{kp.COMMERCIAL}]"
    region = "(" + "|".join(kp.REGIONS) + ")"
    patterns = {
        "kr-1line-white": rf"\d{{2,3}}{private}\d{{4}}",
        "kr-2line-white": rf"({region}\d\d{private}|\d\d{private})\d{{4}}",
        "kr-2line-yellow": rf"{region}\d\d{commercial}\d{{4}}",
        "kr-2line-green": rf"{region}\d\d{private}\d{{4}}",
    }
    for kind, pattern in patterns.items():
        for i in range(50):
            text = kp.plate_text(kind, np.random.default_rng(i))
            assert re.fullmatch(pattern, text), (kind, text)
    assert kp.split_lines("12가3456") == ("12가", "3456")
    assert kp.split_lines("서울12바3456") == ("서울12", "바3456")


@needs_font
def test_plates_are_drawn_to_their_size_in_mm() -> None:
    rng = np.random.default_rng(0)
    one = kp.render_plate("kr-1line-white", "123가4567", 1.0, rng)
    two = kp.render_plate("kr-2line-yellow", "서울12바3456", 0.5, rng)
    assert one.shape == (110, 520, 4) and two.shape == (85, 168, 4)
    assert one[0, 0, 3] == 0 and one[55, 260, 3] == 255  # rounded corners, opaque inside
    inked = (one[..., :3].max(axis=2) < 100) & (one[..., 3] == 255)
    assert 0.15 < inked.mean() < 0.5  # characters fill the plate
    assert np.abs(two[80, 84, :3].astype(int) - (0, 200, 240)).max() < 10  # yellow (BGR)


def test_a_missing_font_says_how_to_install_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(kp, "FONT_DIR", tmp_path / "nanum")
    with pytest.raises(RuntimeError, match="sudo apt-get install fonts-nanum"):
        kp.render_plate("kr-1line-white", "123가4567", 1.0, np.random.default_rng(0))


def test_the_same_seed_makes_the_same_set(small: Path, tmp_path: Path) -> None:
    again = kp.generate(tmp_path, 8, seed=3, widths=(32, 64))
    assert again.read_bytes() == small.read_bytes()
    for row in rows(small):
        assert (tmp_path / row["image"]).read_bytes() == (small.parent / row["image"]).read_bytes()


def test_another_seed_makes_another_set(small: Path, tmp_path: Path) -> None:
    other = rows(kp.generate(tmp_path, 4, seed=5, widths=(32, 64)))
    first = rows(small)[:4]
    assert [box(r) for r in other] != [box(r) for r in first]
    assert [r["text"] for r in other] != [r["text"] for r in first]
    for a, b in zip(other, first, strict=True):
        assert (tmp_path / a["image"]).read_bytes() != (small.parent / b["image"]).read_bytes()


@pytest.mark.parametrize(("name", "lo", "hi"), [("small", 32, 64), ("large", 120, 200)])
def test_boxes_are_in_the_frame_and_as_wide_as_asked(
    name: str, lo: float, hi: float, request: pytest.FixtureRequest
) -> None:
    csv_path: Path = request.getfixturevalue(name)
    for row in rows(csv_path):
        w, h = int(row["width"]), int(row["height"])
        assert (w, h) in kp.SIZES
        x0, y0, x1, y1 = box(row)
        assert 0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h, row
        assert lo - 2 <= x1 - x0 <= hi + 2, row
        img = cv2.imread(str(csv_path.parent / row["image"]))
        assert img is not None and img.shape == (h, w, 3)


def test_every_kind_appears_with_its_shape(large: Path) -> None:
    found = rows(large)
    assert sorted({r["label"] for r in found}) == sorted(kp.KINDS)
    for row in found:
        x0, y0, x1, y1 = box(row)
        aspect = (x1 - x0) / (y1 - y0)
        # a 5 degree tilt and 8% corner jitter widen the box's height by up to ~40% (1-line)
        if row["label"] == "kr-1line-white":
            assert ONE_LINE / 1.6 < aspect < ONE_LINE * 1.15, row
        else:
            assert TWO_LINE / 1.35 < aspect < TWO_LINE * 1.15, row


def test_load_labels_reads_the_set(small: Path) -> None:
    items = load_labels(small)
    assert len(items) == 8
    for item, row in zip(items, rows(small), strict=True):
        assert item.path == small.parent / row["image"] and item.path.is_file()
        assert item.boxes.shape == (1, 4) and item.tags == (row["label"],)
        np.testing.assert_allclose(item.boxes[0], box(row), atol=0.01)


def test_the_box_holds_the_plates_colours(large: Path) -> None:
    for row in rows(large):
        img = np.asarray(cv2.imread(str(large.parent / row["image"])), np.uint8)
        x0, y0, x1, y1 = box(row)
        # the middle of the box: plate only, whatever the tilt
        dx, dy = (x1 - x0) * 0.25, (y1 - y0) * 0.3
        patch = img[round(y0 + dy) : round(y1 - dy), round(x0 + dx) : round(x1 - dx)]
        hsv = cv2.cvtColor(patch, cv2.COLOR_BGR2HSV).reshape(-1, 3)
        coloured = hsv[hsv[:, 1] > 80]
        grey = cv2.cvtColor(patch, cv2.COLOR_BGR2GRAY)
        if row["label"] == "kr-2line-yellow":
            assert len(coloured) > 0.4 * len(hsv) and 15 <= np.median(coloured[:, 0]) <= 35, row
        elif row["label"] == "kr-2line-green":
            assert len(coloured) > 0.4 * len(hsv) and 60 <= np.median(coloured[:, 0]) <= 90, row
        else:  # white: dark characters on a light plate
            assert np.percentile(grey, 90) - np.percentile(grey, 10) > 40, row


def test_the_command_writes_a_set_previews_and_a_summary(
    shared_plates: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "set"
    assert kp.main(["--out", str(out), "--count", "4", "--widths", "33-60", "--preview", "2"]) == 0
    printed = capsys.readouterr().out
    assert str(out / "plates.csv") in printed
    assert re.search(r"32-64\s+4", printed) and re.search(r"kr-2line-green\s+1", printed)
    assert len(list((out / "preview").glob("*.png"))) == 2
    assert len(list((out / "images").glob("*.jpg"))) == 4
    assert kp.main(["--out", str(out), "--kinds", "kr-3line"]) == 2
