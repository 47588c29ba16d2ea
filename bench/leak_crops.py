"""What each live leak looks like (bench.live --leak-crops): beside each other, the frame
as the relay sent it around a reference box the live masks missed, with that frame's
masks drawn by reason, and the same place in the relay's output.

A leak rate says how many; the crops say what: a face or plate that showed, or the
thorough reference's reading of a torso, a hand, a sheet of paper, a sign.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from bench.live_metrics import FrameBoxes, Leak, as_boxes
from redactor.types import MaskReason

Image = npt.NDArray[np.uint8]

LIMIT = 32  # leaks shown per stream, spread evenly over its leaks in frame order
COLUMNS = 4  # leaks per row of the gallery
TILE = 160  # px of each crop in the gallery
CAPTION = 18  # px of the caption strip above each pair of crops
MIN_CROP = 64  # frame px: the least a crop shows around a small box
CONTEXT = 3.0  # a crop is this many times the reference box's longer side
RED = (0, 0, 255)
COLOURS = {  # BGR, by MaskReason
    int(MaskReason.DETECTED): (255, 0, 255),
    int(MaskReason.TRACKED): (0, 255, 255),
    int(MaskReason.MOTION): (255, 128, 0),
    int(MaskReason.STILL): (0, 200, 0),
    int(MaskReason.START): (255, 255, 255),
}
OTHER = (128, 128, 128)
LEGEND = (
    "left: the frame as sent, its masks drawn (magenta detected, yellow tracked, blue band, "
    "green still, white start mosaic); red: the reference box they missed. "
    "right: the relay's output there."
)


def spread(leaks: Sequence[Leak], limit: int = LIMIT) -> list[Leak]:
    """At most `limit` of `leaks`, evenly over them in their order, the first and last
    included: a stream's start and its steady state both show."""
    if len(leaks) <= limit:
        return list(leaks)
    if limit <= 1:
        return list(leaks[:limit])
    picks = np.linspace(0, len(leaks) - 1, limit).round().astype(int)
    return [leaks[i] for i in picks]


def window(box: tuple[float, float, float, float], width: int, height: int) -> tuple[int, int, int]:
    """(x0, y0, side) of the square crop around `box`: CONTEXT times its longer side, at
    least MIN_CROP, moved inside the frame (and no larger than it)."""
    x0, y0, x1, y1 = box
    side = int(round(max(MIN_CROP, CONTEXT * max(x1 - x0, y1 - y0))))
    side = max(1, min(side, width, height))
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    left = int(np.clip(round(cx - side / 2), 0, width - side))
    top = int(np.clip(round(cy - side / 2), 0, height - side))
    return left, top, side


def _crop(image: Image, left: int, top: int, side: int) -> tuple[Image, float]:
    """The square at (left, top), scaled to TILE px (pixels kept whole when enlarged), and
    the scale."""
    part = image[top : top + side, left : left + side]
    scale = TILE / side
    how = cv2.INTER_NEAREST if scale >= 1 else cv2.INTER_AREA
    return np.ascontiguousarray(cv2.resize(part, (TILE, TILE), interpolation=how)), scale


def _draw(
    tile: Image,
    boxes: npt.NDArray[np.float32],
    left: int,
    top: int,
    scale: float,
    colour: tuple[int, int, int],
    thickness: int,
) -> None:
    for x0, y0, x1, y1 in boxes[:, :4]:
        p0 = (int(round((x0 - left) * scale)), int(round((y0 - top) * scale)))
        p1 = (int(round((x1 - left) * scale)) - 1, int(round((y1 - top) * scale)) - 1)
        cv2.rectangle(tile, p0, p1, colour, thickness)


def pair(
    sent: Image,
    output: Image | None,
    leak: Leak,
    masks: Sequence[Sequence[float]],
    reasons: Sequence[int],
) -> Image:
    """One leak: its caption over the sent frame's crop (masks and the reference box drawn)
    and the output's crop (the reference box outlined; grey where the output is missing)."""
    h, w = sent.shape[:2]
    left, top, side = window(leak.box, w, h)
    before, scale = _crop(sent, left, top, side)
    m = as_boxes(masks)
    why = np.asarray(reasons, np.int64) if len(reasons) == len(m) else np.zeros(len(m), np.int64)
    for reason in np.unique(why):
        _draw(before, m[why == reason], left, top, scale, COLOURS.get(int(reason), OTHER), 1)
    ref = np.array([leak.box], np.float32)
    _draw(before, ref, left, top, scale, RED, 2)
    if output is not None and output.shape[:2] == (h, w):
        after, _ = _crop(output, left, top, side)
        _draw(after, ref, left, top, scale, RED, 1)
    else:
        after = np.full((TILE, TILE, 3), 96, np.uint8)
    caption = np.zeros((CAPTION, 2 * TILE, 3), np.uint8)
    bw, bh = leak.box[2] - leak.box[0], leak.box[3] - leak.box[1]
    where = ("moving" if leak.moving else "still") + (", on a body" if leak.on_body else "")
    text = f"#{leak.seq} {bw:.0f}x{bh:.0f} px {leak.covered:.0%} masked, {where}"
    cv2.putText(caption, text, (3, CAPTION - 5), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 255, 255), 1)
    return np.vstack([caption, np.hstack([before, after])])


def pick_frames(frames: Iterable[Image], wanted: set[int]) -> dict[int, Image]:
    """The frames numbered in `wanted` (0 = the first) of an ordered stream of frames; stops
    reading after the last."""
    out: dict[int, Image] = {}
    if not wanted:
        return out
    last = max(wanted)
    for i, image in enumerate(frames):
        if i in wanted:
            out[i] = image
        if i >= last:
            break
    return out


def gallery(
    leaks: Sequence[Leak],
    sent: Mapping[int, Image],
    output: Mapping[int, Image],
    masks: FrameBoxes,
    reasons: Mapping[int, Sequence[int]],
    title: str,
) -> Image:
    """The leaks (at most LIMIT, spread over the stream) as pairs of crops, COLUMNS a row,
    under a title and the legend; a line saying so where there were none."""
    shown = [leak for leak in spread(leaks) if leak.seq in sent]
    width = COLUMNS * 2 * TILE
    head = np.zeros((2 * CAPTION + 4, width, 3), np.uint8)
    count = f"{title}: {len(leaks)} leaks" + (
        f", {len(shown)} shown (evenly over the stream)" if len(shown) < len(leaks) else ""
    )
    cv2.putText(head, count, (3, CAPTION - 4), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1)
    cv2.putText(head, LEGEND, (3, 2 * CAPTION), cv2.FONT_HERSHEY_SIMPLEX, 0.36, (200, 200, 200), 1)
    tiles = [
        pair(
            sent[leak.seq],
            output.get(leak.seq),
            leak,
            masks.get(leak.seq, []),
            reasons.get(leak.seq, []),
        )
        for leak in shown
    ]
    if not tiles:
        return head
    blank = np.zeros_like(tiles[0])
    tiles += [blank] * (-len(tiles) % COLUMNS)
    rows = [np.hstack(tiles[i : i + COLUMNS]) for i in range(0, len(tiles), COLUMNS)]
    return np.vstack([head, *rows])


def write(path: Path, image: Image) -> None:
    """The gallery as PNG at `path` (its folder made), compressed hardest: about half
    OpenCV's default size, for report folders in the repository."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), image, [cv2.IMWRITE_PNG_COMPRESSION, 9]):
        raise OSError(f"could not write a PNG to {path}")
