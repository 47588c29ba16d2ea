"""From detections and a policy to Masks, and from Masks to pixels.

`masks_for` decides what to cover (classes, enlargement, zones); `apply_masks`
covers it with the kernels, on BGR or on YUV 4:2:0 planes. A full-frame mask
is a solid fill: nothing of the original survives it.
"""

from __future__ import annotations

import cv2
import numpy as np
import numpy.typing as npt

from redactor import kernels
from redactor.boxes import clip, enlarge, grid_block, grid_rest, grid_shape
from redactor.config import PolicyConfig
from redactor.types import Detections, Frame, Label, MaskReason, Masks

CLASS_LABEL = {"face": Label.FACE, "plate": Label.PLATE, "person": Label.PERSON}
_STYLE = {
    "pixelate": kernels.Style.PIXELATE,
    "blur": kernels.Style.BLUR,
    "strong_blur": kernels.Style.STRONG_BLUR,
    "fill": kernels.Style.FILL,
}


def masks_for(
    detections: Detections,
    policy: PolicyConfig,
    width: int,
    height: int,
    zones: tuple[npt.NDArray[np.int32], ...] = (),
    reasons: npt.NDArray[np.int8] | None = None,
    moving: npt.NDArray[np.float32] | None = None,
) -> Masks:
    """The regions a policy covers on one frame: its classes, enlarged and clipped,
    and the `moving` boxes (parts of blobs that moved: live streams, policy
    motion_cover) as they are, whatever the classes: they carry their own margin."""
    wanted = np.isin(detections.labels, [int(CLASS_LABEL[c]) for c in policy.classes])
    kept = detections.select(wanted)
    boxes = enlarge(kept.boxes, policy.enlarge)
    labels = kept.labels.copy()
    if reasons is None:
        why = np.full(len(kept), int(MaskReason.DETECTED), np.int8)
    else:
        why = reasons[wanted].astype(np.int8)
    if moving is not None and len(moving):
        boxes = np.concatenate([boxes, moving.astype(np.float32)])
        labels = np.concatenate([labels, np.full(len(moving), int(Label.PERSON), np.int8)])
        why = np.concatenate([why, np.full(len(moving), int(MaskReason.MOTION), np.int8)])
    return Masks(clip(boxes, width, height), labels, why, ellipse=policy.ellipse, zones=zones)


def mask_everything(frame: Frame, color: tuple[int, int, int] = (0, 0, 0)) -> None:
    """Fail-closed: every pixel of every plane replaced. Used for any doubt."""
    if frame.layout == "bgr":
        frame.planes[0][:] = np.asarray(color, np.uint8)
        return
    y, u, v = kernels.bgr_to_yuv(color)
    if frame.layout == "i420":
        frame.planes[0][:] = y
        frame.planes[1][:] = u
        frame.planes[2][:] = v
    else:
        frame.planes[0][:] = y
        frame.planes[1][..., 0] = u
        frame.planes[1][..., 1] = v


def mask_coarse(
    frame: Frame,
    masks: Masks,
    blocks: int,
    shown: npt.NDArray[np.bool_] | None = None,
    cell: int = 0,
) -> Masks:
    """Pixelates `frame` in place, `blocks` blocks across its long side, but for the cells
    `shown` (rows x columns of a `cell`-px grid: what moves at a stream's start, left to
    the moving ground's masks), and returns `masks` with the mosaic's boxes first (reason
    START). The masks are still to be applied on top, at the policy's own strength."""
    w, h = frame.width, frame.height
    block = grid_block(w, h, blocks)
    if shown is not None and shown.shape != grid_shape(w, h, max(cell, 1)):
        # cells of another grid would show other pixels than those that moved
        raise ValueError(f"shown cells {shown.shape} are not the {cell} px grid of a {w}x{h} frame")
    if shown is None or not shown.any():
        rest = np.array([[0, 0, w, h]], np.float32)
    else:
        rest = grid_rest(shown, cell, w, h)
    for box in rest:
        # blocks of the mosaic's size from each box's corner (on the mosaic's own grid where
        # cells are blocks), smaller only where a box ends
        long = float(max(box[2] - box[0], box[3] - box[1]))
        _mask_boxes(frame, box[None], style=kernels.Style.PIXELATE, strength=long / (block - 0.5))
    return Masks(
        np.concatenate([rest, masks.boxes]),
        np.concatenate([np.zeros(len(rest), np.int8), masks.labels]),
        np.concatenate([np.full(len(rest), int(MaskReason.START), np.int8), masks.reasons]),
        ellipse=masks.ellipse,
        zones=masks.zones,
    )


def apply_masks(frame: Frame, masks: Masks, policy: PolicyConfig) -> None:
    """Covers `masks` on `frame` in place, with the policy's style and strength."""
    if masks.full_frame:
        mask_everything(frame, policy.fill_color)
        return
    boxes = masks.boxes[masks.reasons != int(MaskReason.START)]  # mask_coarse did those
    if len(boxes):
        _mask_boxes(
            frame,
            boxes,
            style=_STYLE[policy.style],
            strength=policy.strength,
            ellipse=masks.ellipse,
            color=policy.fill_color,
        )
    for polygon in masks.zones:
        _fill_zone(frame, polygon, policy.fill_color)


def _mask_boxes(
    frame: Frame,
    boxes: npt.NDArray[np.float32],
    style: kernels.Style,
    strength: float,
    ellipse: bool = False,
    color: tuple[int, int, int] = (0, 0, 0),
) -> None:
    """The kernel for the frame's layout, on `boxes` (frame px), in place."""
    args = dict(style=style, strength=strength, ellipse=ellipse, color=color)
    if frame.layout == "bgr":
        kernels.mask_bgr(frame.planes[0], boxes, **args)
    elif frame.layout == "i420":
        kernels.mask_i420(*frame.planes, boxes, **args)
    else:
        kernels.mask_nv12(*frame.planes, boxes, **args)


def _fill_zone(frame: Frame, polygon: npt.NDArray[np.int32], color: tuple[int, int, int]) -> None:
    """Static privacy zones are filled solid (they are always masked, whatever the style)."""
    if frame.layout == "bgr":
        cv2.fillPoly(frame.planes[0], [polygon.reshape(-1, 1, 2)], color)
        return
    y, u, v = kernels.bgr_to_yuv(color)
    cv2.fillPoly(frame.planes[0], [polygon.reshape(-1, 1, 2)], int(y))
    # chroma at half resolution: floor the start, ceil the end, so the zone is covered
    half = (polygon // 2).reshape(-1, 1, 2)
    if frame.layout == "i420":
        cv2.fillPoly(frame.planes[1], [half], int(u))
        cv2.fillPoly(frame.planes[2], [half], int(v))
    else:
        cv2.fillPoly(frame.planes[1], [half], (int(u), int(v)))
