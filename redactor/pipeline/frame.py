"""One frame through detect → mask, failing closed.

This is where a frame is masked. Whatever goes wrong between receiving the
pixels and handing them back (the detector raising, returning garbage, a
kernel failing), the frame leaves fully masked and the failure is logged with
its sequence number and counted. If even the full mask fails, the exception
propagates and no pixels leave at all.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from redactor.detect.base import Detector
from redactor.errors import InvalidDetections
from redactor.pipeline.masking import apply_masks, mask_coarse, mask_everything, masks_for
from redactor.policy import ResolvedPolicy
from redactor.types import Detections, Frame, FrameStatus, Masks

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Redacted:
    frame: Frame  # masked in place
    detections: Detections
    masks: Masks
    status: FrameStatus
    reason: str = ""
    detect_ms: float = 0.0


class FrameRedactor:
    """Detects and masks single frames under one resolved policy.

    `on_fail_closed(reason)` is called for every frame masked entirely for
    safety (the metrics hook); it must not raise.
    """

    def __init__(
        self,
        detector: Detector,
        policy: ResolvedPolicy,
        on_fail_closed: Callable[[str], None] | None = None,
    ) -> None:
        self.detector = detector
        self.policy = policy
        self._on_fail_closed = on_fail_closed

    def detect(self, frame: Frame) -> Detections:
        """Runs the detector and validates what it returns."""
        found = self.detector.detect(frame.to_bgr())
        if not isinstance(found, Detections):
            raise InvalidDetections(
                f"detector {self.detector.name} returned {type(found).__name__}, expected Detections"
            )
        return found.clipped(frame.width, frame.height)

    def redact(
        self,
        frame: Frame,
        detections: Detections | None = None,
        reasons: npt.NDArray[np.int8] | None = None,
        moving: npt.NDArray[np.float32] | None = None,
        coarse_blocks: int = 0,
        coarse_shown: npt.NDArray[np.bool_] | None = None,
        coarse_cell: int = 0,
    ) -> Redacted:
        """Masks `frame` in place. Pass `detections` (and why each is masked) to skip
        detection: tracked frames; `moving`: boxes of what moved, masked as they are;
        `coarse_blocks`: the whole frame first under a mosaic of that many blocks across,
        but for the `coarse_shown` cells of a `coarse_cell`-px grid (what moves, masked as
        moving ground)."""
        t0 = time.perf_counter()
        found = Detections.empty()
        try:
            found = self.detect(frame) if detections is None else detections
            detect_ms = (time.perf_counter() - t0) * 1000
            masks = masks_for(
                found,
                self.policy.policy,
                frame.width,
                frame.height,
                self.policy.zones,
                reasons,
                moving,
            )
            if coarse_blocks > 0:
                masks = mask_coarse(frame, masks, coarse_blocks, coarse_shown, coarse_cell)
            apply_masks(frame, masks, self.policy.policy)
            return Redacted(frame, found, masks, FrameStatus.REDACTED, "", detect_ms)
        except Exception as e:  # noqa: BLE001 - any failure fails closed
            return self.fail_closed(frame, f"{type(e).__name__}: {e}", found)

    def fail_closed(self, frame: Frame, reason: str, found: Detections | None = None) -> Redacted:
        """Masks every pixel of `frame`; logs and counts why."""
        log.error("frame %d fully masked for safety: %s", frame.seq, reason)
        mask_everything(frame, self.policy.policy.fill_color)
        if self._on_fail_closed is not None:
            self._on_fail_closed(reason)
        return Redacted(
            frame,
            found if found is not None else Detections.empty(),
            Masks.everything(frame.width, frame.height, reason),
            FrameStatus.FULLY_MASKED,
            reason,
        )
