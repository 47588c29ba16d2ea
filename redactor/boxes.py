"""Box geometry, once for every stage: xyxy float32 arrays and `Detections`.

Detectors, the tracker, the live path, exports and the benchmarks all measure
overlap, grow, clip and merge boxes here, so "IoU", "enlarged" and "merged"
mean the same everywhere:

- overlap: `iou_matrix`, `nms`;
- size and place: `enlarge` (by a factor), `at_least` (to a minimum side, or a share
  of it),
  `clip` (to the frame; `Detections.clipped` calls it);
- merging: `suppress` (NMS per label), `merge_union` (per label, the union of
  overlapping boxes) and `merge_regions` (integer crop regions, united only
  where that saves pixels);
- looking at parts of a frame: `aligned_windows` (a network input's windows around
  regions, on its stride grid) and `centres_in`;
- a frame cut into square cells: `grid_block` (a mosaic's block), `grid_shape` (rows
  and columns), `grid_touched` (the cells boxes reach into) and `grid_rest` (the cells
  not shown, as few boxes).

The benchmarks' scoring (coverage of labelled boxes by a mask) stays in
bench/eval_score.py: the referee does not share code with what it scores.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

from redactor.types import Detections

F32 = npt.NDArray[np.float32]
Region = tuple[int, int, int, int]  # x0, y0, x1, y1 in whole pixels


def iou_matrix(a: F32, b: F32) -> npt.NDArray[np.float64]:
    """(len(a), len(b)) intersection over union of xyxy boxes; 0 where both are empty."""
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    lt = np.maximum(a64[:, None, :2], b64[None, :, :2])
    rb = np.minimum(a64[:, None, 2:], b64[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=2)
    area_a = np.prod(a64[:, 2:] - a64[:, :2], axis=1)
    area_b = np.prod(b64[:, 2:] - b64[:, :2], axis=1)
    union = area_a[:, None] + area_b[None, :] - inter
    iou: npt.NDArray[np.float64] = np.divide(
        inter, union, out=np.zeros_like(inter), where=union > 0
    )
    return iou


def inside_matrix(a: F32, b: F32) -> npt.NDArray[np.float64]:
    """(len(a), len(b)) share of each box of `a` inside each box of `b`; 0 for an empty a box."""
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    lt = np.maximum(a64[:, None, :2], b64[None, :, :2])
    rb = np.minimum(a64[:, None, 2:], b64[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=2)
    area_a = np.prod(a64[:, 2:] - a64[:, :2], axis=1)[:, None]
    share: npt.NDArray[np.float64] = np.divide(
        inter, area_a, out=np.zeros_like(inter), where=area_a > 0
    )
    return share


def nms(boxes: F32, scores: npt.NDArray[np.float32], iou: float) -> npt.NDArray[np.intp]:
    """Greedy non-maximum suppression; indices kept, best first."""
    if len(boxes) == 0:
        return np.zeros(0, np.intp)
    x0, y0, x1, y1 = boxes.T
    area = np.maximum(x1 - x0, 0) * np.maximum(y1 - y0, 0)
    order = np.argsort(-scores, kind="stable")
    keep: list[int] = []
    while order.size:
        i = int(order[0])
        keep.append(i)
        rest = order[1:]
        w = np.maximum(0, np.minimum(x1[i], x1[rest]) - np.maximum(x0[i], x0[rest]))
        h = np.maximum(0, np.minimum(y1[i], y1[rest]) - np.maximum(y0[i], y0[rest]))
        inter = w * h
        union = area[i] + area[rest] - inter
        ov = np.where(union > 0, inter / np.maximum(union, 1e-9), 0)
        order = rest[ov <= iou]
    return np.asarray(keep, np.intp)


def enlarge(boxes: F32, factor: float) -> F32:
    """Grows boxes about their centres by `factor` (width and height); always a new array."""
    if factor == 1.0 or len(boxes) == 0:
        return boxes.astype(np.float32, copy=True)
    c = (boxes[:, :2] + boxes[:, 2:]) / 2
    half = (boxes[:, 2:] - boxes[:, :2]) * (factor / 2)
    return np.concatenate([c - half, c + half], axis=1).astype(np.float32)


def at_least(boxes: F32, side: float, times: float = math.inf) -> F32:
    """`boxes` grown about their centres to at least `side` px each way (smaller sides only),
    each side to at most `times` its own length.

    `boxes` itself when there is nothing to grow (`side` <= 0 or no boxes)."""
    if side <= 0 or not len(boxes):
        return boxes
    c = (boxes[:, :2] + boxes[:, 2:]) / 2
    own = (boxes[:, 2:] - boxes[:, :2]) / 2
    # inf * 0 is nan: without a cap a point grows to `side` too
    half = np.maximum(own, np.minimum(side / 2, times * own) if math.isfinite(times) else side / 2)
    return np.concatenate([c - half, c + half], axis=1).astype(np.float32)


def clip(boxes: F32, width: int, height: int) -> F32:
    """A copy of `boxes` clipped to a `width` x `height` frame; boxes left empty are kept."""
    b = boxes.copy()
    np.clip(b[:, 0::2], 0, width, out=b[:, 0::2])
    np.clip(b[:, 1::2], 0, height, out=b[:, 1::2])
    return b


def suppress(found: Detections, iou: float) -> Detections:
    """Per label, keeps the best of boxes that overlap more than `iou` (NMS per label).

    Boxes that overlap less all stay: the mask is their union, so a second
    detector's box around the same face only adds coverage.
    """
    if len(found) < 2:
        return found
    keep: list[npt.NDArray[np.intp]] = []
    for label in np.unique(found.labels):
        idx = np.flatnonzero(found.labels == label)
        keep.append(idx[nms(found.boxes[idx], found.scores[idx], iou)])
    return found.select(np.sort(np.concatenate(keep)))


def merge_union(found: Detections, iou: float) -> Detections:
    """Per label, boxes overlapping more than `iou` become their union (best score kept).

    A crop can cut an object, so a region's box may be part of the whole-frame
    box of the same object: suppressing one of them could keep the smaller, while
    the union always covers both. In score order, each box joins the first kept box
    (as grown so far) of its label it overlaps enough, or is kept itself.
    """
    if len(found) < 2:
        return found
    order = np.argsort(-found.scores, kind="stable")
    src = found.boxes
    kept = np.empty_like(src)  # one IoU against all kept boxes per box: a look has dozens
    labels = np.empty(len(src), np.int64)
    scores: list[float] = []
    n = 0
    for i in order:
        b, lab = src[i], int(found.labels[i])
        over = iou_matrix(b[None], kept[:n])[0] > iou
        hit = np.flatnonzero(over & (labels[:n] == lab))
        if len(hit):
            j = hit[0]
            kept[j, :2] = np.minimum(kept[j, :2], b[:2])
            kept[j, 2:] = np.maximum(kept[j, 2:], b[2:])
            continue
        kept[n], labels[n] = b, lab
        scores.append(float(found.scores[i]))
        n += 1
    return Detections.create(kept[:n], scores, labels[:n].tolist())


def region_area(r: Region) -> int:
    """Pixels in a region."""
    return (r[2] - r[0]) * (r[3] - r[1])


def merge_regions(regions: list[Region]) -> list[Region]:
    """Unions overlapping regions while their union holds no more pixels than the two crops
    would (their overlap is then looked at once, not twice), until no such pair is left.

    Merging every overlap turns two blobs touching at a corner into a rectangle that
    is mostly empty ground (docs/tuning.md#motion). Overlapping crops that stay apart
    each still hold their own blob with its margin."""

    def cheaper(a: Region, b: Region, u: Region) -> bool:
        return _overlap(a, b) and region_area(u) <= region_area(a) + region_area(b)

    return _unite(regions, cheaper)


def _overlap(a: Region, b: Region) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _unite(regions: list[Region], merge: Callable[[Region, Region, Region], bool]) -> list[Region]:
    """Unites pairs of regions into their bounding region while `merge(a, b, union)` says so,
    until no such pair is left."""
    out = list(regions)
    changed = True
    while changed:
        changed = False
        merged: list[Region] = []
        for b in out:
            for i, m in enumerate(merged):
                u = (min(b[0], m[0]), min(b[1], m[1]), max(b[2], m[2]), max(b[3], m[3]))
                if merge(b, m, u):
                    merged[i] = u
                    changed = True
                    break
            else:
                merged.append(b)
        out = merged
    return out


def aligned_windows(
    regions: list[Region],
    fx: float,
    fy: float,
    width: int,
    height: int,
    align: int,
    context: int,
) -> list[tuple[Region, Region]]:
    """(core, outer) windows of a network input over frame regions, in input px.

    `fx`, `fy` are frame px per input px and `width` x `height` the input. A core
    covers its regions on the `align` grid; its outer window adds `context` input
    px each side (rounded up to the grid, clipped to the input). Cores never
    overlap: overlapping ones are united, as are windows whose union costs no
    more pixels than the two outer windows would.
    """
    a = max(1, align)
    pad = -(-context // a) * a
    cores: list[Region] = []
    for x0, y0, x1, y1 in regions:
        c = (
            max(0, int(x0 / fx) // a * a),
            max(0, int(y0 / fy) // a * a),
            min(width, -(-int(np.ceil(x1 / fx)) // a) * a),
            min(height, -(-int(np.ceil(y1 / fy)) // a) * a),
        )
        if c[2] > c[0] and c[3] > c[1]:
            cores.append(c)

    def outer(c: Region) -> Region:
        return (
            max(0, c[0] - pad),
            max(0, c[1] - pad),
            min(width, c[2] + pad),
            min(height, c[3] + pad),
        )

    def cheaper(c: Region, m: Region, u: Region) -> bool:
        cost = region_area(outer(u)) <= region_area(outer(c)) + region_area(outer(m))
        return _overlap(c, m) or (_overlap(outer(c), outer(m)) and cost)

    cores = _unite(cores, cheaper)
    return [(c, outer(c)) for c in cores]


def centres_in(
    boxes: F32, cores: Sequence[tuple[float, float, float, float]]
) -> npt.NDArray[np.bool_]:
    """Which boxes have their centre inside one of the cores (x0, y0, x1, y1; half-open)."""
    keep = np.zeros(len(boxes), bool)
    cx = (boxes[:, 0] + boxes[:, 2]) / 2
    cy = (boxes[:, 1] + boxes[:, 3]) / 2
    for x0, y0, x1, y1 in cores:
        keep |= (cx >= x0) & (cx < x1) & (cy >= y0) & (cy < y1)
    return keep


def grid_block(width: int, height: int, blocks: int) -> int:
    """The side (px, even: whole chroma pixels) of a square grid with `blocks` cells across
    the frame's long side."""
    b = -(-max(width, height) // max(1, blocks))
    return b + b % 2


def grid_shape(width: int, height: int, block: int) -> tuple[int, int]:
    """(rows, columns) of a `block`-px grid over the frame, edge cells cut short included."""
    return -(-height // block), -(-width // block)


def grid_sums(
    values: npt.NDArray[np.uint8], block: int, width: int, height: int, scale: float = 1.0
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Per cell of a `block`-px grid over a `width` x `height` frame (rows x columns): the sum
    of `values` inside it, and its pixels there. `values` is the frame's picture at `scale`
    (a cell's edges rounded to its pixels)."""
    import cv2  # local: the geometry module stays import-light

    rows, cols = grid_shape(width, height, block)
    h, w = values.shape[:2]
    ii = cv2.integral(values).astype(np.int64)
    xs = np.clip(np.round(np.minimum(np.arange(cols + 1) * block, width) * scale), 0, w)
    ys = np.clip(np.round(np.minimum(np.arange(rows + 1) * block, height) * scale), 0, h)
    xs, ys = xs.astype(np.intp), ys.astype(np.intp)
    sums = ii[ys[1:, None], xs[None, 1:]] - ii[ys[:-1, None], xs[None, 1:]]
    sums -= ii[ys[1:, None], xs[None, :-1]] - ii[ys[:-1, None], xs[None, :-1]]
    area = np.diff(ys)[:, None] * np.diff(xs)[None, :]
    return np.asarray(sums, np.int64), np.asarray(area, np.int64)


def grid_touched(boxes: F32, block: int, rows: int, cols: int) -> npt.NDArray[np.bool_]:
    """Which cells of a `block`-px grid (rows x columns) hold some pixel of a box."""
    out = np.zeros((rows, cols), bool)
    for x0, y0, x1, y1 in np.asarray(boxes, np.float64).reshape(-1, 4):
        if x1 > x0 and y1 > y0:
            c0, r0 = max(0, int(x0 // block)), max(0, int(y0 // block))
            out[r0 : int(np.ceil(y1 / block)), c0 : int(np.ceil(x1 / block))] = True
    return out


def grid_rest(shown: npt.NDArray[np.bool_], block: int, width: int, height: int) -> F32:
    """The cells of a `block`-px grid over the frame (`shown` is rows x columns) that are
    not shown, as boxes: each row's runs of such cells, a run merged down while the rows
    below have the same run. Edge cells are clipped to the frame."""
    open_: dict[tuple[int, int], int] = {}  # run (c0, c1) -> its first row
    out: list[tuple[int, int, int, int]] = []
    rows = shown.shape[0]
    for r in range(rows + 1):
        runs: set[tuple[int, int]] = set()
        if r < rows:
            hidden = np.concatenate([[False], ~shown[r], [False]]).astype(np.int8)
            d = np.diff(hidden)
            starts, ends = np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist()
            runs = set(zip(starts, ends, strict=True))
        for run in [k for k in open_ if k not in runs]:
            out.append((run[0], open_.pop(run), run[1], r))
        for run in runs:
            open_.setdefault(run, r)
    boxes = np.asarray(out, np.float32).reshape(-1, 4) * block
    return clip(boxes, width, height)
