"""Plates found by a plate detector network: HyperLPR's MobileNet SSD (Caffe, OpenCV DNN).

Trained on plates, not text, it finds plates 30-64 px wide whose 5-8 px characters
the text detector no longer reads (docs/detection.md#a-plate-detector). It reads the
frame at its own size (`scale`), padded rather than resized to the network's
multiple of 32. Its largest boxes are left to the text passes, which fit large
plates better (`max_plate_px`), and boxes taller than wide are dropped: no plate
layout is.
"""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt

from redactor.config import PlateSsdConfig
from redactor.detect.base import resize
from redactor.models import model_path, model_sha256
from redactor.types import Detections, Label

PAD_TO = 32  # the network downsamples 5 times
# The network was trained on RGB pixels normalised with ImageNet statistics.
_MEAN_RGB = np.array([0.485, 0.456, 0.406], np.float32) * 255.0
_STD_RGB = np.array([0.229, 0.224, 0.225], np.float32) * 255.0


class PlateSsdDetector:
    def __init__(self, cfg: PlateSsdConfig, models_dir: Path | None = None) -> None:
        self.cfg = cfg
        self.name = (
            "plate_ssd"
            + (f"_x{cfg.scale:g}" if cfg.scale != 1.0 else "")
            + (f"_max{cfg.max_side}" if cfg.max_side else "")
            + (f"_upto{cfg.max_plate_px:g}px" if cfg.max_plate_px else "")
            + (f"_above{cfg.min_frame_side}" if cfg.min_frame_side else "")
        )
        self.model_sha256 = model_sha256("plate_ssd")
        self._net = cv2.dnn.readNetFromCaffe(
            str(model_path("plate_ssd_net", models_dir)), str(model_path("plate_ssd", models_dir))
        )
        self._lock = threading.Lock()  # one OpenCV DNN net runs one input at a time

    def network_input(self, bgr: npt.NDArray[np.uint8]) -> tuple[npt.NDArray[np.float32], int, int]:
        """The frame as the network sees it, (1, 3, h, w) normalised RGB, and the width and
        height of the frame in it. The frame is padded to sides of multiples of 32, not
        resized: a 1% resize blurs 8 px characters enough to lose plates."""
        h, w = bgr.shape[:2]
        fw, fh = self._frame_size(w, h)
        rgb = resize(bgr, fw, fh)[:, :, ::-1].astype(np.float32)
        pw, ph = -fw % PAD_TO, -fh % PAD_TO
        x = np.zeros((3, fh + ph, fw + pw), np.float32)  # 0 = the mean colour after normalising
        x[:, :fh, :fw] = ((rgb - _MEAN_RGB) / _STD_RGB).transpose(2, 0, 1)
        return x[None], fw, fh

    def _frame_size(self, width: int, height: int) -> tuple[int, int]:
        """The frame's size in the network input (before padding)."""
        s = self.cfg.scale
        if self.cfg.max_side:
            s = min(s, self.cfg.max_side / max(width, height))
        return max(1, round(width * s)), max(1, round(height * s))

    def work_px(self, width: int, height: int) -> int:
        """The padded network input's pixels on a frame of this size (0: skipped)."""
        if max(width, height) <= self.cfg.min_frame_side:
            return 0
        fw, fh = self._frame_size(width, height)
        return (fw + -fw % PAD_TO) * (fh + -fh % PAD_TO)

    def detect(self, bgr: npt.NDArray[np.uint8]) -> Detections:
        h, w = bgr.shape[:2]
        if max(w, h) <= self.cfg.min_frame_side:
            return Detections.empty()
        blob, fw, fh = self.network_input(bgr)
        with self._lock:
            self._net.setInput(blob)
            out = np.asarray(self._net.forward(), np.float32).reshape(-1, 7)
        # Boxes are in 0-1 of the padded input: to frame px through the frame's share of it.
        out[:, 3:7] *= np.array([blob.shape[3] / fw, blob.shape[2] / fh] * 2, np.float32)
        return plate_boxes(out, w, h, self.cfg.min_score, self.cfg.max_plate_px)

    def close(self) -> None:
        pass  # the net is freed with the object


def plate_boxes(
    rows: npt.NDArray[np.float32], width: int, height: int, min_score: float, max_plate_px: float
) -> Detections:
    """Plates from the SSD's DetectionOutput rows (image, label, score, x0, y0, x1, y1 in
    0-1 of the frame), in frame px: confident enough, not wider than `max_plate_px`
    (0 = any) and not taller than wide."""
    rows = rows[(rows[:, 1] == 1) & (rows[:, 2] >= min_score)]
    boxes = rows[:, 3:7] * np.array([width, height, width, height], np.float32)
    bw, bh = boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]
    keep = (bw > 0) & (bh > 0) & (bh <= bw)
    if max_plate_px:
        keep &= bw <= max_plate_px
    return Detections.create(boxes[keep], rows[keep, 2], Label.PLATE).clipped(width, height)
