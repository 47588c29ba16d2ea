"""Scoring for bench.live beyond leaks: how much of the picture the live masks take,
and how much of it stays useful to the recipient (issue 24).

Pure NumPy on boxes per frame (x0, y0, x1, y1 in full-resolution pixels), rasterised
at full resolution with bench.eval_score's `box_mask`, as bench.live's `masked_share`
does, so every share here is of the same pixels. Tests: tests/bench/test_live_metrics.py.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bench.eval_score import box_mask, coverage
from bench.export_score import oracle_share as frame_oracle_share
from redactor.boxes import centres_in, enlarge, inside_matrix
from redactor.types import MaskReason

F32 = npt.NDArray[np.float32]
# Mask boxes of each answered frame, by sequence number (RelayResult.masks)
FrameBoxes = Mapping[int, Sequence[Sequence[float]]]

FAR = 2.0  # reference boxes grown this much about their centres: masks beyond are "far"
BODY = 0.75  # the lower share of a person box that is the body below the head
HOLDS = 0.3  # a mask holding this share of a reference box masks that object (on_objects)


def as_boxes(boxes: Sequence[Sequence[float]] | F32) -> F32:
    return np.asarray(boxes, np.float32).reshape(-1, 4)


def fully_masked(boxes: Sequence[Sequence[float]] | F32, width: int, height: int) -> bool:
    """Whether a frame's masks cover the whole frame: the server's fail-closed answer (one
    box over the whole frame, Masks.everything) or a stream's start under the coarse
    mosaic (a frame-sized START mask, the detections' masks beside it)."""
    b = as_boxes(boxes)
    whole = (b[:, 0] <= 0) & (b[:, 1] <= 0) & (b[:, 2] >= width) & (b[:, 3] >= height)
    return bool(whole.any())


def redacted_frames(
    masks: FrameBoxes, width: int, height: int, first_redacted: int | None
) -> dict[int, F32]:
    """The answered frames that carry picture: from the stream's first REDACTED frame
    on (the relay's `first_redacted`), less those answered fully masked later.

    Frames before the first redacted one are fully masked or dropped (a dropped frame's
    masks are empty, so only its position tells it apart from a frame with nothing to mask)."""
    if first_redacted is None:
        return {}
    return {
        seq: as_boxes(m)
        for seq, m in masks.items()
        if seq >= first_redacted and not fully_masked(m, width, height)
    }


def mean_share(masks: Mapping[int, F32], width: int, height: int) -> float:
    """Mean share of a frame's pixels under its masks, over the given frames (0 if none)."""
    shares = [float(box_mask(m, width, height).mean()) for m in masks.values()]
    return float(np.mean(shares)) if shares else 0.0


def oracle_share(reference: Sequence[F32], width: int, height: int, enlargement: float) -> float:
    """Mean share of a frame under the reference boxes grown by the policy's enlargement
    (their union, clipped): what a detector that found exactly the reference would mask.
    Over every frame of the stream: such a detector never needs to mask a frame whole."""
    shares = [frame_oracle_share(r, width, height, enlargement) for r in reference]
    return float(np.mean(shares)) if shares else 0.0


def far_share(
    redacted: Mapping[int, F32],
    reference: Sequence[F32],
    width: int,
    height: int,
    factor: float = FAR,
) -> float:
    """Mean share of a redacted frame that is masked outside every reference box grown
    `factor` about its centre: masking that no face or plate in the frame explains."""
    shares = []
    for seq, m in redacted.items():
        masked = box_mask(m, width, height)
        ref = reference[seq] if seq < len(reference) else as_boxes([])
        if len(ref):
            masked &= ~box_mask(enlarge(as_boxes(ref), factor), width, height)
        shares.append(float(masked.mean()))
    return float(np.mean(shares)) if shares else 0.0


def bodies(people: F32, share: float = BODY) -> F32:
    """The lower `share` of each person box: the body below the head, which the
    recipient should see (what someone carries, wears, does)."""
    b = as_boxes(people).copy()
    b[:, 1] = b[:, 3] - (b[:, 3] - b[:, 1]) * share
    return b


def body_visibility(
    people: Sequence[F32], redacted: Mapping[int, F32], width: int, height: int
) -> tuple[float | None, int]:
    """(mean share of each person box's body left unmasked, person boxes), over every
    frame of the stream (`people[seq]`). A frame without picture (fully masked, dropped,
    not answered) shows no body: 0 visible. None when no person was found."""
    visible: list[float] = []
    for seq, p in enumerate(people):
        if not len(p):
            continue
        if seq not in redacted:
            visible += [0.0] * len(p)
            continue
        covered = coverage(box_mask(redacted[seq], width, height), bodies(p))
        visible += (1.0 - covered).tolist()
    return (float(np.mean(visible)) if visible else None), len(visible)


# The sources of a redacted frame's masks, by their reason (redactor.types.MaskReason)
SOURCES = (
    ("start's mosaic", MaskReason.START),
    ("motion band", MaskReason.MOTION),
    ("looks and detections", MaskReason.DETECTED),
    ("held tracks", MaskReason.TRACKED),
    ("still ground", MaskReason.STILL),
)
NO_PICTURE = "no picture"


def body_cost(
    people: Sequence[F32],
    redacted: Mapping[int, F32],
    reasons: Mapping[int, Sequence[int]],
    width: int,
    height: int,
) -> dict[str, float]:
    """What hides the bodies (issue 24), in points of `body_visibility`'s share: per source
    of masks (SOURCES), how much more would show with its masks left out and every other's
    kept; where two sources cover the same pixels neither is charged for them. NO_PICTURE:
    the person boxes on frames without picture, which show nothing whatever masks them.
    Empty when no person was found."""
    n = sum(len(p) for p in people)
    if not n:
        return {}

    def shown(seq: int, m: F32) -> float:
        return float((1.0 - coverage(box_mask(m, width, height), bodies(people[seq]))).sum())

    frames = [s for s, p in enumerate(people) if len(p) and s in redacted]
    base = {s: shown(s, redacted[s]) for s in frames}
    out: dict[str, float] = {}
    for name, reason in SOURCES:
        gain = 0.0
        for s in frames:
            r = np.asarray(reasons.get(s, ()), np.int64)
            if len(r) != len(redacted[s]) or not (r == int(reason)).any():
                continue
            gain += shown(s, redacted[s][r != int(reason)]) - base[s]
        out[name] = gain / n
    out[NO_PICTURE] = sum(len(p) for s, p in enumerate(people) if s not in redacted) / n
    return out


def first_fine_picture(
    masks: FrameBoxes, width: int, height: int, first_redacted: int | None
) -> int | None:
    """The first frame from the stream's first REDACTED one on that is not masked whole
    (its coarse start over): from there on, only the policy's masks."""
    return min(redacted_frames(masks, width, height, first_redacted), default=None)


def past_mosaic(
    redacted: Mapping[int, F32], reasons: Mapping[int, Sequence[int]]
) -> dict[int, F32]:
    """The redacted frames with no box of the start's mosaic: the policy's masks alone.
    The masked share is measured on these (under the mosaic most of the frame is masked
    by design; the start has columns of its own)."""
    start = int(MaskReason.START)
    return {s: m for s, m in redacted.items() if start not in reasons.get(s, ())}


def first_without_mosaic(
    masks: FrameBoxes,
    reasons: Mapping[int, Sequence[int]],
    width: int,
    height: int,
    first_redacted: int | None,
) -> int | None:
    """The first frame from the stream's first REDACTED one on with no box of the start's
    mosaic at all: from there on still ground shows too (before it, blocks where something
    moved may show, masked as moving ground)."""
    redacted = redacted_frames(masks, width, height, first_redacted)
    return min(past_mosaic(redacted, reasons), default=None)


def start_without_picture(first_redacted: int | None, frames: int, fps: float) -> tuple[int, float]:
    """(frames from the stream's start before its first REDACTED one, their seconds at
    the stream's rate): what a recipient waits for picture. With no redacted frame at
    all, the whole stream."""
    n = frames if first_redacted is None else min(first_redacted, frames)
    return n, n / fps if fps > 0 else 0.0


def covered(
    boxes: F32, masks: Sequence[Sequence[float]] | F32, width: int, height: int
) -> npt.NDArray[np.float64]:
    """Share of each of a frame's reference `boxes` under its `masks`."""
    return coverage(box_mask(as_boxes(masks), width, height), boxes)


def missed(
    boxes: F32, masks: Sequence[Sequence[float]] | F32, width: int, height: int, cover: float
) -> npt.NDArray[np.bool_]:
    """Of a frame's reference `boxes`, those its `masks` cover less than `cover`: its leaks."""
    return covered(boxes, masks, width, height) < cover


def on_objects(
    redacted: Mapping[int, F32], reference: Sequence[F32], share: float = HOLDS
) -> dict[int, F32]:
    """Of each redacted frame's masks, those holding at least `share` of one of the frame's
    reference boxes: the masks a detector that found only the reference would have made
    (at their live sizes). What the others cost the bodies is the cost of masking nothing."""
    out: dict[int, F32] = {}
    for seq, m in redacted.items():
        ref = as_boxes(reference[seq]) if seq < len(reference) else as_boxes([])
        if not len(m) or not len(ref):
            out[seq] = m[:0]
            continue
        holds = (inside_matrix(ref, m) >= share).any(axis=0)
        out[seq] = m[holds]
    return out


@dataclass(frozen=True)
class Leak:
    """One reference box that its frame's masks covered less than the leak threshold."""

    seq: int
    box: tuple[float, float, float, float]
    covered: float  # share of the box under the frame's masks
    moving: bool  # the server's motion model saw some of it move
    on_body: bool  # centred inside a person's body below the head
    label: int = 0  # the reference's class (redactor.types.Label); 0 where not known


def leaks_of(
    reference: Sequence[F32],
    masks: FrameBoxes,
    moving: Sequence[npt.NDArray[np.bool_]],
    people: Sequence[F32],
    width: int,
    height: int,
    cover: float,
    labels: Sequence[npt.NDArray[np.integer]] | None = None,
) -> list[Leak]:
    """Every leak of a stream, in frame order: the reference boxes that their frame's masks
    cover less than `cover` (frames not answered leak nothing). `moving[seq]` says per
    reference box whether the server's motion model saw any of it move; a box centred on a
    body is a face of someone in front, or the reference's false face on a torso, a hand,
    a bag. `labels[seq]` gives each box's class, where known."""
    out: list[Leak] = []
    for seq, ref in enumerate(reference):
        if not len(ref) or seq not in masks:
            continue
        boxes = as_boxes(ref)
        share = covered(boxes, masks[seq], width, height)
        moved = np.asarray(moving[seq], bool) if seq < len(moving) else np.zeros(len(boxes), bool)
        p = people[seq] if seq < len(people) else as_boxes([])
        body = (
            centres_in(boxes, [tuple(b) for b in bodies(p)])
            if len(p)
            else np.zeros(len(boxes), bool)
        )
        lab = labels[seq] if labels is not None and seq < len(labels) else None
        for i in np.flatnonzero(share < cover):
            x0, y0, x1, y1 = (float(v) for v in boxes[i, :4])
            kind = int(lab[i]) if lab is not None and i < len(lab) else 0
            out.append(
                Leak(seq, (x0, y0, x1, y1), float(share[i]), bool(moved[i]), bool(body[i]), kind)
            )
    return out


def of_class(leaks: Sequence[Leak], label: int) -> int:
    """How many of `leaks` are reference boxes of one class (redactor.types.Label)."""
    return sum(leak.label == label for leak in leaks)


def of_objects(leaked: int, objects: int) -> str:
    """ "N of M (r%)"; "-" where the reference holds none (or its classes were not known)."""
    return f"{leaked} of {objects} ({leaked / objects:.2%})" if objects else "-"


def places(leaks: Sequence[Leak]) -> tuple[int, int, int]:
    """Where `leaks` are: (on moving ground, on still ground, centred inside a person's body
    below the head)."""
    on_moving = sum(leak.moving for leak in leaks)
    return on_moving, len(leaks) - on_moving, sum(leak.on_body for leak in leaks)
