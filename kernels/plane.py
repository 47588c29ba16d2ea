"""Masks many boxes on one plane: plan the work, then run it in phases.

A plane is a C-contiguous (h, w*ch) uint8 view (BGR: ch=3; Y, U, V: ch=1;
NV12's UV: ch=2), subsampled by `s` against luma (1, or 2 for 4:2:0 chroma).

Planning (`plan`) clips each box to the frame rounding outward, drops empty
ones, derives block size or radius from the box's long side, and sorts boxes
into waves: a box joins the wave after the last earlier box it overlaps. Boxes
of one wave are disjoint, so their tasks (bands of rows; a whole box for
blur) run in parallel without two threads writing one pixel, and the result is that of
masking the boxes one after another in the order given: deterministic.
"""

from __future__ import annotations

import math
import threading

import numpy as np
import numpy.typing as npt
from numba import prange

from redactor.kernels._flags import (
    BAND_BYTES,
    MAX_RADIUS,
    MIN_BLOCK,
    PARALLEL_MIN_WORK,
    WORK_PER_BYTE,
    jit,
    jit_parallel,
)
from redactor.kernels.blur import blur_box
from redactor.kernels.fill import fill_band
from redactor.kernels.pixelate import pixelate_band

# Style codes as the kernels see them (values of redactor.kernels.Style).
PIXELATE, BLUR, STRONG_BLUR, FILL = 0, 1, 2, 3
# Task kinds.
_PIX, _FILL, _BLUR = 0, 1, 2


@jit
def block_size(long_side: int, strength: float, align: int) -> int:
    """Pixelate block in luma px: ceil(long/strength), at least MIN_BLOCK, a multiple of align.

    Capped at the long side (one block) in float first: a tiny strength must
    give the strongest mask, not an integer overflow."""
    q = long_side / strength
    b = max(MIN_BLOCK, long_side if q >= long_side else int(math.ceil(q)))
    return int(((b + align - 1) // align) * align)


@jit
def blur_radius(long_side: int, strength: float) -> int:
    """Blur radius in luma px: long/strength rounded, 1 .. min(long, MAX_RADIUS)."""
    q = long_side / strength + 0.5  # capped in float first, as in block_size
    r = MAX_RADIUS if q >= MAX_RADIUS else max(1, int(math.floor(q)))
    return min(r, max(1, long_side))


@jit
def luma_box(box: npt.NDArray[np.float64], lw: int, lh: int) -> tuple[int, int, int, int]:
    """Clipped to the frame, rounded outward (covering one pixel more is safe, less is a leak)."""
    x0 = int(math.floor(min(max(box[0], 0.0), float(lw))))
    y0 = int(math.floor(min(max(box[1], 0.0), float(lh))))
    x1 = int(math.ceil(min(max(box[2], 0.0), float(lw))))
    y1 = int(math.ceil(min(max(box[3], 0.0), float(lh))))
    return x0, y0, x1, y1


@jit
def plan(
    boxes: npt.NDArray[np.float64],
    lw: int,
    lh: int,
    s: int,
    align: int,
    ch: int,
    style: int,
    strength: float,
    passes: int,
) -> tuple[
    npt.NDArray[np.int64],
    npt.NDArray[np.int64],
    npt.NDArray[np.int64],
    npt.NDArray[np.int64],
    npt.NDArray[np.int64],
]:
    """(luma boxes, plane boxes, params, tasks (kind, box, a, b, passes), phase starts).

    Tasks of one phase may run at once; phases run in order (one per wave)."""
    n = boxes.shape[0]
    lb = np.empty((n, 4), np.int64)
    wb = np.empty((n, 4), np.int64)
    par = np.empty((n, 3), np.int64)  # block or radius (plane px), grid origin x, y (plane px)
    m = 0
    for i in range(n):
        x0, y0, x1, y1 = luma_box(boxes[i], lw, lh)
        if x1 <= x0 or y1 <= y0:
            continue
        lb[m, 0], lb[m, 1], lb[m, 2], lb[m, 3] = x0, y0, x1, y1
        wb[m, 0], wb[m, 1] = x0 // s, y0 // s
        wb[m, 2], wb[m, 3] = (x1 + s - 1) // s, (y1 + s - 1) // s
        long_side = max(x1 - x0, y1 - y0)
        if style == PIXELATE:
            b = block_size(long_side, strength, align)
            par[m, 0] = b // s
            par[m, 1] = (x0 - x0 % align) // s
            par[m, 2] = (y0 - y0 % align) // s
        else:
            r = blur_radius(long_side, strength)
            par[m, 0] = r if s == 1 else max(1, (r + 1) // 2)
            par[m, 1], par[m, 2] = wb[m, 0], wb[m, 1]
        m += 1
    lb, wb, par = lb[:m], wb[:m], par[:m]

    # waves: after the last earlier box overlapped, so each wave's boxes are disjoint
    wave = np.zeros(m, np.int64)
    nwaves = 0
    for i in range(m):
        w = 0
        for j in range(i):
            if (
                wb[j, 0] < wb[i, 2]
                and wb[i, 0] < wb[j, 2]
                and wb[j, 1] < wb[i, 3]
                and wb[i, 1] < wb[j, 3]
            ):
                w = max(w, wave[j] + 1)
        wave[i] = w
        nwaves = max(nwaves, w + 1)

    tasks = [(0, 0, 0, 0, 0)]
    tasks.clear()
    phases = [0]
    for w in range(nwaves):
        for i in range(m):
            if wave[i] != w:
                continue
            rows = max(1, BAND_BYTES // ((wb[i, 2] - wb[i, 0]) * ch))  # per task, about
            if style == PIXELATE:  # bands of whole block rows
                y, b, gy = wb[i, 1], par[i, 0], par[i, 2]
                while y < wb[i, 3]:
                    ye = y
                    while ye < wb[i, 3] and (ye == y or ye - y + b <= rows):
                        ye = min(wb[i, 3], gy + ((ye - gy) // b + 1) * b)
                    tasks.append((_PIX, i, y, ye, 0))
                    y = ye
            elif style == FILL:
                for y in range(wb[i, 1], wb[i, 3], rows):
                    tasks.append((_FILL, i, y, min(wb[i, 3], y + rows), 0))
            else:  # one task per box: a blur pass streams down the whole box
                tasks.append((_BLUR, i, wb[i, 1], wb[i, 3], passes))
        phases.append(len(tasks))

    t = np.empty((len(tasks), 5), np.int64)
    for k in range(len(tasks)):
        t[k, 0], t[k, 1], t[k, 2], t[k, 3], t[k, 4] = tasks[k]
    return lb, wb, par, t, np.array(phases, np.int64)


@jit
def _run_task(
    k: int,
    tasks: npt.NDArray[np.int64],
    plane: npt.NDArray[np.uint8],
    ch: int,
    lb: npt.NDArray[np.int64],
    wb: npt.NDArray[np.int64],
    par: npt.NDArray[np.int64],
    s: int,
    ellipse: bool,
    feather: int,
    value: npt.NDArray[np.uint8],
) -> None:
    kind, i, a, b, p = tasks[k, 0], tasks[k, 1], tasks[k, 2], tasks[k, 3], tasks[k, 4]
    box = (lb[i, 0], lb[i, 1], lb[i, 2], lb[i, 3])
    if kind == _PIX:
        pixelate_band(
            plane, ch, wb[i], a, b, par[i, 0], par[i, 1], par[i, 2], box, s, ellipse, feather
        )
    elif kind == _FILL:
        fill_band(plane, ch, wb[i], a, b, value, box, s, ellipse, feather)
    else:
        blur_box(plane, ch, wb[i], par[i, 0], p, box, s, ellipse, feather)


@jit
def _execute_serial(
    tasks: npt.NDArray[np.int64],
    phases: npt.NDArray[np.int64],
    plane: npt.NDArray[np.uint8],
    ch: int,
    lb: npt.NDArray[np.int64],
    wb: npt.NDArray[np.int64],
    par: npt.NDArray[np.int64],
    s: int,
    ellipse: bool,
    feather: int,
    value: npt.NDArray[np.uint8],
) -> None:
    for ph in range(phases.shape[0] - 1):
        for k in range(phases[ph], phases[ph + 1]):
            _run_task(k, tasks, plane, ch, lb, wb, par, s, ellipse, feather, value)


@jit_parallel
def _execute_parallel(
    tasks: npt.NDArray[np.int64],
    phases: npt.NDArray[np.int64],
    plane: npt.NDArray[np.uint8],
    ch: int,
    lb: npt.NDArray[np.int64],
    wb: npt.NDArray[np.int64],
    par: npt.NDArray[np.int64],
    s: int,
    ellipse: bool,
    feather: int,
    value: npt.NDArray[np.uint8],
) -> None:
    for ph in range(phases.shape[0] - 1):
        for k in prange(phases[ph], phases[ph + 1]):
            _run_task(k, tasks, plane, ch, lb, wb, par, s, ellipse, feather, value)


@jit
def mask_serial(
    p0: npt.NDArray[np.uint8],
    p1: npt.NDArray[np.uint8],
    p2: npt.NDArray[np.uint8],
    nplanes: int,
    chs: npt.NDArray[np.int64],
    ss: npt.NDArray[np.int64],
    values: npt.NDArray[np.uint8],
    boxes: npt.NDArray[np.float64],
    lw: int,
    lh: int,
    align: int,
    style: int,
    strength: float,
    passes: int,
    ellipse: bool,
    feather: int,
) -> None:
    """Plans and masks up to three planes in one call (one dispatch: face-sized masks
    cost microseconds, so the call overhead counts). Plane k has chs[k] channels,
    subsampling ss[k] and fill value values[k, :chs[k]]."""
    for k in range(nplanes):
        plane = p0 if k == 0 else (p1 if k == 1 else p2)
        lb, wb, par, tasks, phases = plan(
            boxes, lw, lh, ss[k], align, chs[k], style, strength, passes
        )
        _execute_serial(
            tasks, phases, plane, chs[k], lb, wb, par, ss[k], ellipse, feather, values[k]
        )


def _worth_parallel(
    planes: list[npt.NDArray[np.uint8]],
    boxes: npt.NDArray[np.float64],
    lw: int,
    lh: int,
    style: int,
    passes: int,
) -> bool:
    """Whether masking the boxes is at least PARALLEL_MIN_WORK (overlaps counted twice)."""
    per_byte = (
        WORK_PER_BYTE["blur_pass"] * passes
        if style in (BLUR, STRONG_BLUR)
        else WORK_PER_BYTE["pixelate" if style == PIXELATE else "fill"]
    )
    total = sum(p.nbytes for p in planes) * per_byte
    if total < PARALLEL_MIN_WORK:
        return False
    w = np.clip(boxes[:, 2], 0, lw) - np.clip(boxes[:, 0], 0, lw)
    h = np.clip(boxes[:, 3], 0, lh) - np.clip(boxes[:, 1], 0, lh)
    share = float(np.sum(np.maximum(w, 0) * np.maximum(h, 0))) / (lw * lh)
    return bool(share * total >= PARALLEL_MIN_WORK)


# One parallel launch at a time: a second stream masking meanwhile runs its
# kernels serially instead of waiting (and instead of oversubscribing cores;
# Numba's fallback `workqueue` threading layer is not safe to enter twice).
_parallel_gate = threading.Lock()


def mask_planes(
    planes: list[npt.NDArray[np.uint8]],
    chs: npt.NDArray[np.int64],
    ss: npt.NDArray[np.int64],
    values: npt.NDArray[np.uint8],
    boxes: npt.NDArray[np.float64],
    lw: int,
    lh: int,
    align: int,
    style: int,
    strength: float,
    passes: int,
    ellipse: bool,
    feather: int,
) -> None:
    """Masks `boxes` (luma px, float64 (n, 4)) on validated (h, w*ch) planes, in place."""
    if _worth_parallel(planes, boxes, lw, lh, style, passes) and _parallel_gate.acquire(
        blocking=False
    ):
        try:
            for k, plane in enumerate(planes):
                lb, wb, par, tasks, phases = plan(
                    boxes, lw, lh, int(ss[k]), align, int(chs[k]), style, strength, passes
                )
                _execute_parallel(
                    tasks,
                    phases,
                    plane,
                    int(chs[k]),
                    lb,
                    wb,
                    par,
                    int(ss[k]),
                    ellipse,
                    feather,
                    values[k],
                )
        finally:
            _parallel_gate.release()
        return
    p = planes + [planes[0]] * (3 - len(planes))
    mask_serial(
        p[0],
        p[1],
        p[2],
        len(planes),
        chs,
        ss,
        values,
        boxes,
        lw,
        lh,
        align,
        style,
        strength,
        passes,
        ellipse,
        feather,
    )
