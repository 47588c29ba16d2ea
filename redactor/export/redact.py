"""One export's pixels: detect every frame, plan masks over the whole clip, mask.

Detection keeps only each frame's Detections (never the frames): per segment
on workers (redactor.export.tasks), or in one pass over the clip
(`detect_clip`, which tests and the benchmark use as the reference). The plan
follows each object over the whole clip (redactor.export.objects), or, with held
masks, tracks the clip forward and backward (`track`, redactor.track.track_clip):
either way an object is masked across the gaps between its detections and past
its ends, not only where the detector fired. Each frame is then masked per plan
(`plan_masks`) and marked (`mask_frame`).

Fail closed: a frame whose detector raised is masked entirely (logged, listed in
the manifest). Anything else that goes wrong fails the whole export, and the
caller deletes what was written: an export is complete or it does not exist.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from redactor.boxes import Region, inside_matrix
from redactor.config import PolicyConfig
from redactor.detect.base import Detector, detect_in
from redactor.errors import FailedPrecondition, InvalidDetections, InvalidInput
from redactor.export.archive import Selection
from redactor.export.jobs import Subject
from redactor.export.video import SourceFrame, burn_mark, read_frames
from redactor.pipeline.masking import apply_masks, masks_for
from redactor.track import TrackedFrame, Tracker, TrackerParams, track_clip
from redactor.types import Detections, Frame, Label, MaskReason, Masks

log = logging.getLogger(__name__)

# Subject access: how far the subject's box may move between two frames where it
# is shown, in sizes of its box per frame elapsed. Beyond it the track may have
# switched to another person, so the rest of that direction stays masked.
SUBJECT_MAX_STEP = 1.5
# A face box at least this share inside a shown subject box is the same face
# (found again by another detector or scale) and is shown with it.
SUBJECT_DUPLICATE_INSIDE = 0.7

Progress = Callable[[int], None]

# How closely a frame was looked at (DetectPass.looks): not at all, at its moving
# regions, or whole (the fast plan, redactor.export.fast; the exhaustive plan looks
# at every frame whole).
LOOK_NONE, LOOK_REGIONS, LOOK_FULL = 0, 1, 2


@dataclass(slots=True)
class DetectPass:
    """What pass 1 found: per frame, its pts, time and Detections."""

    width: int
    height: int
    pts: list[int] = field(default_factory=list)
    t_us: list[int] = field(default_factory=list)
    detections: list[Detections] = field(default_factory=list)
    looks: list[int] = field(default_factory=list)  # per frame, LOOK_* below
    failed: dict[int, str] = field(default_factory=dict)  # frame index → why it is fully masked
    seconds: float = 0.0

    def __len__(self) -> int:
        return len(self.pts)


@dataclass(slots=True)
class Plan:
    masks: list[Masks]
    subject_tracks: list[int] = field(default_factory=list)
    subject_frames: int = 0  # frames where the subject is left visible


def detect_clip(
    selection: Selection, detector: Detector, progress: Progress | None = None
) -> DetectPass:
    """Pass 1: runs the detector on every frame of the selection."""
    info = selection.info
    out = DetectPass(info.width, info.height)
    t0 = time.perf_counter()
    for f in read_frames(selection.path, selection.start_us, selection.end_us):
        found, why = detect_frame(detector, f, out.width, out.height)
        if why is not None:
            out.failed[f.index] = why
        out.pts.append(f.pts)
        out.t_us.append(f.t_us)
        out.detections.append(found)
        out.looks.append(LOOK_FULL)
        if progress is not None:
            progress(len(out.pts))
    out.seconds = time.perf_counter() - t0
    if not out.pts:
        raise FailedPrecondition(f"no frames of {selection.relative} fall in the requested range")
    return out


def detect_frame(
    detector: Detector,
    f: SourceFrame,
    width: int,
    height: int,
    regions: list[Region] | None = None,
) -> tuple[Detections, str | None]:
    """One frame's Detections (within `regions` where given: redactor.detect.base.detect_in),
    or none and why the frame must be fully masked."""
    h, w = f.bgr.shape[:2]
    if (w, h) != (width, height):
        raise InvalidInput(f"frame {f.index} is {w}x{h}, the recording says {width}x{height}")
    where = "" if regions is None else " on the moving regions"
    try:
        found = detector.detect(f.bgr) if regions is None else detect_in(detector, f.bgr, regions)
        if not isinstance(found, Detections):
            raise InvalidDetections(
                f"detector returned {type(found).__name__}, expected Detections"
            )
        return found.clipped(w, h), None
    except Exception as e:  # noqa: BLE001 - fail closed on this frame, keep the export going
        log.warning(
            "export frame %d (pts %d): detector failed%s, frame fully masked: %s",
            f.index,
            f.pts,
            where,
            e,
        )
        return Detections.empty(), f"detector failed{where}: {type(e).__name__}: {e}"


def track(found: DetectPass, params: TrackerParams, lookahead: bool = True) -> list[TrackedFrame]:
    """The whole clip forward and backward (look-ahead), or forward only as a live stream would."""
    if lookahead:
        return track_clip(found.detections, found.t_us, params)
    tracker = Tracker(params)
    return [tracker.update(d, t) for d, t in zip(found.detections, found.t_us, strict=True)]


def plan_masks(
    found: DetectPass,
    tracked: list[TrackedFrame],
    policy: PolicyConfig,
    zones: tuple[npt.NDArray[np.int32], ...] = (),
    subject: Subject | None = None,
    subject_overlap: float = 0.5,
    shown: list[npt.NDArray[np.bool_]] | None = None,
) -> Plan:
    """Masks per frame; with `subject`, that person's track is left out where it is safe to.

    `shown`: per frame, rows a reviewer left visible (redactor.review.apply).
    """
    visible: list[npt.NDArray[np.bool_]] = [np.zeros(len(t), bool) for t in tracked]
    plan = Plan([])
    if subject is not None:
        plan.subject_tracks, visible = subject_rows(found, tracked, subject, subject_overlap)
        plan.subject_frames = sum(int(v.any()) for v in visible)
    if shown is not None:
        visible = [v | s for v, s in zip(visible, shown, strict=True)]
    for i, (t, keep_visible) in enumerate(zip(tracked, visible, strict=True)):
        plan.masks.append(frame_masks(found, i, t, keep_visible, policy, zones))
    return plan


def frame_masks(
    found: DetectPass,
    index: int,
    tracked: TrackedFrame,
    visible: npt.NDArray[np.bool_],
    policy: PolicyConfig,
    zones: tuple[npt.NDArray[np.int32], ...] = (),
) -> Masks:
    """One frame's masks: everything where its detector failed, else the rows not `visible`."""
    if index in found.failed:
        return Masks.everything(found.width, found.height, found.failed[index])
    hide = ~visible
    return masks_for(
        tracked.detections.select(hide),
        policy,
        found.width,
        found.height,
        zones=zones,
        reasons=tracked.reasons[hide],
    )


def subject_rows(
    found: DetectPass, tracked: list[TrackedFrame], subject: Subject, min_overlap: float
) -> tuple[list[int], list[npt.NDArray[np.bool_]]]:
    """The subject's track ids and, per frame, which boxes may stay unmasked.

    The subject is the face inside the selector (boxes at least `min_overlap`
    inside it) on the frame nearest the selector's time. Several boxes there
    are accepted only when they touch each other, i.e. are one face found
    several times (by several detectors or scales); faces apart from each other
    are an error, since the export would otherwise show the wrong person.
    From that frame each of the subject's tracks is followed forward and
    backward; a box is shown only where the tracker saw or held the face (not
    a look-ahead box, which could come from an id switch) and only while it
    moves plausibly. On each frame, another face box lying almost entirely
    inside a shown box (the same face under another id) is shown too, or its
    mask would cover the subject. Every other box stays masked.
    """
    t = np.asarray(found.t_us, np.int64)
    k = int(np.argmin(np.abs(t - subject.timestamp_us)))
    frame_us = int(np.median(np.diff(t))) if len(t) > 1 else 0
    if abs(int(t[k]) - subject.timestamp_us) > max(frame_us, 1):
        raise InvalidInput(
            f"subject.timestamp_us {subject.timestamp_us} is outside the exported frames "
            f"({int(t[0])}..{int(t[-1])} us from the recording's start)"
        )
    d = tracked[k].detections
    faces = np.flatnonzero(d.labels == int(Label.FACE))
    sel = np.asarray(subject.box, np.float32)
    hits = faces[inside_matrix(d.boxes[faces], sel[None])[:, 0] >= min_overlap]
    where = f"the subject box {tuple(round(v) for v in subject.box)} at {int(t[k])} us"
    if len(hits) == 0:
        raise FailedPrecondition(
            f"{where} holds no detected face (draw it around the subject's face)"
        )
    groups = _touching_groups(d.boxes[hits])
    if groups > 1:
        raise FailedPrecondition(
            f"{where} holds {groups} separate faces, expected one (draw it around the subject's face only)"
        )
    ids = sorted({int(i) for i in d.track_ids[hits]})
    visible = [np.zeros(len(tf), bool) for tf in tracked]
    ok_reasons = (int(MaskReason.DETECTED), int(MaskReason.TRACKED))
    for tid in ids:
        for step in (1, -1):
            last_box: npt.NDArray[np.float32] | None = None
            last_i = i = k
            while 0 <= i < len(tracked):
                tf = tracked[i]
                rows = np.flatnonzero(
                    (tf.detections.track_ids == tid) & np.isin(tf.reasons, ok_reasons)
                )
                if len(rows) > 1:
                    break  # two boxes under one id: a switch; stop showing it
                if len(rows) == 1 and i not in found.failed:
                    box = tf.detections.boxes[rows[0]]
                    if last_box is not None and not _plausible_step(last_box, box, abs(i - last_i)):
                        break
                    visible[i][rows[0]] = True
                    last_box, last_i = box, i
                i += step
    return ids, [
        show_duplicate_faces(tf.detections, v) for tf, v in zip(tracked, visible, strict=True)
    ]


def show_duplicate_faces(det: Detections, shown: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """`shown` and every face box lying at least SUBJECT_DUPLICATE_INSIDE inside a shown face:
    the same face found again under another id, whose mask would cover the one shown."""
    faces = det.labels == int(Label.FACE)
    if not (shown & faces).any():
        return shown
    inside = inside_matrix(det.boxes, det.boxes[shown & faces]).max(axis=1)
    duplicates: npt.NDArray[np.bool_] = faces & (inside >= SUBJECT_DUPLICATE_INSIDE)
    return shown | duplicates


def _touching_groups(boxes: npt.NDArray[np.float32]) -> int:
    """How many groups the boxes form, two boxes being joined where they overlap."""
    n = len(boxes)
    parent = list(range(n))

    def root(a: int) -> int:
        while parent[a] != a:
            a = parent[a]
        return a

    for a in range(n):
        for b in range(a + 1, n):
            if min(boxes[a, 2], boxes[b, 2]) > max(boxes[a, 0], boxes[b, 0]) and min(
                boxes[a, 3], boxes[b, 3]
            ) > max(boxes[a, 1], boxes[b, 1]):
                parent[root(a)] = root(b)
    return len({root(a) for a in range(n)})


def _plausible_step(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32], frames: int) -> bool:
    ca, cb = (a[:2] + a[2:]) / 2, (b[:2] + b[2:]) / 2
    size = float(max(a[2] - a[0], a[3] - a[1], 1.0))
    return float(np.hypot(*(cb - ca))) <= SUBJECT_MAX_STEP * size * max(frames, 1)


@dataclass(frozen=True, slots=True)
class EncodeResult:
    frames: int
    fully_masked: int
    seconds: float


def mask_frame(
    f: SourceFrame, masks: Masks, policy: PolicyConfig, mark: str
) -> npt.NDArray[np.uint8]:
    """The frame's pixels masked per plan, with the recipient mark burned in."""
    frame = Frame.from_bgr(f.bgr, f.index, f.t_us)
    apply_masks(frame, masks, policy)
    burn_mark(frame.planes[0], mark)
    return frame.planes[0]
