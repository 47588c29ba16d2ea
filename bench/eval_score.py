"""Scoring for bench.eval: coverage of labelled boxes by a mask, size buckets, tables.

A labelled box counts as protected when the union of the masks covers at least
COVERED of its pixels (the shared data's README). Plain NumPy, no redactor imports,
so the rule is easy to read and to test.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

COVERED = 0.8  # share of a labelled box the masks must cover for it to count as protected
SIZE_BUCKETS: tuple[tuple[str, float, float], ...] = (
    ("<16", 0, 16),
    ("16-32", 16, 32),
    ("32-64", 32, 64),
    (">=64", 64, float("inf")),
)
# Plates are bucketed by width, the side that decides whether a text detector reads them.
PLATE_WIDTH_BUCKETS: tuple[tuple[str, float, float], ...] = (
    ("<32", 0, 32),
    ("32-64", 32, 64),
    ("64-128", 64, 128),
    (">=128", 128, float("inf")),
)


def box_pixels(box: npt.NDArray[np.float32], width: int, height: int) -> tuple[int, int, int, int]:
    """Pixel span of a box the way the masking kernels round it: floor starts, ceil ends."""
    x0 = int(np.clip(np.floor(box[0]), 0, width))
    y0 = int(np.clip(np.floor(box[1]), 0, height))
    x1 = int(np.clip(np.ceil(box[2]), 0, width))
    y1 = int(np.clip(np.ceil(box[3]), 0, height))
    return x0, y0, x1, y1


def coverage(
    mask: npt.NDArray[np.bool_], boxes: npt.NDArray[np.float32]
) -> npt.NDArray[np.float64]:
    """Share of each labelled box's pixels that `mask` (h, w) covers; 1.0 for empty boxes."""
    h, w = mask.shape
    out = np.ones(len(boxes), np.float64)
    for i, box in enumerate(boxes):
        x0, y0, x1, y1 = box_pixels(box, w, h)
        if x1 > x0 and y1 > y0:
            out[i] = float(mask[y0:y1, x0:x1].mean())
    return out


def box_mask(boxes: npt.NDArray[np.float32], width: int, height: int) -> npt.NDArray[np.bool_]:
    """Union of axis-aligned boxes as a boolean (h, w) mask (for quick experiments)."""
    mask = np.zeros((height, width), bool)
    for box in boxes:
        x0, y0, x1, y1 = box_pixels(box, width, height)
        mask[y0:y1, x0:x1] = True
    return mask


def longest_side(boxes: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    sides: npt.NDArray[np.float32] = np.maximum(
        boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    )
    return sides.astype(np.float32)


def recall_table(
    covered: npt.NDArray[np.float64],
    sizes: npt.NDArray[np.float32],
    buckets: tuple[tuple[str, float, float], ...] = SIZE_BUCKETS,
) -> dict[str, dict[str, float]]:
    """Recall at COVERED overall and per size bucket: {bucket: {"n", "recall"}}."""
    hit = covered >= COVERED
    rows: dict[str, dict[str, float]] = {
        "all": {"n": len(hit), "recall": float(hit.mean()) if len(hit) else 0.0}
    }
    for name, lo, hi in buckets:
        sel = (sizes >= lo) & (sizes < hi)
        rows[name] = {
            "n": int(sel.sum()),
            "recall": float(hit[sel].mean()) if sel.any() else float("nan"),
        }
    return rows


def recall_by(covered: npt.NDArray[np.float64], keys: list[str]) -> dict[str, dict[str, float]]:
    """Recall at COVERED per key (a label, a plate's kind), keys sorted."""
    hit = covered >= COVERED
    names = np.asarray(keys, dtype=object)
    return {
        k: {"n": int((names == k).sum()), "recall": float(hit[names == k].mean())}
        for k in sorted(set(keys))
    }


def plate_lines(label: str) -> str:
    """A plate's layout from its CSV label: the synthetic Korean set names two-line
    plates "...2line..."; every other label (us, eu, br, kr-1line-...) is one line."""
    return "two-line" if "2line" in label else "one-line"
