"""Scoring for bench.export: the gap-filled reference, leaks, masked and oracle shares.

Pure NumPy on boxes per frame, so each rule can be read and tested on its own
(tests/bench/test_export_score.py). Coverage is bench.eval_score's: a box
counts as covered when the masks cover at least COVER of its pixels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bench.eval_score import box_mask, coverage
from redactor.boxes import enlarge

F32 = npt.NDArray[np.float32]

COVER = 0.8  # a reference box covered less than this by the export's masks leaked
GAP_S = 2.0  # a track's gaps up to this long between two detections are filled
ORACLE_ENLARGE = 1.3  # the export policy's enlargement: the oracle masks what it would


def fill_gaps(
    boxes: Sequence[F32],
    ids: Sequence[npt.NDArray[np.int64]],
    t_us: Sequence[int],
    max_gap_s: float = GAP_S,
) -> list[F32]:
    """Per frame, its detected boxes plus those interpolated in each track's short gaps.

    `boxes[i]` and `ids[i]` are frame i's detections and their track ids. Between
    two detections of one track at most `max_gap_s` apart, every frame in between
    gets a box interpolated linearly in time: the detector missed the face there,
    the face was there. Longer gaps stay empty (the object may have left).
    """
    seen: dict[int, list[tuple[int, F32]]] = {}
    for i, (frame, tid) in enumerate(zip(boxes, ids, strict=True)):
        for box, t in zip(frame, tid, strict=True):
            seen.setdefault(int(t), []).append((i, box))
    added: list[list[F32]] = [[] for _ in boxes]
    limit = max_gap_s * 1e6
    for hits in seen.values():
        for (a, box_a), (z, box_z) in zip(hits, hits[1:], strict=False):
            if z - a < 2 or t_us[z] - t_us[a] > limit:
                continue
            for k in range(a + 1, z):
                f = (t_us[k] - t_us[a]) / max(t_us[z] - t_us[a], 1)
                added[k].append((box_a + (box_z - box_a) * f).astype(np.float32))
    return [
        np.concatenate([np.asarray(b, np.float32).reshape(-1, 4), np.stack(extra)])
        if extra
        else np.asarray(b, np.float32).reshape(-1, 4)
        for b, extra in zip(boxes, added, strict=True)
    ]


@dataclass(frozen=True, slots=True)
class Score:
    objects: int  # reference box-frames
    leaks: int  # those covered less than COVER
    masked_share: float  # mean share of a frame under the export's masks
    oracle_share: float  # mean share under the reference boxes grown by ORACLE_ENLARGE

    @property
    def leak_rate(self) -> float:
        return self.leaks / self.objects if self.objects else 0.0

    @property
    def over_oracle(self) -> float | None:
        return self.masked_share / self.oracle_share if self.oracle_share else None


def score(
    reference: Sequence[F32],
    masks: Sequence[F32],
    width: int,
    height: int,
    enlargement: float = ORACLE_ENLARGE,
) -> Score:
    """The export's masks per frame against the reference boxes of the same frames.

    A fully masked frame is a mask box over the whole frame (as in the manifest)."""
    if len(reference) != len(masks):
        raise ValueError(f"{len(masks)} frames of masks, {len(reference)} of reference")
    objects = leaks = 0
    masked = oracle = 0.0
    for ref, m in zip(reference, masks, strict=True):
        cover = box_mask(m, width, height)
        masked += float(cover.mean())
        oracle += oracle_share(ref, width, height, enlargement)
        objects += len(ref)
        leaks += int((coverage(cover, ref) < COVER).sum())
    n = max(len(masks), 1)
    return Score(objects, leaks, masked / n, oracle / n)


def oracle_share(boxes: F32, width: int, height: int, enlargement: float = ORACLE_ENLARGE) -> float:
    """Share of one frame under its reference boxes grown about their centres (clipped)."""
    if not len(boxes):
        return 0.0
    grown = enlarge(np.asarray(boxes, np.float32).reshape(-1, 4), enlargement)
    return float(box_mask(grown, width, height).mean())
