"""MediaPipe BlazeFace (short or full range) through the Tasks API.

Fast and good on faces near the camera; over tiles it also finds some mid-size
faces. Small CCTV faces are CenterFace's job, so neither default profile runs it
(docs/detection.md#mediapipe-blazeface); a profile for close-range cameras may.
MediaPipe exposes no thread setting: `threads` is accepted for a uniform
plugin signature and ignored.
"""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from redactor.boxes import nms
from redactor.config import MediaPipeFaceConfig
from redactor.detect.base import tiles
from redactor.models import model_path, model_sha256
from redactor.types import Detections, Label


class MediaPipeFaceDetector:
    def __init__(
        self, cfg: MediaPipeFaceConfig, models_dir: Path | None = None, threads: int = 1
    ) -> None:
        # Imported here: mediapipe is heavy and only needed when this plugin is used.
        import mediapipe as mp
        from mediapipe.tasks.python import vision
        from mediapipe.tasks.python.core import base_options

        model = "blazeface_short" if cfg.model == "short" else "blazeface_full"
        path = model_path(model, models_dir)
        self.cfg = cfg
        self.name = f"mediapipe_{cfg.model}" + (f"_tile{cfg.tile}" if cfg.tile else "")
        self.model_sha256 = model_sha256(model)
        self._mp = mp
        options = vision.FaceDetectorOptions(
            base_options=base_options.BaseOptions(model_asset_path=str(path)),
            min_detection_confidence=cfg.min_score,
            min_suppression_threshold=0.3,
        )
        self._det = vision.FaceDetector.create_from_options(options)
        self._lock = threading.Lock()  # one graph per instance: calls are serialised
        self._closed = False

    def _run(self, rgb: npt.NDArray[np.uint8]) -> tuple[list[list[float]], list[float]]:
        image = self._mp.Image(
            image_format=self._mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb)
        )
        with self._lock:
            result = self._det.detect(image)
        boxes, scores = [], []
        for d in result.detections:
            bb = d.bounding_box
            boxes.append(
                [bb.origin_x, bb.origin_y, bb.origin_x + bb.width, bb.origin_y + bb.height]
            )
            scores.append(d.categories[0].score if d.categories else 0.0)
        return boxes, scores

    def detect(self, bgr: npt.NDArray[np.uint8]) -> Detections:
        h, w = bgr.shape[:2]
        rgb: npt.NDArray[np.uint8] = np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), np.uint8)
        all_boxes: list[list[float]] = []
        all_scores: list[float] = []
        for x0, y0, x1, y1 in tiles(w, h, self.cfg.tile, self.cfg.tile_overlap):
            boxes, scores = self._run(rgb[y0:y1, x0:x1])
            all_boxes += [[b[0] + x0, b[1] + y0, b[2] + x0, b[3] + y0] for b in boxes]
            all_scores += scores
        b = np.asarray(all_boxes, np.float32).reshape(-1, 4)
        s = np.asarray(all_scores, np.float32)
        keep = nms(b, s, 0.3)
        return Detections.create(b[keep], s[keep], Label.FACE).clipped(w, h)

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._det.close()

    def __del__(self) -> None:  # mediapipe's own __del__ fails at interpreter exit
        try:
            self.close()
        except Exception:
            pass
