"""The fast plan's detection of one segment, on a worker: look only where it is needed.

A fixed camera's picture is mostly still ground, and what moves is a small part
of it. Per frame of the segment (after a pre-roll that teaches the background
model the scene, redactor.pipeline.background):

- a sweep (LOOK_FULL): the policy's profile on the whole frame, on the
  segment's first frame and then every `sweep_s` of video. It finds what
  stands still (a parked car's plate, a person waiting);
- every `step` frames (and on the segment's last), a look at the moving
  regions (LOOK_REGIONS): the policy's profile where the picture moved and
  around what the looks of the last `recent_s` found. With `looks` "windows",
  its face detectors run on windows of their own whole-frame network inputs
  and find there what they would on the whole frame; text runs on the whole
  frame (redactor.detect.base.detect_in). With "crops", the region profile
  runs on crops. A person who stopped is no longer moving, but is still there,
  and still looked at. Where the background model cannot tell what moves
  (still learning, the whole picture changed), that look is a sweep instead;
- on the other frames nothing runs (LOOK_NONE): the plan (redactor.export.objects)
  follows each object between its detections.

A frame whose detector failed is listed and masked entirely, as in the
exhaustive plan. Everything here depends only on the segment and the
configuration, so a segment gives the same detections in any process.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from redactor.boxes import Region, merge_regions, region_area
from redactor.config import FastPlanConfig
from redactor.detect.base import Detector
from redactor.errors import FailedPrecondition
from redactor.export import segments
from redactor.export.redact import LOOK_FULL, LOOK_NONE, LOOK_REGIONS, detect_frame
from redactor.export.segments import Segment
from redactor.export.video import SourceFrame
from redactor.pipeline.background import BackgroundModel
from redactor.pipeline.scheduler import look_closer
from redactor.types import Detections, Frame

log = logging.getLogger(__name__)

_US = 1_000_000


@dataclass(slots=True)
class Looked:
    """Per frame of a segment: what was found and how closely it was looked at."""

    detections: list[Detections] = field(default_factory=list)
    looks: list[int] = field(default_factory=list)  # LOOK_* per frame
    failed: dict[int, str] = field(default_factory=dict)  # export frame index → why fully masked


def detect_segment(
    source: Path,
    segment: Segment,
    width: int,
    height: int,
    full: Detector,
    regions: Detector,
    cfg: FastPlanConfig,
    stop: Callable[[], bool] | None = None,
    tick: Callable[[], None] | None = None,
    threads: int | None = None,
) -> Looked:
    """The segment's detections per the fast plan (see the module doc); `threads` caps
    the decoder's."""
    model = BackgroundModel(cfg.motion)

    def learn(bgr: npt.NDArray[np.uint8]) -> None:
        model.update(Frame.from_bgr(bgr))

    out = Looked()
    last = len(segment.pts) - 1
    swept_us: int | None = None
    recent: list[tuple[int, npt.NDArray[np.float32]]] = []  # (t_us, boxes) of earlier looks
    for f in segments.decode(source, segment, preroll=learn, threads=threads):
        if stop is not None and stop():
            raise FailedPrecondition("the service stopped during the export")
        motion = model.update(Frame.from_bgr(f.bgr, f.index, f.t_us))
        i = f.index - segment.first
        due = swept_us is None or f.t_us - swept_us >= round(cfg.sweep_s * _US)
        look = LOOK_NONE
        if due or ((i % cfg.step == 0 or i == last) and not motion.trusted):
            look = LOOK_FULL
        elif i % cfg.step == 0 or i == last:
            look = LOOK_REGIONS
        found, why = Detections.empty(), None
        if look == LOOK_FULL:
            found, why = detect_frame(full, f, width, height)
            swept_us = f.t_us
        elif look == LOOK_REGIONS:
            recent = [(t, b) for t, b in recent if f.t_us - t <= round(cfg.recent_s * _US)]
            boxes = motion.regions(cfg.motion, width, height)
            boxes = _with_recent(boxes, [b for _, b in recent], cfg, width, height)
            if boxes and cfg.looks == "windows":
                found, why = detect_frame(full, f, width, height, boxes)
            elif boxes:
                found, why = _look_closer(regions, f, boxes, cfg, width, height)
        if len(found):
            recent.append((f.t_us, found.boxes))
        if why is not None:
            out.failed[f.index] = why
        out.detections.append(found)
        out.looks.append(look)
        if tick is not None:
            tick()
    return out


def _with_recent(
    moving: list[Region],
    recent: list[npt.NDArray[np.float32]],
    cfg: FastPlanConfig,
    width: int,
    height: int,
) -> list[Region]:
    """The moving regions plus the surroundings of what earlier looks found: an object that
    stopped moving is no longer a moving region, but is looked at again until it is gone."""
    if not recent:
        return moving
    b = np.concatenate(recent)
    grow = np.maximum((b[:, 2:] - b[:, :2]) * cfg.recent_margin, cfg.motion.margin_px)
    lo = np.floor(b[:, :2] - grow).astype(int)
    hi = np.ceil(b[:, 2:] + grow).astype(int)
    extra = [
        (max(0, int(x0)), max(0, int(y0)), min(width, int(x1)), min(height, int(y1)))
        for (x0, y0), (x1, y1) in zip(lo, hi, strict=True)
    ]
    merged = merge_regions([*moving, *extra])
    merged.sort(key=region_area, reverse=True)
    return merged


def _look_closer(
    detector: Detector,
    f: SourceFrame,
    boxes: list[Region],
    cfg: FastPlanConfig,
    width: int,
    height: int,
) -> tuple[Detections, str | None]:
    """The region detector on the moving regions' crops, merged into the frame's Detections."""
    try:
        parts = look_closer(
            detector, f.bgr, boxes, cfg.motion.max_region_px, cfg.motion.region_width
        )
        found = Detections.create(
            np.concatenate([p.boxes for p in parts]),
            np.concatenate([p.scores for p in parts]),
            np.concatenate([p.labels for p in parts]),
        )
        return found.clipped(width, height), None
    except Exception as e:  # noqa: BLE001 - fail closed on this frame, keep the export going
        log.warning(
            "export frame %d (pts %d): region detector failed, frame fully masked: %s",
            f.index,
            f.pts,
            e,
        )
        return Detections.empty(), f"region detector failed: {type(e).__name__}: {e}"
