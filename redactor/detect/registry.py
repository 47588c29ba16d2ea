"""Builds the detectors of a profile from configuration, and runs them together."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

from redactor.config import DetectorConfig, MediaPipeFaceConfig, ProfileConfig
from redactor.detect.base import Detector, nms
from redactor.types import Detections


def build_detector(cfg: DetectorConfig, models_dir: Path | None = None) -> Detector:
    """One plugin per config kind. Imports are local so unused runtimes never load."""
    if isinstance(cfg, MediaPipeFaceConfig):
        from redactor.detect.mediapipe_face import MediaPipeFaceDetector

        return MediaPipeFaceDetector(cfg, models_dir)
    raise NotImplementedError(f"detector kind {cfg.kind!r} is not built yet")


class ProfileDetector:
    """All detectors of one profile; their boxes merged per label by NMS."""

    def __init__(self, name: str, cfg: ProfileConfig, models_dir: Path | None = None) -> None:
        self.name = name
        self.cfg = cfg
        self.detectors = [build_detector(d, models_dir) for d in cfg.detectors]
        self.model_sha256 = ",".join(d.model_sha256 for d in self.detectors)

    def detect(self, bgr: npt.NDArray[np.uint8]) -> Detections:
        found = Detections.concat([d.detect(bgr) for d in self.detectors])
        return merge(found, self.cfg.merge_iou)

    def close(self) -> None:
        for d in self.detectors:
            d.close()


def merge(found: Detections, iou: float) -> Detections:
    """Per label, keeps the best of boxes that overlap more than `iou`."""
    if len(found) < 2:
        return found
    keep: list[npt.NDArray[np.intp]] = []
    for label in np.unique(found.labels):
        idx = np.flatnonzero(found.labels == label)
        keep.append(idx[nms(found.boxes[idx], found.scores[idx], iou)])
    return found.select(np.sort(np.concatenate(keep)))
