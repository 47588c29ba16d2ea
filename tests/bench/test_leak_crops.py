"""bench.leak_crops: the picture of a stream's leaks, on hand-made frames and boxes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from bench import leak_crops as lc
from bench.live import crops_path
from bench.live import main as live_main
from bench.live_metrics import Leak
from redactor.types import MaskReason

W, H = 320, 240
BOX = (150.0, 100.0, 160.0, 110.0)  # the reference box that leaked, 10x10 px
RED = np.array(lc.RED, np.uint8)


def leak(seq: int = 0, box: tuple[float, float, float, float] = BOX) -> Leak:
    return Leak(seq, box, covered=0.25, moving=True, on_body=False)


def frames() -> tuple[np.ndarray, np.ndarray]:
    """(the frame as sent: black, white where the box is; the relay's output: grey)."""
    sent = np.zeros((H, W, 3), np.uint8)
    sent[100:110, 150:160] = 255
    return sent, np.full((H, W, 3), 128, np.uint8)


def has(image: np.ndarray, colour: np.ndarray | tuple[int, int, int]) -> bool:
    return bool((image == np.asarray(colour, np.uint8)).all(axis=2).any())


@pytest.mark.parametrize(
    ("leaks", "limit", "picked"),
    [
        (5, 32, [0, 1, 2, 3, 4]),  # fewer than the limit: all
        (10, 4, [0, 3, 6, 9]),  # evenly, the first and the last included
        (100, 32, None),
    ],
)
def test_leaks_shown_are_spread_over_the_stream(
    leaks: int, limit: int, picked: list[int] | None
) -> None:
    shown = [x.seq for x in lc.spread([leak(seq) for seq in range(leaks)], limit)]
    if picked is not None:
        assert shown == picked
    else:
        assert len(shown) == 32 and shown[0] == 0 and shown[-1] == 99
        assert shown == sorted(set(shown))


@pytest.mark.parametrize(
    ("box", "window"),
    [
        (BOX, (123, 73, 64)),  # a small box: the least crop, centred on it
        ((0.0, 0.0, 4.0, 4.0), (0, 0, 64)),  # in a corner: moved inside the frame
        ((100.0, 50.0, 140.0, 100.0), (45, 0, 150)),  # 3x its longer side, moved down inside
        ((0.0, 0.0, 300.0, 200.0), (30, 0, 240)),  # no larger than the frame
    ],
)
def test_a_crop_is_a_square_around_the_box_inside_the_frame(
    box: tuple[float, float, float, float], window: tuple[int, int, int]
) -> None:
    assert lc.window(box, W, H) == window


def test_a_leak_shows_the_sent_frame_with_its_masks_beside_the_output() -> None:
    sent, output = frames()
    masks = [(140.0, 90.0, 150.0, 96.0), (0.0, 0.0, 10.0, 10.0)]  # a band beside it; one far
    tile = lc.pair(sent, output, leak(), masks, [int(MaskReason.MOTION), int(MaskReason.STILL)])
    assert tile.shape == (lc.CAPTION + lc.TILE, 2 * lc.TILE, 3)
    before, after = tile[lc.CAPTION :, : lc.TILE], tile[lc.CAPTION :, lc.TILE :]
    # what was sent, enlarged pixel for pixel, the box in red, the band in its colour
    assert has(before, (255, 255, 255)) and has(before, RED)
    assert has(before, lc.COLOURS[int(MaskReason.MOTION)])
    assert not has(before, lc.COLOURS[int(MaskReason.STILL)])  # outside the crop
    # the output there: its own pixels, the box outlined, none of the sent frame's white
    assert has(after, (128, 128, 128)) and has(after, RED)
    assert not has(after, (255, 255, 255))
    assert has(tile[: lc.CAPTION], (0, 255, 255))  # the caption


def test_a_leak_whose_output_frame_is_missing_shows_grey() -> None:
    sent, _ = frames()
    tile = lc.pair(sent, None, leak(), [], [])
    assert (tile[lc.CAPTION :, lc.TILE :] == 96).all()


def test_the_gallery_has_a_row_per_columns_leaks_under_its_title() -> None:
    sent, output = frames()
    leaks = [leak(seq) for seq in range(lc.COLUMNS + 1)]
    image = lc.gallery(
        leaks, {s: sent for s in range(8)}, {s: output for s in range(8)}, {}, {}, "clip"
    )
    head = 2 * lc.CAPTION + 4
    assert image.shape == (head + 2 * (lc.CAPTION + lc.TILE), lc.COLUMNS * 2 * lc.TILE, 3)
    # no leak: only the title and legend
    assert lc.gallery([], {}, {}, {}, {}, "clip").shape == (head, lc.COLUMNS * 2 * lc.TILE, 3)


def test_frames_are_read_only_up_to_the_last_wanted() -> None:
    read: list[int] = []

    def stream() -> Iterator[np.ndarray]:
        for i in range(100):
            read.append(i)
            yield np.full((2, 2, 3), i, np.uint8)

    got = lc.pick_frames(stream(), {2, 5})
    assert sorted(got) == [2, 5] and int(got[5][0, 0, 0]) == 5
    assert read == list(range(6))


def test_the_png_is_written_where_asked(tmp_path: Path) -> None:
    sent, output = frames()
    path = tmp_path / "crops" / "clip.png"
    lc.write(path, lc.gallery([leak()], {0: sent}, {0: output}, {}, {}, "clip"))
    assert cv2.imread(str(path)) is not None


def test_each_run_gets_its_own_png_named_as_clips_names_it(tmp_path: Path) -> None:
    clip = Path("v/opencv_vtest.avi")
    assert crops_path(None, clip, None, None, 1) is None
    assert crops_path(tmp_path, clip, None, None, 1) == tmp_path / "opencv_vtest.avi.png"
    assert crops_path(tmp_path, clip, (1920, 1080), 25.0, 2) == (
        tmp_path / "opencv_vtest.avi@1920x1080@25fps-run2.png"
    )


def test_leak_crops_naming_a_file_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    taken = tmp_path / "crops"
    taken.write_text("")
    with pytest.raises(SystemExit) as e:
        live_main(["--leak-crops", str(taken)])
    assert e.value.code == 2
    assert f"--leak-crops must name a folder, got the file {taken}" in capsys.readouterr().err
