"""Where a fixed camera's picture moved, on every frame.

The cameras are fixed, so people and cars are where the picture changes. A
background model (OpenCV MOG2, on a small BGR copy of each frame) finds the
moving blobs. They serve twice:

- as masks: a band along each blob's upper outline (`PolicyConfig.motion_cover`
  of its height: where walkers' heads are, each strip about a head wide; the
  whole silhouette for policies that hide persons, cover 1), or the top of each
  blob's box (`motion_mask = "box"`), is masked on the very frame it is seen, so a moving face is covered between
  detections without waiting for one, however small it is;
- as regions: grown and merged, they are cropped at full resolution and given
  to a small-object detector at a scale the whole frame could not afford.

Stateful: one model per stream, fed every frame in order (the push thread), so
the blobs of a frame are those of that frame. A frame's Motion also says what is
foreground there, which tells whether a detection on background still holds
(pipeline/sweep.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np
import numpy.typing as npt

from redactor.boxes import (
    centres_in,
    grid_shape,
    grid_sums,
    grid_touched,
    merge_regions,
    region_area,
)
from redactor.config import MotionConfig
from redactor.types import BoxArray, Frame

Box = tuple[int, int, int, int]
# Outline strips are this share of their blob's height wide: about a walker's head with the
# sway of a stride (see docs/tuning.md#motion-cover).
STRIP = 0.35
# The model often cuts a walker in two (head and shoulders, then the coat): a blob this share
# of its own height or less above another in the same columns is one walker's top, and its band
# is as deep as the walker's (see docs/tuning.md#motion-cover).
STACK_GAP = 0.5
# A strip whose top is this share of its blob's height below every neighbouring strip's holds
# a shoulder, an arm or a bag beside a head, not a head (a head's own edge is about 0.07 lower
# than its top): a band, not a silhouette, leaves it out (see docs/tuning.md#motion-cover).
SIDE_DROP = 0.1


def colour_diff(a: npt.NDArray[np.uint8], b: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """Per pixel of two pictures of one shape: the largest of its channels' absolute
    differences (a red patch at the ground's luma differs)."""
    diff = cv2.absdiff(a, b)
    if diff.ndim == 3:
        channels = cv2.split(diff)
        diff = channels[0]
        for c in channels[1:]:
            diff = cv2.max(diff, c)
    return np.asarray(diff, np.uint8)


def _stacked_feet(blobs: BoxArray) -> npt.NDArray[np.float32]:
    """Per blob, the lowest bottom of the blobs stacked under it: each starting at most
    STACK_GAP of the upper one's height below the stack's foot so far and sharing half
    the narrower one's columns (its own bottom where none is)."""
    x0, y0, x1, y1 = blobs[:, 0], blobs[:, 1], blobs[:, 2], blobs[:, 3]
    shared = np.minimum(x1[:, None], x1[None, :]) - np.maximum(x0[:, None], x0[None, :])
    narrower = np.minimum((x1 - x0)[:, None], (x1 - x0)[None, :])
    under = (shared > 0.5 * narrower) & (y0[None, :] > y0[:, None])  # [upper, lower]
    gap = STACK_GAP * (y1 - y0)
    feet = y1.copy()
    for _ in range(len(blobs)):  # a walker in three parts: head, coat, legs
        reach = under & (y0[None, :] <= (feet + gap)[:, None])
        lower = np.where(reach, y1[None, :], feet[:, None]).max(axis=1)
        if (lower <= feet).all():
            break
        feet = np.maximum(feet, lower)
    return feet


def _without_sides(strips: list[tuple[int, int]], step: int, drop: float) -> list[tuple[int, int]]:
    """The strips (first column, top) of one blob, without those whose top is more than
    `drop` below that of every adjacent strip: a shoulder or an arm beside a head."""
    keep = []
    for i, (c0, t) in enumerate(strips):
        beside = [
            strips[j][1]
            for j in (i - 1, i + 1)
            if 0 <= j < len(strips) and abs(strips[j][0] - c0) <= step
        ]
        if not beside or any(t - u <= drop for u in beside):
            keep.append((c0, t))
    return keep


@dataclass(frozen=True, slots=True)
class Motion:
    """What moved on one frame. `blobs` are frame pixels; `fg` is at the model's work size."""

    blobs: BoxArray  # (k, 4) xyxy: each moving blob's box, smallest blobs left out
    fg: npt.NDArray[np.uint8]  # foreground (0 or 255), cleaned; all zero while untrusted
    scale: float  # work px per frame px
    trusted: bool  # the model has learned, and the picture did not change as a whole
    # the frame at work size, as the model saw it: whether a still box's picture is as
    # it was when swept (pipeline/sweep.py); empty where not known
    small: npt.NDArray[np.uint8] = field(default_factory=lambda: np.zeros((0, 0, 3), np.uint8))
    # most of the picture changed at once (a light, the camera): where things are is not known
    changed: bool = False

    @classmethod
    def none(cls) -> Motion:
        """Nothing known to move (motion off)."""
        return cls(np.zeros((0, 4), np.float32), np.zeros((1, 1), np.uint8), 1.0, False)

    @property
    def moved(self) -> bool:
        """Something moved on this frame, as far as the model can tell: what a look looks at."""
        return self.trusted and bool(len(self.blobs))

    def reach(
        self, boxes: BoxArray, pad: npt.NDArray[np.float32]
    ) -> tuple[BoxArray, npt.NDArray[np.bool_]]:
        """Per box (frame px): the bounding box of its overlaps with the moving blobs, each
        blob grown by the box's `pad` (px, x and y) on every side, and whether any overlaps.
        Where the model is not trusted nothing is known: the boxes themselves, all overlapped."""
        n = len(boxes)
        out = np.asarray(boxes, np.float32).reshape(-1, 4).copy()
        if not self.trusted:
            return out, np.ones(n, bool)
        if not n or not len(self.blobs):
            return out, np.zeros(n, bool)
        b = self.blobs[None]
        px, py = pad[:, None, 0], pad[:, None, 1]
        x0 = np.maximum(b[..., 0] - px, out[:, None, 0])
        y0 = np.maximum(b[..., 1] - py, out[:, None, 1])
        x1 = np.minimum(b[..., 2] + px, out[:, None, 2])
        y1 = np.minimum(b[..., 3] + py, out[:, None, 3])
        hit = (x1 > x0) & (y1 > y0)
        touched = hit.any(axis=1)
        if touched.any():
            big = np.float32(np.inf)
            cut = np.stack(
                [
                    np.where(hit, x0, big).min(axis=1),
                    np.where(hit, y0, big).min(axis=1),
                    np.where(hit, x1, -big).max(axis=1),
                    np.where(hit, y1, -big).max(axis=1),
                ],
                axis=1,
            )
            out[touched] = cut[touched]
        return out, touched

    def moving_share(self, boxes: BoxArray) -> npt.NDArray[np.float64]:
        """Share of each box (frame px) that is foreground on this frame."""
        out = np.zeros(len(boxes), np.float64)
        if not self.trusted:
            return out
        for i, b in enumerate(boxes):
            x0, y0, x1, y1 = self.work_box(b)
            if x1 > x0 and y1 > y0:
                out[i] = float(np.count_nonzero(self.fg[y0:y1, x0:x1])) / ((x1 - x0) * (y1 - y0))
        return out

    def moving_cells(
        self, block: int, width: int, height: int, min_share: float
    ) -> npt.NDArray[np.bool_]:
        """Which cells of a `block`-px grid over the frame (rows x columns) moved: at least
        `min_share` of the cell (and some of it) is foreground of a kept blob. No cell
        while the model is not trusted, nor with `min_share` 0."""
        rows, cols = grid_shape(width, height, block)
        out = np.zeros((rows, cols), bool)
        if not self.trusted or not len(self.blobs) or min_share <= 0:
            return out
        fg = np.zeros(self.fg.shape, np.uint8)  # foreground of the kept blobs only
        for b in self.blobs:
            x0, y0, x1, y1 = self.work_box(b)
            fg[y0:y1, x0:x1] = self.fg[y0:y1, x0:x1] > 0
        s, area = grid_sums(fg, block, width, height, self.scale)
        out[:] = (s > 0) & (s >= min_share * np.maximum(area, 1))
        return out

    def shown_cells(
        self, cell: int, width: int, height: int, min_share: float, bands: BoxArray
    ) -> npt.NDArray[np.bool_]:
        """The cells of a `cell`-px grid that show through the start's mosaic: those that
        moved (`moving_cells`) below the `bands` (frame px) and the band's own depth
        above each: a head that stands still above a moving arm or shoulder is no blob's,
        and nothing but the mosaic covers it."""
        shown = self.moving_cells(cell, width, height, min_share)
        above = np.asarray(bands, np.float32).reshape(-1, 4).copy()
        above[:, 1] -= above[:, 3] - above[:, 1]
        shown &= ~grid_touched(above, cell, *shown.shape)
        return shown

    def work_box(self, box: npt.NDArray[np.float32]) -> Box:
        """A frame-px box at the model's work size, outward to whole pixels, within the picture."""
        h, w = self.fg.shape
        return (
            int(np.clip(np.floor(box[0] * self.scale), 0, w)),
            int(np.clip(np.floor(box[1] * self.scale), 0, h)),
            int(np.clip(np.ceil(box[2] * self.scale), 0, w)),
            int(np.clip(np.ceil(box[3] * self.scale), 0, h)),
        )

    def masks(self, cover: float, margin: float = 0.0, margin_px: float = 0.0) -> BoxArray:
        """The top `cover` share of each blob, grown on every side by `margin` of its
        width, and by at least `margin_px` (frame px)."""
        if cover <= 0 or not len(self.blobs):
            return np.zeros((0, 4), np.float32)
        b = self.blobs
        m = np.maximum(margin * (b[:, 2] - b[:, 0]), margin_px)
        out = np.stack(
            [b[:, 0] - m, b[:, 1] - m, b[:, 2] + m, b[:, 1] + cover * (b[:, 3] - b[:, 1]) + m],
            axis=1,
        )
        return out.astype(np.float32)

    def outline(
        self,
        cover: float,
        margin: float = 0.0,
        margin_px: float = 0.0,
        max_height: float = 0.0,
        seen: BoxArray | None = None,
        sides: bool = True,
    ) -> BoxArray:
        """Boxes along each blob's upper outline: the blob is cut into strips STRIP of its
        height wide (about a head each), and each strip's box starts at the highest moving
        pixel of its columns and goes `cover` of the height moving there down (from that
        pixel to the lowest). Walkers merged into one blob keep their heads masked and
        their bodies visible, a walker far off beside a near one with a band of its own
        size. With `sides`, a strip lower than each strip beside it by SIDE_DROP of the
        blob's height (a shoulder, an arm) is left out: where something else finds the
        head of a shorter walker beside a taller one, whose strip looks the same;
        with `cover` 1 all strips follow the silhouette down to the blob's foot. A blob on
        top of others in its columns (a walker cut in parts) counts their height as its own.
        Grown on every side by `margin` of the strip's width, and by at least `margin_px`
        (frame px). With `max_height` (frame px, 0 = none), a strip of a walker taller than
        that in its own columns gets no band where it holds the centre of a box in `seen`
        (a face found there, masked on its own)."""
        if cover <= 0 or not len(self.blobs):
            return np.zeros((0, 4), np.float32)
        out: list[list[float]] = []
        s = self.scale
        for b, foot in zip(self.blobs, _stacked_feet(self.blobs), strict=True):
            x0, y0, x1, y1 = self.work_box(b)
            sub = self.fg[y0:y1, x0:x1] > 0
            depth = cover * float(foot - b[1])  # frame px
            width = STRIP * float(b[3] - b[1])
            m = max(margin * width, margin_px)
            if not sub.any():  # a blob is foreground; if its pixels are not known, its box's top
                out.append([b[0] - m, b[1] - m, b[2] + m, b[1] + depth + m])
                continue
            step = max(1, round(width * s))  # work px
            has = sub.any(axis=0)
            top = np.where(has, sub.argmax(axis=0), sub.shape[0])
            low = np.where(has, sub.shape[0] - sub[::-1].argmax(axis=0), 0)  # below the lowest
            below = float(foot - b[3])  # blobs stacked under this one
            strips = [(c0, int(top[c0 : c0 + step].min())) for c0 in range(0, sub.shape[1], step)]
            strips = [(c0, t) for c0, t in strips if t < sub.shape[0]]  # columns that moved
            if cover < 1.0 and sides:
                strips = _without_sides(strips, step, SIDE_DROP * float(foot - b[1]) * s)
            for c0, t in strips:
                ty = (y0 + t) / s
                d = depth
                tall = 0.0  # the walker's height in its own columns (a band's only)
                if cover < 1.0:  # a band as deep as the walker in its own columns
                    tall = (y0 + int(low[c0 : c0 + step].max())) / s + below - ty
                    d = cover * tall
                band = (
                    (x0 + c0) / s - m,
                    ty - m,
                    (x0 + min(c0 + step, sub.shape[1])) / s + m,
                    min(ty + d, float(foot)) + m,
                )
                if 0 < max_height < tall and seen is not None and centres_in(seen, [band]).any():
                    continue  # the face found there is masked on its own
                out.append(list(band))
        return np.asarray(out, np.float32).reshape(-1, 4)

    def regions(self, cfg: MotionConfig, width: int, height: int, heads: float = 1.0) -> list[Box]:
        """Regions worth a closer look (frame px): blobs grown by the margin, merged, largest
        first. With `heads` < 1, only the top `heads` of each blob along its upper outline
        (the band's strips at that depth), where walkers' heads are."""
        parts = self.blobs if heads >= 1.0 else self.outline(heads)
        boxes = []
        for x0, y0, x1, y1 in parts:
            # a crop must not cut an object that only moved at its edges
            mx = max((x1 - x0) * cfg.margin, cfg.margin_px)
            my = max((y1 - y0) * cfg.margin, cfg.margin_px)
            boxes.append(
                (
                    max(0, int(x0 - mx)),
                    max(0, int(y0 - my)),
                    min(width, int(np.ceil(x1 + mx))),
                    min(height, int(np.ceil(y1 + my))),
                )
            )
        boxes = merge_regions(boxes)
        boxes.sort(key=region_area, reverse=True)
        return boxes[: cfg.max_regions]


class BackgroundModel:
    """One stream's background model; `update` once per frame, in order."""

    def __init__(self, cfg: MotionConfig) -> None:
        self.cfg = cfg
        self._bg = cv2.createBackgroundSubtractorMOG2(
            history=cfg.history, varThreshold=cfg.var_threshold, detectShadows=False
        )
        self._kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
        self.frames = 0

    def update(self, frame: Frame) -> Motion:
        """Learns from `frame` and says what moved on it: no blobs while the model is
        still learning or when most of the frame moves (shake, a light switched on), unless
        that is the exposure creeping as someone comes close (`_near`)."""
        small, f = small_bgr(frame, self.cfg.work_width)
        if small is frame.planes[0]:  # a narrow frame is its own work picture; it is masked later
            small = small.copy()
        fg = self._bg.apply(small)
        self.frames += 1
        if self.frames < self.cfg.warmup_frames:
            return Motion(np.zeros((0, 4), np.float32), np.zeros_like(fg), f, False, small)
        fg = self._clean(fg)
        if np.count_nonzero(fg) > self.cfg.max_moving_share * fg.size:
            near = self._near(small)
            if near is None or np.count_nonzero(near) > self.cfg.max_moving_share * near.size:
                return Motion(
                    np.zeros((0, 4), np.float32), np.zeros_like(fg), f, False, small, True
                )
            fg = near
        n, _, stats, _ = cv2.connectedComponentsWithStats(fg, connectivity=8)
        keep = stats[1:n, cv2.CC_STAT_AREA] >= self.cfg.min_blob_px * f * f
        s = stats[1:n][keep].astype(np.float32)
        blobs = np.stack([s[:, 0], s[:, 1], s[:, 0] + s[:, 2], s[:, 1] + s[:, 3]], axis=1) / f
        fx, fy = frame.width, frame.height
        np.clip(blobs[:, 0::2], 0, fx, out=blobs[:, 0::2])
        np.clip(blobs[:, 1::2], 0, fy, out=blobs[:, 1::2])
        return Motion(blobs.astype(np.float32).reshape(-1, 4), fg, f, True, small)

    def _near(self, small: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8] | None:
        """On a frame where most of the picture moved for the model: while its brightness
        as a whole stays within `near_max_shift` of the learnt background (an exposure
        creeping as someone comes close), what stands out from that background by more
        than `near_level` in some colour; None where the picture changed as a whole."""
        level, max_shift = self.cfg.near_level, self.cfg.near_max_shift
        if level <= 0:
            return None
        bg = np.asarray(self._bg.getBackgroundImage(), np.uint8)
        luma = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY).astype(np.int16)
        shift = float(np.median(luma - cv2.cvtColor(bg, cv2.COLOR_BGR2GRAY).astype(np.int16)))
        if abs(shift) > max_shift:
            return None
        _, fg = cv2.threshold(colour_diff(small, bg), level, 255, cv2.THRESH_BINARY)
        return self._clean(fg)

    def _clean(self, fg: object) -> npt.NDArray[np.uint8]:
        """A foreground mask without specks, grown to close gaps."""
        opened = cv2.morphologyEx(np.asarray(fg, np.uint8), cv2.MORPH_OPEN, self._kernel)
        return np.asarray(cv2.dilate(opened, self._kernel, iterations=2), np.uint8)

    def regions(self, bgr: npt.NDArray[np.uint8]) -> list[Box]:
        """`update` on a BGR picture, then its regions: where the detector looks closer."""
        h, w = bgr.shape[:2]
        return self.update(Frame.from_bgr(bgr)).regions(self.cfg, w, h)


def small_bgr(frame: Frame, width: int) -> tuple[npt.NDArray[np.uint8], float]:
    """The frame at most `width` px wide, as BGR (the model sees colour: it finds more moving
    heads than luma alone, see docs/tuning.md#motion), and its scale.
    YUV frames are shrunk plane by plane before conversion, which costs a fraction of
    converting the full frame."""
    w, h = frame.width, frame.height
    f = min(1.0, width / w)
    if frame.layout == "bgr":
        bgr = frame.planes[0]
        if f < 1.0:
            bgr = cv2.resize(
                bgr, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA
            )  # type: ignore[assignment]
        return bgr, f
    sw, sh = max(2, round(w * f) // 2 * 2), max(2, round(h * f) // 2 * 2)
    y = cv2.resize(frame.planes[0], (sw, sh), interpolation=cv2.INTER_AREA)
    if frame.layout == "i420":
        u, v = frame.planes[1], frame.planes[2]
    else:
        u, v = frame.planes[1][..., 0], frame.planes[1][..., 1]
    u = cv2.resize(np.ascontiguousarray(u), (sw // 2, sh // 2), interpolation=cv2.INTER_AREA)  # type: ignore[assignment]
    v = cv2.resize(np.ascontiguousarray(v), (sw // 2, sh // 2), interpolation=cv2.INTER_AREA)  # type: ignore[assignment]
    packed = np.concatenate([y.ravel(), u.ravel(), v.ravel()]).reshape(sh * 3 // 2, sw)
    return cv2.cvtColor(packed, cv2.COLOR_YUV2BGR_I420), sw / w  # type: ignore[return-value]


def detail_scale(frame_width: int, region_width: int) -> float:
    """The factor (<= 1) crops of a frame this wide are shrunk by to `region_width`'s
    detail (MotionConfig.region_width); 1.0 for narrower frames or 0 (never)."""
    return min(1.0, region_width / frame_width) if region_width > 0 else 1.0


def fit_scale(boxes: list[Box], budget_px: int) -> float:
    """The one factor (<= 1) that shrinks every region so that together they hold at most
    `budget_px` pixels; 1.0 when they fit or without a budget (0)."""
    area = sum((b[2] - b[0]) * (b[3] - b[1]) for b in boxes)
    if budget_px <= 0 or area <= budget_px:
        return 1.0
    return float(np.sqrt(budget_px / area))
