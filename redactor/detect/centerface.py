"""CenterFace through onnxruntime: the detector for small faces.

The network is fully convolutional: any input whose sides are multiples of 32
works once the graph's input is made dynamic (onnx_session.dynamic_image_model).
It predicts, on a grid of stride 4, a face-centre heatmap, the log of the face's
size in grid cells and the centre's sub-cell offset; a box is read off every
cell above the threshold and overlapping boxes are suppressed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

from redactor.boxes import Region, aligned_windows, centres_in, nms
from redactor.config import CenterFaceConfig
from redactor.detect.base import resize
from redactor.detect.onnx_session import dynamic_image_model, shared_session
from redactor.models import model_path, model_sha256
from redactor.types import Detections, Label

STRIDE = 4  # output grid cell, input px
PAD_TO = 32  # the network downsamples 5 times
SNAP = (
    0.03  # largest extra shrink taken to avoid padding a side (padding costs time, finds nothing)
)
# Input px of context around a window (detect_in): with it the windows' faces are the whole
# input's, box for box, up to faces of about twice this size centred at a region's edge
# (docs/exports.md#windows).
WINDOW_CONTEXT = 192
# The network was trained on RGB pixels 0..255, with no mean or scale.
_MODEL = "centerface"


def decode(
    heat: npt.NDArray[np.float32],
    log_size: npt.NDArray[np.float32],
    offset: npt.NDArray[np.float32],
    threshold: float,
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Boxes (n, 4) xyxy in network-input px and scores (n,) from one image's outputs.

    heat: (H, W) centre probability; log_size: (2, H, W) log(height, width / STRIDE);
    offset: (2, H, W) centre offset (dy, dx) within the cell, in cells.
    """
    ys, xs = np.nonzero(heat > threshold)
    scores = heat[ys, xs].astype(np.float32)
    h = np.exp(log_size[0, ys, xs]) * STRIDE
    w = np.exp(log_size[1, ys, xs]) * STRIDE
    cy = (ys + offset[0, ys, xs] + 0.5) * STRIDE
    cx = (xs + offset[1, ys, xs] + 0.5) * STRIDE
    boxes = np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], axis=1).astype(np.float32)
    return boxes.reshape(-1, 4), scores


def work_scale(width: int, height: int, scale: float, max_side: int) -> float:
    """The factor a frame is resized by: `scale`, capped so the long side stays <= max_side,
    then lowered by up to SNAP where that spares padding a side up to the next multiple
    of 32 (1280x720 at 640 runs as 626x352 instead of 640x360 padded to 640x384).
    """
    if max_side > 0:
        scale = min(scale, max_side / max(width, height))
    for side in (width, height):
        cells = side * scale / PAD_TO
        whole = int(cells)
        if whole >= 1 and whole != cells and whole / cells >= 1.0 - SNAP:
            scale *= whole / cells
    return scale


class CenterFaceDetector:
    def __init__(
        self, cfg: CenterFaceConfig, models_dir: Path | None = None, threads: int = 1
    ) -> None:
        path = model_path(_MODEL, models_dir)
        self.cfg = cfg
        self.name = (
            f"centerface_x{cfg.scale:g}"
            + (f"_max{cfg.max_side}" if cfg.max_side else "")
            + (f"_faces{cfg.max_face_px:g}px" if cfg.max_face_px else "")
        )
        self.model_sha256 = model_sha256(_MODEL)
        self._sess = shared_session(path, threads, "centerface", dynamic_image_model)
        self._input = self._sess.get_inputs()[0].name
        # Outputs in the file's order: heatmap, log size, offset, landmarks (unused).
        self._outputs = [o.name for o in self._sess.get_outputs()[:3]]

    def detect(self, bgr: npt.NDArray[np.uint8]) -> Detections:
        return self._detect(bgr, None)

    def work_px(self, width: int, height: int) -> int:
        """The padded network input's pixels on a whole frame of this size (0: skipped)."""
        sizes = self._input_sizes(width, height)
        return 0 if sizes is None else sizes[2] * sizes[3]

    def _input_sizes(self, width: int, height: int) -> tuple[int, int, int, int] | None:
        """The frame's size at the pass's scale and that size padded for the network
        (sw, sh, pw, ph); None where the pass is meant for smaller frames (another covers it)."""
        s = work_scale(width, height, self.cfg.scale, self.cfg.max_side)
        if s < self.cfg.min_scale:
            return None
        sw, sh = max(1, round(width * s)), max(1, round(height * s))
        return sw, sh, -(-sw // PAD_TO) * PAD_TO, -(-sh // PAD_TO) * PAD_TO

    def detect_in(self, bgr: npt.NDArray[np.uint8], regions: list[Region]) -> Detections:
        """What `detect` finds with its centre in `regions` (frame px), at a share of its cost:
        the network runs on windows of the whole frame's own input (redactor.boxes.aligned_windows)."""
        return self._detect(bgr, regions)

    def _detect(self, bgr: npt.NDArray[np.uint8], regions: list[Region] | None) -> Detections:
        h, w = bgr.shape[:2]
        sizes = self._input_sizes(w, h)
        # A pass meant for smaller frames (another pass covers this one), or nowhere to look.
        if sizes is None or regions == []:
            return Detections.empty()
        sw, sh, pw, ph = sizes
        img = resize(bgr, sw, sh)
        low = self.cfg.small_px > 0 and self.cfg.small_min_score < self.cfg.min_score
        floor = self.cfg.small_min_score if low else self.cfg.min_score
        if regions is None:
            boxes, scores = self._run(img, (0, 0, pw, ph), floor)
        else:
            wins = aligned_windows(regions, w / sw, h / sh, pw, ph, PAD_TO, WINDOW_CONTEXT)
            found = [self._window(img, core, outer, floor) for core, outer in wins]
            boxes = np.concatenate([b for b, _ in found]).reshape(-1, 4)
            scores = np.concatenate([c for _, c in found])
        keep = nms(boxes, scores, self.cfg.nms_iou)
        # Back to frame px: the true per-axis factor, since sizes were rounded.
        boxes = boxes[keep] * np.array([w / sw, h / sh, w / sw, h / sh], np.float32)
        scores = scores[keep]
        side = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1])
        if low:  # below the floor only what is small enough
            kept = (scores > self.cfg.min_score) | (side <= self.cfg.small_px)
            boxes, scores, side = boxes[kept], scores[kept], side[kept]
        if self.cfg.large_px > 0:  # a large box from the large floor only
            kept = (scores > self.cfg.large_min_score) | (side <= self.cfg.large_px)
            boxes, scores, side = boxes[kept], scores[kept], side[kept]
        if self.cfg.max_face_px > 0:
            small = side <= self.cfg.max_face_px
            boxes, scores = boxes[small], scores[small]
        return Detections.create(boxes, scores, Label.FACE).clipped(w, h)

    def _window(
        self, img: npt.NDArray[np.uint8], core: Region, outer: Region, floor: float
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        """The boxes centred in `core` that survive suppression among all the window's boxes,
        as on the whole input, where a box in the context may suppress one in the core."""
        boxes, scores = self._run(img, outer, floor)
        keep = nms(boxes, scores, self.cfg.nms_iou)
        boxes, scores = boxes[keep], scores[keep]
        inside = centres_in(boxes, [core])
        return boxes[inside], scores[inside]

    def _run(
        self, img: npt.NDArray[np.uint8], window: Region, floor: float
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        """Boxes (input px) and scores above `floor` of the network on one window of the
        resized frame `img`; what lies past the image in the window is black padding."""
        x0, y0, x1, y1 = window
        ih, iw = img.shape[:2]
        blob = np.zeros((1, 3, y1 - y0, x1 - x0), np.float32)
        cw, ch = max(0, min(x1, iw) - x0), max(0, min(y1, ih) - y0)
        # BGR -> RGB while filling the padded planar buffer; padding stays black.
        blob[0, :, :ch, :cw] = img[y0 : y0 + ch, x0 : x0 + cw, ::-1].transpose(2, 0, 1)
        # onnxruntime sessions may run concurrently: no lock needed.
        heat, log_size, offset = self._sess.run(self._outputs, {self._input: blob})
        boxes, scores = decode(heat[0, 0], log_size[0], offset[0], floor)
        return boxes + np.array([x0, y0, x0, y0], np.float32), scores

    def close(self) -> None:
        pass  # the session is freed with the object; nothing to release early
