"""Masking kernels against OpenCV and a plain copy, and whether masked faces come back.

    python -m bench.kernels               # table (720p/1080p/4K x 1/10/50 boxes) + re-detection on a sample
    python -m bench.kernels --quick       # 1080p only, in seconds, no re-detection
    python -m bench.kernels --redetect    # re-detection only, every labelled face of faces/

Timing: each cell is the median over repeated calls on the same frame in one
process, after `kernels.warmup()`; a kernel and its OpenCV rivals are called in
turn, so that the machine's load weighs on them alike. "OpenCV" is the best of the OpenCV ways to
do the same thing (named in the table); "copy" is a plain NumPy copy of the same
pixels (the memory-speed floor). MB/s counts the masked pixels' bytes.

Re-detection: the labelled faces of the shared data's faces/ are masked as the
default policy does (boxes enlarged by its factor, its strength), then the
`thorough` detection profile looks for faces again; a labelled face counts as
found when a face detection overlaps it with IoU >= 0.3. Even a black box is
"found" a third of the time at the profile's low floor: the detector answers to
the head and hair around the box. So each face is also masked with a control
that keeps nothing of it (its box as one block of its own mean colour), and what
a mask gives away is how many more faces are found under it than under the
control: paired per face, with a 95% upper bound. The goal (at most 1%) is on
that bound, at the profile's own floor. (Counting only the faces found under
the mask and not under the control would count the detector's flips near its
floor as leaks: a black fill "gives away" 8% that way.)
"""

from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from bench.eval_score import box_pixels
from redactor import kernels
from redactor.config import PolicyConfig
from redactor.kernels import Style

U8 = npt.NDArray[np.uint8]
SIZES = {"720p": (720, 1280), "1080p": (1080, 1920), "4K": (2160, 3840)}
BOX_COUNTS = (1, 10, 50)
STRENGTH = PolicyConfig().strength  # the default policy's (timing barely depends on it)
FACE_SIDE = (0.05, 0.20)  # a box's height as a share of the frame's height
MATCH_IOU = 0.3
# Detection confidences at which re-detection is also counted: the thorough
# profile's own floor is low (it is built to miss nothing), so a masked face
# "found" at 0.1 may be a detector firing on the head's outline around the mask.
SCORE_LEVELS = (0.1, 0.3, 0.5, 0.7)
SIZE_BINS = ((0, 16), (16, 32), (32, 64), (64, 1 << 30))


# ------------------------------------------------------------------ timing


def measure(fn: Callable[[], object], min_time: float, min_reps: int = 5) -> float:
    """Median seconds per call, over at least `min_reps` calls and `min_time` seconds."""
    return measure_together({"": fn}, min_time, min_reps)[""]


def measure_together(
    fns: dict[str, Callable[[], object]], min_time: float, min_reps: int = 5, per_turn: int = 3
) -> dict[str, float]:
    """Median seconds per call of each function, the functions taking turns.

    Turns, so that a change in the machine's load during the measurement weighs
    on every contender alike (measured one after the other, a ratio moved by
    1.5x between runs on a shared 2-core machine). Each turn starts with an
    untimed call, so that no contender is timed on the caches, or the spinning
    worker threads, that the one before it left."""
    times: dict[str, list[float]] = {name: [] for name in fns}
    start = time.perf_counter()
    turns = 0
    while turns * per_turn < min_reps or time.perf_counter() - start < min_time * len(fns):
        for name, fn in fns.items():
            fn()
            for _ in range(per_turn):
                t0 = time.perf_counter()
                fn()
                times[name].append(time.perf_counter() - t0)
        turns += 1
        if turns * per_turn >= 2000:
            break
    return {name: statistics.median(t) for name, t in times.items()}


def face_boxes(h: int, w: int, n: int, seed: int) -> npt.NDArray[np.float64]:
    """`n` face-like boxes (taller than wide, fractional corners) inside an (h, w) frame."""
    rng = np.random.default_rng(seed)
    bh = rng.uniform(*FACE_SIDE, n) * h
    bw = bh * rng.uniform(0.75, 1.0, n)
    x0 = rng.uniform(0, w - bw)
    y0 = rng.uniform(0, h - bh)
    return np.stack([x0, y0, x0 + bw, y0 + bh], axis=1)


def int_boxes(boxes: npt.NDArray[np.float64], h: int, w: int) -> list[tuple[int, int, int, int]]:
    """The pixel boxes the kernels mask: clipped, rounded outward; empty ones left out."""
    spans = (box_pixels(box, w, h) for box in boxes)
    return [(x0, y0, x1, y1) for x0, y0, x1, y1 in spans if x1 > x0 and y1 > y0]


def block_of(x0: int, y0: int, x1: int, y1: int) -> int:
    return max(2, math.ceil(max(x1 - x0, y1 - y0) / STRENGTH))


def radius_of(x0: int, y0: int, x1: int, y1: int) -> int:
    return max(1, round(max(x1 - x0, y1 - y0) / STRENGTH))


def cv_pixelate(img: U8, ib: list[tuple[int, int, int, int]]) -> None:
    for x0, y0, x1, y1 in ib:
        roi = img[y0:y1, x0:x1]
        b = block_of(x0, y0, x1, y1)
        small = cv2.resize(
            roi, (-(-(x1 - x0) // b), -(-(y1 - y0) // b)), interpolation=cv2.INTER_AREA
        )
        cv2.resize(small, (x1 - x0, y1 - y0), dst=roi, interpolation=cv2.INTER_NEAREST)


def cv_pixelate_ellipse(img: U8, ib: list[tuple[int, int, int, int]]) -> None:
    for x0, y0, x1, y1 in ib:
        roi = img[y0:y1, x0:x1]
        b = block_of(x0, y0, x1, y1)
        small = cv2.resize(
            roi, (-(-(x1 - x0) // b), -(-(y1 - y0) // b)), interpolation=cv2.INTER_AREA
        )
        pix = cv2.resize(small, (x1 - x0, y1 - y0), interpolation=cv2.INTER_NEAREST)
        mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
        cv2.ellipse(mask, (((x1 - x0) / 2, (y1 - y0) / 2), (x1 - x0, y1 - y0), 0), 255, -1)
        cv2.copyTo(pix, mask, roi)


def cv_blur(img: U8, ib: list[tuple[int, int, int, int]], passes: int = 1) -> None:
    for x0, y0, x1, y1 in ib:
        roi = img[y0:y1, x0:x1]
        k = 2 * radius_of(x0, y0, x1, y1) + 1
        for _ in range(passes):
            cv2.blur(roi, (k, k), dst=roi)


def cv_gaussian(img: U8, ib: list[tuple[int, int, int, int]]) -> None:
    """The Gaussian that three box passes approximate: sigma^2 = 3 * ((2r+1)^2 - 1) / 12."""
    for x0, y0, x1, y1 in ib:
        roi = img[y0:y1, x0:x1]
        r = radius_of(x0, y0, x1, y1)
        cv2.GaussianBlur(roi, (0, 0), math.sqrt(r * (r + 1)), dst=roi)


def cv_fill(img: U8, ib: list[tuple[int, int, int, int]]) -> None:
    for x0, y0, x1, y1 in ib:
        cv2.rectangle(img, (x0, y0), (x1 - 1, y1 - 1), (0, 0, 0), -1)


def np_fill(img: U8, ib: list[tuple[int, int, int, int]]) -> None:
    for x0, y0, x1, y1 in ib:
        img[y0:y1, x0:x1] = 0


def cv_pixelate_i420(planes: list[U8], ib: list[tuple[int, int, int, int]]) -> None:
    y, u, v = planes
    for x0, y0, x1, y1 in ib:
        cv_pixelate(y[..., None], [(x0, y0, x1, y1)])
        c = [(x0 // 2, y0 // 2, -(-x1 // 2), -(-y1 // 2))]
        cv_pixelate(u[..., None], c)
        cv_pixelate(v[..., None], c)


def copy_boxes(dst: U8, src: U8, ib: list[tuple[int, int, int, int]]) -> None:
    for x0, y0, x1, y1 in ib:
        dst[y0:y1, x0:x1] = src[y0:y1, x0:x1]


@dataclass
class Row:
    size: str
    n: int
    kernel: str
    numba_s: float
    cv_s: float
    cv_name: str
    copy_s: float
    nbytes: int

    def cells(self) -> list[str]:
        mbs = self.nbytes / self.numba_s / 1e6
        return [
            self.size,
            str(self.n),
            self.kernel,
            f"{self.numba_s * 1e3:.3f}",
            f"{self.cv_s * 1e3:.3f}",
            self.cv_name,
            f"{self.copy_s * 1e3:.3f}",
            f"{mbs:,.0f}",
            f"{self.cv_s / self.numba_s:.1f}x",
            f"{self.numba_s / self.copy_s:.1f}x",
        ]


HEADER = [
    "frame",
    "boxes",
    "kernel",
    "numba ms",
    "OpenCV ms",
    "OpenCV way",
    "copy ms",
    "numba MB/s",
    "OpenCV/numba",
    "numba/copy",
]


def against(
    numba: Callable[[], object], cv_fns: dict[str, Callable[[], object]], min_time: float
) -> tuple[float, float, str]:
    """(numba s, best OpenCV s, its name), all measured together."""
    times = measure_together({"numba": numba, **cv_fns}, min_time)
    numba_s = times.pop("numba")
    name = min(times, key=lambda k: times[k])
    return numba_s, times[name], name


@dataclass
class Frames:
    """The pictures one frame size is measured on (random pixels: no content shortcut)."""

    src: U8
    img: U8
    dst: U8
    planes: list[U8]
    planes_dst: list[U8]

    @classmethod
    def make(cls, h: int, w: int) -> Frames:
        rng = np.random.default_rng(1)
        src = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
        hc, wc = (h + 1) // 2, (w + 1) // 2
        planes = [rng.integers(0, 256, s, dtype=np.uint8) for s in ((h, w), (hc, wc), (hc, wc))]
        return cls(src, src.copy(), np.empty_like(src), planes, [np.empty_like(p) for p in planes])


def case_rows(size: str, n: int, f: Frames, min_time: float) -> list[Row]:
    """Every kernel on one frame size and box count, beside OpenCV and a copy."""
    h, w = SIZES[size]
    img = f.img
    boxes = face_boxes(h, w, n, seed=n)
    ib = int_boxes(boxes, h, w)
    cb = [(a // 2, b // 2, -(-c // 2), -(-d // 2)) for a, b, c, d in ib]
    nbytes = sum((c - a) * (d - b) * 3 for a, b, c, d in ib)
    copy_s = measure(lambda: copy_boxes(f.dst, f.src, ib), min_time)

    def numba(style: Style, ellipse: bool = False) -> Callable[[], None]:
        return lambda: kernels.mask_bgr(img, boxes, style, STRENGTH, ellipse)

    cases: list[tuple[str, Callable[[], object], dict[str, Callable[[], object]]]] = [
        ("pixelate", numba(Style.PIXELATE), {"resize area+nearest": lambda: cv_pixelate(img, ib)}),
        ("blur", numba(Style.BLUR), {"cv2.blur": lambda: cv_blur(img, ib)}),
        (
            "strong_blur",
            numba(Style.STRONG_BLUR),
            {
                "cv2.blur x3": lambda: cv_blur(img, ib, 3),
                "GaussianBlur": lambda: cv_gaussian(img, ib),
            },
        ),
        (
            "fill",
            numba(Style.FILL),
            {
                "cv2.rectangle": lambda: cv_fill(img, ib),
                "numpy slice": lambda: np_fill(img, ib),
            },
        ),
        (
            "pixelate ellipse",
            numba(Style.PIXELATE, True),
            {"resize + cv2.ellipse mask": lambda: cv_pixelate_ellipse(img, ib)},
        ),
    ]
    rows = []
    for name, fn, cv_fns in cases:
        numba_s, cv_s, cv_name = against(fn, cv_fns, min_time)
        rows.append(Row(size, n, name, numba_s, cv_s, cv_name, copy_s, nbytes))

    # 4:2:0: the same boxes on I420 planes (1.5 bytes per pixel)
    def copy420() -> None:
        copy_boxes(f.planes_dst[0][..., None], f.planes[0][..., None], ib)
        copy_boxes(f.planes_dst[1][..., None], f.planes[1][..., None], cb)
        copy_boxes(f.planes_dst[2][..., None], f.planes[2][..., None], cb)

    ybytes = sum((c - a) * (d - b) for a, b, c, d in ib)
    cbytes = sum((c - a) * (d - b) for a, b, c, d in cb)
    yp, up, vp = f.planes
    numba_s, cv_s, _ = against(
        lambda: kernels.mask_i420(yp, up, vp, boxes, Style.PIXELATE, STRENGTH),
        {"resize per plane": lambda: cv_pixelate_i420(f.planes, ib)},
        min_time,
    )
    rows.append(
        Row(
            size,
            n,
            "pixelate I420",
            numba_s,
            cv_s,
            "resize per plane",
            measure(copy420, min_time),
            ybytes + 2 * cbytes,
        )
    )
    return rows


def table(sizes: list[str], counts: tuple[int, ...], min_time: float) -> list[Row]:
    rows: list[Row] = []
    for size in sizes:
        frames = Frames.make(*SIZES[size])
        for n in counts:
            rows += case_rows(size, n, frames, min_time)
            print(f"  {size} x {n} boxes done", file=sys.stderr)
    return rows


def whole_frame_row(size: str, min_time: float) -> list[str]:
    """Pixelate over the whole frame against a plain copy of the frame (goal: <= 2x)."""
    h, w = SIZES[size]
    src = np.random.default_rng(2).integers(0, 256, (h, w, 3), dtype=np.uint8)
    img, dst = src.copy(), np.empty_like(src)
    full = [[0, 0, w, h]]
    t = measure_together(
        {
            "copy": lambda: np.copyto(dst, src),
            "pixelate": lambda: kernels.mask_bgr(img, full, Style.PIXELATE, STRENGTH),
            "cv pixelate": lambda: cv_pixelate(img, [(0, 0, w, h)]),
        },
        min_time,
    )
    copy_s, pix_s, cv_s = t["copy"], t["pixelate"], t["cv pixelate"]
    blur_s, cvb_s, _ = against(
        lambda: kernels.mask_bgr(img, full, Style.BLUR, STRENGTH),
        {"cv2.blur": lambda: cv_blur(img, [(0, 0, w, h)])},
        min_time,
    )
    return [
        size,
        f"{copy_s * 1e3:.3f}",
        f"{pix_s * 1e3:.3f}",
        f"{pix_s / copy_s:.1f}x",
        f"{cv_s * 1e3:.3f}",
        f"{blur_s * 1e3:.3f}",
        f"{cvb_s * 1e3:.3f}",
    ]


def first_frame(n: int = 100) -> tuple[float, float]:
    """(first call, median of the next n) for 1080p, 10 boxes, pixelate.

    Twelve distinct frames in turn (72 MB, more than the CPU's caches), so that
    every call finds its frame as cold as the first does: what differs is
    compilation or cache loading, which warmup must have taken out.
    """
    h, w = SIZES["1080p"]
    boxes = face_boxes(h, w, 10, seed=10)
    frames = [
        np.random.default_rng(i).integers(0, 256, (h, w, 3), dtype=np.uint8) for i in range(12)
    ]
    times = []
    for i in range(n + 1):
        f = frames[i % len(frames)]
        t0 = time.perf_counter()
        kernels.mask_bgr(f, boxes, Style.PIXELATE, STRENGTH)
        times.append(time.perf_counter() - t0)
    return times[0], statistics.median(times[1:])


def markdown(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


# ------------------------------------------------------------------ re-detection


MEAN = (
    "mean colour"  # the control: each box one block of its own mean colour (pixelate, strength 1)
)


def parse_variants(spec: str, strength: float) -> list[tuple[str, Style | None, float]]:
    """ "pixelate:8,blur,fill" -> [(label, style, strength)]; a style without :S takes `strength`.

    Always holds "unmasked" (the detector's own recall), "fill" (black) and the
    control, MEAN: a box of one colour keeps nothing of the face's structure, so
    what the detector finds there comes from around the box and from that colour."""
    out: list[tuple[str, Style | None, float]] = [
        ("unmasked", None, 0.0),
        ("fill", Style.FILL, 1.0),
        (MEAN, Style.PIXELATE, 1.0),
    ]
    for part in filter(None, (p.strip() for p in spec.split(","))):
        name, _, value = part.partition(":")
        style = Style[name.upper()]
        if style == Style.FILL:
            continue
        st = float(value) if value else strength
        out.append((f"{name}:{st:g}", style, st))
    return out


@dataclass
class Redetection:
    """Per variant, the best matching face-detection score of each labelled face (0: none)."""

    images: int
    every: int
    enlarge: float
    default_variant: str
    floor: float  # the profile's lowest face-detection confidence
    detector: str
    sides: npt.NDArray[np.float64]
    scores: dict[str, npt.NDArray[np.float64]]

    def found(self, variant: str, level: float) -> npt.NDArray[np.bool_]:
        return self.scores[variant] >= max(level, 1e-9)

    def rate(self, variant: str, level: float) -> float:
        return float(np.mean(self.found(variant, level))) if len(self.sides) else 0.0

    def given_away(self, variant: str, level: float) -> float:
        """Share of labelled faces found under this mask but not under the control (the same
        box in its mean colour): what the mask's own structure gives away."""
        if not len(self.sides):
            return 0.0
        return float(np.mean(self.found(variant, level) & ~self.found(MEAN, level)))

    def excess(self, variant: str, level: float) -> tuple[float, float]:
        """(found under this mask less found under the control, its 95% upper bound), as shares of
        the labelled faces. Paired: each face is seen under both, and a detector this close to
        its floor flips either way (a black fill is found where the control is not for 8% of
        faces), so the faces found under the control and not under the mask count too."""
        n = len(self.sides)
        if not n:
            return 0.0, 0.0
        a, c = self.found(variant, level), self.found(MEAN, level)
        b_only, c_only = float(np.sum(a & ~c)), float(np.sum(c & ~a))
        d = (b_only - c_only) / n
        var = max(b_only + c_only - (b_only - c_only) ** 2 / n, 0.0) / n**2
        return d, d + 1.96 * math.sqrt(var)

    def levels(self) -> tuple[float, ...]:
        return (self.floor, *SCORE_LEVELS[1:])

    def figures(self) -> dict[str, object]:
        excess = {
            name: {f"{lv:g}": self.excess(name, lv) for lv in self.levels()} for name in self.scores
        }
        default_excess = self.excess(self.default_variant, self.floor)
        return {
            "images": self.images,
            "every": self.every,
            "faces": int(len(self.sides)),
            "enlarge": self.enlarge,
            "detector": self.detector,
            "floor": self.floor,
            "default_variant": self.default_variant,
            "match_iou": MATCH_IOU,
            "control": MEAN,
            "variants": {
                name: {
                    "rate": {f"{lv:g}": self.rate(name, lv) for lv in self.levels()},
                    "given_away": {f"{lv:g}": self.given_away(name, lv) for lv in self.levels()},
                    "excess": {lv: e[0] for lv, e in excess[name].items()},
                    "excess_upper95": {lv: e[1] for lv, e in excess[name].items()},
                    "by_side": [
                        [
                            lo,
                            hi,
                            int(
                                np.sum(
                                    self.found(name, self.floor)
                                    & (self.sides >= lo)
                                    & (self.sides < hi)
                                )
                            ),
                            int(np.sum((self.sides >= lo) & (self.sides < hi))),
                        ]
                        for lo, hi in SIZE_BINS
                    ],
                }
                for name in self.scores
            },
            "default_rate": self.rate(self.default_variant, self.floor),
            "default_given_away": self.given_away(self.default_variant, self.floor),
            "default_excess": default_excess[0],
            "default_excess_upper95": default_excess[1],
        }

    def markdown(self) -> str:
        levels = self.levels()
        lines = [
            f"re-detection: {self.images} images of faces/ (every {self.every}), {len(self.sides)} labelled faces; "
            f"boxes enlarged x{self.enlarge:g}; detector: {self.detector}; a face is found again when a face "
            f"detection overlaps it with IoU >= {MATCH_IOU}",
            "",
            "found again, by the detection's confidence (the first column is the profile's own floor):",
            "",
        ]
        lines.append(
            markdown(
                ["variant"] + [f"score >= {lv:g}" for lv in levels],
                [[n] + [f"{100 * self.rate(n, lv):.2f}%" for lv in levels] for n in self.scores],
            )
        )
        lines += [
            "",
            f"found again beyond the control ({MEAN}: the same box as one block of its mean colour, "
            "which keeps nothing of the face): found under the mask less found under the control, "
            "paired per face, with its 95% upper bound:",
            "",
        ]
        lines.append(
            markdown(
                ["variant"] + [f"score >= {lv:g}" for lv in levels],
                [
                    [n]
                    + [
                        "{:+.2f}% (<= {:+.2f}%)".format(*(100 * v for v in self.excess(n, lv)))
                        for lv in levels
                    ]
                    for n in self.scores
                    if n not in ("unmasked", MEAN)
                ],
            )
        )
        lines += [
            "",
            "found under the mask but not under the control (one-sided: a detector near its floor "
            "also flips for masks that keep nothing, as the fill row shows):",
            "",
        ]
        lines.append(
            markdown(
                ["variant"] + [f"score >= {lv:g}" for lv in levels],
                [
                    [n] + [f"{100 * self.given_away(n, lv):.2f}%" for lv in levels]
                    for n in self.scores
                    if n not in ("unmasked", MEAN)
                ],
            )
        )
        header = ["variant"] + [
            f"side {lo}-{hi} px" if hi < 1 << 20 else f"side >= {lo} px" for lo, hi in SIZE_BINS
        ]
        rows = []
        for n in self.scores:
            f = self.found(n, self.floor)
            rows.append(
                [n]
                + [
                    f"{int(np.sum(f & (self.sides >= lo) & (self.sides < hi)))}/"
                    f"{int(np.sum((self.sides >= lo) & (self.sides < hi)))}"
                    for lo, hi in SIZE_BINS
                ]
            )
        lines += [
            "",
            f"found again at the floor ({self.floor:g}), by the face's long side:",
            "",
            markdown(header, rows),
        ]
        ex, upper = self.excess(self.default_variant, self.floor)
        lines += [
            "",
            f"default policy ({self.default_variant}): "
            f"{100 * self.rate(self.default_variant, self.floor):.2f}% found again at the floor "
            f"({100 * self.rate(MEAN, self.floor):.2f}% under the control, "
            f"{100 * self.rate('fill', self.floor):.2f}% under a black fill): "
            f"{100 * ex:+.2f}% beyond the control, at most {100 * upper:+.2f}% (95%) "
            f"(goal: at most 1%; {'met' if upper <= 0.01 else 'NOT met'})",
        ]
        return "\n".join(lines)


def redetect(every: int, spec: str, enlarge_by: float | None = None) -> Redetection | None:
    """Masks the labelled faces of faces/ as the default policy does, runs the thorough profile again.

    None without the shared data."""
    from redactor.boxes import enlarge, iou_matrix
    from redactor.config import Config
    from redactor.data import data_dir, load_faces
    from redactor.detect.registry import ProfileDetector
    from redactor.types import Label

    images = load_faces()
    if not images:
        print(f"re-detection skipped: no shared data (set $REDACTOR_DATA; looked in {data_dir()})")
        return None
    images = images[::every]
    cfg = Config()
    policy = cfg.policy.policies["default"]
    factor = policy.enlarge if enlarge_by is None else enlarge_by
    profile = cfg.detect.profiles["thorough"]
    detector = ProfileDetector("thorough", profile)
    names = "thorough = " + ", ".join(
        f"{d.kind}({', '.join(f'{k}={v}' for k, v in d.model_dump().items() if k != 'kind')})"
        for d in profile.detectors
    )
    variants = parse_variants(spec or f"{policy.style}:{policy.strength:g},blur", policy.strength)
    default = f"{policy.style}:{policy.strength:g}" if policy.style != "fill" else "fill"
    if default not in {n for n, _, _ in variants}:
        variants.append((default, Style[policy.style.upper()], policy.strength))
    scores: dict[str, list[npt.NDArray[np.float64]]] = {name: [] for name, _, _ in variants}
    sides: list[npt.NDArray[np.float64]] = []
    t0 = time.perf_counter()
    try:
        for k, im in enumerate(images):
            read = cv2.imread(str(im.path), cv2.IMREAD_COLOR)
            if read is None:
                raise SystemExit(f"cannot read {im.path}")
            bgr = np.ascontiguousarray(read, dtype=np.uint8)
            labelled = im.boxes
            sides.append(
                np.maximum(labelled[:, 2] - labelled[:, 0], labelled[:, 3] - labelled[:, 1])
            )
            for name, style, strength in variants:
                img = bgr.copy()
                if style is not None:
                    kernels.mask_bgr(
                        img, enlarge(labelled, factor), style, strength, policy.ellipse
                    )
                det = detector.detect(img).of(Label.FACE)
                match = iou_matrix(labelled, det.boxes) >= MATCH_IOU
                scores[name].append(
                    np.where(match, det.scores[None, :], 0.0).max(axis=1, initial=0.0)
                )
            if (k + 1) % 25 == 0:
                print(
                    f"  {k + 1}/{len(images)} images, {time.perf_counter() - t0:.0f} s",
                    file=sys.stderr,
                )
    finally:
        detector.close()
    floor = min(d.min_score for d in profile.detectors if d.kind == "centerface")
    return Redetection(
        images=len(images),
        every=every,
        enlarge=factor,
        default_variant=default,
        floor=floor,
        detector=names,
        sides=np.concatenate(sides) if sides else np.zeros(0),
        scores={n: np.concatenate(v) if v else np.zeros(0) for n, v in scores.items()},
    )


# ------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> int:
    # As `redactor serve` runs them (redactor/cli.py): idle OpenMP workers sleep (docs/kernels.md).
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    ap = argparse.ArgumentParser(prog="python -m bench.kernels", description=__doc__.split("\n")[0])
    ap.add_argument(
        "--quick", action="store_true", help="1080p, 1 and 50 boxes, short runs; no re-detection"
    )
    ap.add_argument(
        "--redetect",
        action="store_true",
        help="only the re-detection measure, on every labelled face",
    )
    ap.add_argument(
        "--every",
        type=int,
        default=0,
        help="re-detection on every N-th image (default: 1 with --redetect, 8 in the full run)",
    )
    ap.add_argument(
        "--variants",
        default="",
        help="re-detection masks, e.g. 'pixelate:8,pixelate:3,strong_blur:2,fill' "
        "(default: the default policy's style and strength, blur at that strength; "
        "fill is always measured, as the baseline)",
    )
    ap.add_argument(
        "--enlarge",
        type=float,
        help="grow the labelled boxes by this factor before masking "
        "(default: the default policy's)",
    )
    args = ap.parse_args(argv)

    if args.redetect:
        kernels.warmup()
        found = redetect(args.every or 1, args.variants, args.enlarge)
        if found is not None:
            print(found.markdown())
        return 0

    t0 = time.perf_counter()
    kernels.warmup()
    warm_s = time.perf_counter() - t0
    import numba

    sizes = ["1080p"] if args.quick else list(SIZES)
    counts = (1, 50) if args.quick else BOX_COUNTS
    min_time = 0.01 if args.quick else 0.12
    layer = getattr(numba.config, "THREADING_LAYER", "?")
    print(
        f"# masking kernels: numba {numba.__version__} ({numba.get_num_threads()} threads, "
        f"{layer} layer), OpenCV {cv2.__version__} ({cv2.getNumThreads()} threads), "
        f"strength {STRENGTH}, face-like boxes {FACE_SIDE[0]:.0%}-{FACE_SIDE[1]:.0%} of the frame height"
    )
    print(f"warmup (compile or load from cache): {warm_s:.2f} s")
    first, typical = first_frame(20 if args.quick else 100)
    print(
        f"first frame after warmup: {first * 1e3:.3f} ms; median of the next: {typical * 1e3:.3f} ms "
        "(1080p, 10 boxes, pixelate)\n"
    )
    rows = table(sizes, counts, min_time)
    print(markdown(HEADER, [r.cells() for r in rows]))
    print("\nwhole frame (one box covering it):")
    print(
        markdown(
            [
                "frame",
                "copy ms",
                "pixelate ms",
                "pixelate/copy",
                "OpenCV pixelate ms",
                "blur ms",
                "cv2.blur ms",
            ],
            [whole_frame_row(s, min_time) for s in sizes],
        )
    )
    goal = [r for r in rows if r.size == "1080p" and r.n == 50]
    if goal:
        print(
            "\n1080p, 50 boxes, numba / best OpenCV (goal <= 0.5): "
            + ", ".join(f"{r.kernel} {r.numba_s / r.cv_s:.2f}" for r in goal)
        )
    if not args.quick:
        found = redetect(args.every or 8, args.variants, args.enlarge)
        if found is not None:
            print("\n" + found.markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main())
