"""A synthetic Korean licence-plate evaluation set, reproducible from a seed.

    python -m bench.korean_plates --out DIR [--count N] [--seed S] [--widths LO-HI]
                                  [--kinds KIND,...] [--preview N]

    python -m bench.korean_plates --out bench/results/korean_plates --preview 12
    python -m bench.eval --plates bench/results/korean_plates/plates.csv

The shared data (../shared/data, or $REDACTOR_DATA) has no Korean plate, so
this draws them. Each sample is one CCTV-like frame (1920x1080 or 1600x1200)
with one plate to find:

  1. a random frame of one of the shared clips (videos/), resized to fill it;
  2. a vehicle photo of plates/ pasted in with a feathered edge, its annotated
     plate hidden under a rendered Korean plate (perspective-warped, tilted a
     little), the photo scaled so that the plate is the drawn width in pixels;
  3. a CCTV look on the whole frame: gain, gamma, colour cast, blur, sometimes
     motion blur, sensor noise, then JPEG at quality 60-92.

Plate kinds (the CSV's `label`), drawn to their real sizes in millimetres:
  kr-1line-white   520x110 mm, "123가4567" (some with the 2019 blue "KOR" band)
  kr-2line-white   335x170 mm, "12가" over "3456" (or "서울12" over "가3456")
  kr-2line-yellow  335x170 mm commercial, "서울12" over "바3456", dark on yellow
  kr-2line-green   335x170 mm older private, "서울12" over "가3456", white on green
The characters are made up at random: nobody's real plate.

Writes DIR/images/000000.jpg ... and DIR/plates.csv in the shared data's format
(image,width,height,xmin,ymin,xmax,ymax,label,text; box = the plate's four
corners' bounding box in the final frame). Plate widths are drawn 40% 30-64 px,
30% 64-128 px, 30% 128-220 px unless --widths says a range. The same seed and
arguments give the same CSV and the same images (for the same NumPy, OpenCV,
Pillow and fonts), so nothing generated is committed: write it under bench/results/
(git-ignored) or outside the repository. --preview N also writes N enlarged
crops around plates to DIR/preview/ to look at.

Hangul comes from Debian's fonts-nanum (/usr/share/fonts/truetype/nanum:
NanumGothicBold, NanumBarunGothicBold, NanumSquareB), which `make browser`
installs (sudo apt-get install fonts-nanum).
"""

from __future__ import annotations

import argparse
import csv
import functools
import math
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image as PILImage
from PIL import ImageDraw, ImageFont

from redactor.data import data_dir, load_labels, plates_csv

Image = npt.NDArray[np.uint8]
Floats = npt.NDArray[np.float32]
Box = tuple[float, float, float, float]

FONT_DIR = Path("/usr/share/fonts/truetype/nanum")
FONT_FILES = ("NanumGothicBold.ttf", "NanumBarunGothicBold.ttf", "NanumSquareB.ttf")
FONT_MISSING = (
    "fonts-nanum is not installed: sudo apt-get install fonts-nanum (make browser installs it)"
)

PRIVATE = "가나다라마거너더러머버서어저고노도로모보소오조구누두루무부수우주하허호"
COMMERCIAL = "바사아자배"  # 바 사 아 자: commercial; 배: delivery
REGIONS = (
    "서울", "부산", "대구", "인천", "광주", "대전", "울산", "경기",
    "강원", "충북", "충남", "전북", "전남", "경북", "경남", "제주",
)  # fmt: skip

SIZES: tuple[tuple[int, int], ...] = ((1920, 1080), (1600, 1200))
# (low, high, share) of the plate width in px when --widths is not given
WIDTH_BUCKETS = ((30.0, 64.0, 0.4), (64.0, 128.0, 0.3), (128.0, 220.0, 0.3))
SUMMARY_BUCKETS = (
    (0.0, 32.0, "<32"),
    (32.0, 64.0, "32-64"),
    (64.0, 128.0, "64-128"),
    (128.0, math.inf, ">=128"),
)
HEADER = ("image", "width", "height", "xmin", "ymin", "xmax", "ymax", "label", "text")


@dataclass(frozen=True)
class PlateSpec:
    width_mm: float
    height_mm: float
    background: tuple[int, int, int]  # BGR
    inks: tuple[tuple[int, int, int], ...]  # BGR; one is drawn per plate
    two_line: bool


KINDS: dict[str, PlateSpec] = {
    "kr-1line-white": PlateSpec(520, 110, (240, 243, 244), ((20, 20, 20),), False),
    "kr-2line-white": PlateSpec(335, 170, (240, 243, 244), ((20, 20, 20),), True),
    "kr-2line-yellow": PlateSpec(335, 170, (0, 200, 240), ((25, 20, 20), (80, 35, 15)), True),
    "kr-2line-green": PlateSpec(335, 170, (60, 110, 0), ((245, 245, 245),), True),
}
BAND_BGR = (165, 75, 0)  # the 2019 style's blue band at the left
BAND_MM = 44.0


# --- plate text and drawing -------------------------------------------------------------


def _digits(rng: np.random.Generator, n: int) -> str:
    return "".join(str(int(d)) for d in rng.integers(0, 10, n))


def _pick(rng: np.random.Generator, items: Sequence[str]) -> str:
    return items[int(rng.integers(len(items)))]


def plate_text(kind: str, rng: np.random.Generator) -> str:
    """Made-up characters in the kind's real pattern, lines joined ("서울12가3456")."""
    if kind == "kr-1line-white":
        # 3 leading digits since 2019, 2 before
        return _digits(rng, 2 if rng.random() < 0.2 else 3) + _pick(rng, PRIVATE) + _digits(rng, 4)
    if kind == "kr-2line-white":
        if rng.random() < 0.7:  # the 2006 layout; else the 1996 one with a region name
            return _digits(rng, 2) + _pick(rng, PRIVATE) + _digits(rng, 4)
        return _pick(rng, REGIONS) + _digits(rng, 2) + _pick(rng, PRIVATE) + _digits(rng, 4)
    if kind == "kr-2line-yellow":
        return _pick(rng, REGIONS) + _digits(rng, 2) + _pick(rng, COMMERCIAL) + _digits(rng, 4)
    if kind == "kr-2line-green":
        return _pick(rng, REGIONS) + _digits(rng, 2) + _pick(rng, PRIVATE) + _digits(rng, 4)
    raise ValueError(f"unknown plate kind {kind!r}; known: {', '.join(KINDS)}")


def split_lines(text: str) -> tuple[str, str]:
    """A two-line plate's (top, bottom): "12가|3456", "서울12|가3456"."""
    cut = len(text) - 4
    if text[:2] in REGIONS:  # region on top: the Hangul goes down with the number
        cut -= 1
    return text[:cut], text[cut:]


def check_fonts() -> None:
    if not all((FONT_DIR / f).is_file() for f in FONT_FILES):
        raise RuntimeError(FONT_MISSING)


@functools.lru_cache(maxsize=8)
def _font(name: str) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(FONT_DIR / name), 160)


@functools.lru_cache(maxsize=1024)
def _glyph(font_name: str, text: str) -> Floats:
    """Coverage 0..1 of `text`, cropped to its ink (rendered large once, then resized)."""
    font = _font(font_name)
    left, top, right, bottom = (round(v) for v in font.getbbox(text))
    canvas = PILImage.new("L", (right - left + 8, bottom - top + 8), 0)
    ImageDraw.Draw(canvas).text((4 - left, 4 - top), text, font=font, fill=255)
    ink = np.asarray(canvas, np.float32) / 255.0
    ys, xs = np.nonzero(ink > 0.02)
    return ink[ys.min() : ys.max() + 1, xs.min() : xs.max() + 1]


def _stamp(
    plate: Floats, coverage: Floats, x: float, y: float, w: float, h: float, ink: Floats
) -> None:
    """Paints `coverage` resized to w x h px at (x, y) in `ink`."""
    size = (max(1, round(w)), max(1, round(h)))
    shrink = size[0] < coverage.shape[1]
    mask = cv2.resize(coverage, size, interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)
    x0, y0 = round(x), round(y)
    roi = plate[y0 : y0 + size[1], x0 : x0 + size[0]]
    a = np.asarray(mask, np.float32)[: roi.shape[0], : roi.shape[1], None]
    roi[:] = roi * (1.0 - a) + ink * a


def _line(
    plate: Floats,
    chars: str,
    box_mm: tuple[float, float, float, float],
    ppm: float,
    font: str,
    ink: Floats,
    cell_aspect: float,
    condense: float,
) -> None:
    """One line of characters in fixed cells filling box_mm, centred; Hangul cells wider."""
    x0, y0, x1, y1 = (v * ppm for v in box_mm)
    height = y1 - y0
    gap = 0.12
    weights = [1.0 if c.isdigit() else 1.3 for c in chars]
    unit = min((x1 - x0) / (sum(weights) + gap * (len(chars) - 1)), cell_aspect * height)
    x = (x0 + x1) / 2 - unit * (sum(weights) + gap * (len(chars) - 1)) / 2
    for c, weight in zip(chars, weights, strict=True):
        glyph = _glyph(font, c)
        cell = unit * weight
        # full height; as wide as the font makes it, condensed, at most the cell ("1" stays thin)
        w = min(glyph.shape[1] * height / glyph.shape[0] * condense, cell)
        _stamp(plate, glyph, x + (cell - w) / 2, y0, w, height, ink)
        x += cell + gap * unit


def _rounded_alpha(w: int, h: int, r: int) -> Image:
    alpha = np.zeros((h, w), np.uint8)
    cv2.rectangle(alpha, (r, 0), (w - 1 - r, h - 1), 255, -1)
    cv2.rectangle(alpha, (0, r), (w - 1, h - 1 - r), 255, -1)
    for cx, cy in ((r, r), (w - 1 - r, r), (r, h - 1 - r), (w - 1 - r, h - 1 - r)):
        cv2.circle(alpha, (cx, cy), r, 255, -1, cv2.LINE_AA)
    return alpha


def _bolt(plate: Floats, x_mm: float, y_mm: float, ppm: float) -> None:
    centre, r = (round(x_mm * ppm), round(y_mm * ppm)), max(1, round(4.5 * ppm))
    cv2.circle(plate, centre, r, (120, 120, 120), -1, cv2.LINE_AA)
    cv2.circle(plate, centre, max(1, round(r * 0.7)), (190, 190, 190), -1, cv2.LINE_AA)


def _band(plate: Floats, ppm: float, height_mm: float, font: str) -> None:
    """The 2019 style's left band: blue, a taegeuk-ish circle, "KOR"."""
    plate[:, : round(BAND_MM * ppm)] = BAND_BGR
    centre = (round(BAND_MM / 2 * ppm), round(height_mm * 0.33 * ppm))
    cv2.circle(plate, centre, max(1, round(12 * ppm)), (255, 255, 255), -1, cv2.LINE_AA)
    r = max(1, round(9 * ppm))
    cv2.ellipse(plate, centre, (r, r), 0, 180, 360, (50, 40, 205), -1, cv2.LINE_AA)  # red top
    cv2.ellipse(plate, centre, (r, r), 0, 0, 180, (160, 70, 0), -1, cv2.LINE_AA)  # blue bottom
    kor = _glyph(font, "KOR")
    w, h = (BAND_MM - 12) * ppm, 15 * ppm
    white = np.array((255, 255, 255), np.float32)
    _stamp(plate, kor, 6 * ppm, height_mm * 0.62 * ppm, w, h, white)


def render_plate(kind: str, text: str, px_per_mm: float, rng: np.random.Generator) -> Image:
    """The plate, front on, as BGRA (alpha: rounded corners) at px_per_mm.

    Characters are cut to their ink and stretched to the line's height, in fixed cells,
    so they fill the plate like the real (big, bold, condensed) plate font.
    """
    check_fonts()
    spec = KINDS[kind]
    ppm = px_per_mm
    w, h = round(spec.width_mm * ppm), round(spec.height_mm * ppm)
    plate = np.empty((h, w, 3), np.float32)
    plate[:] = spec.background
    font = _pick(rng, FONT_FILES)
    ink_bgr = spec.inks[int(rng.integers(len(spec.inks)))]
    ink = np.array(ink_bgr, np.float32)
    condense = float(rng.uniform(0.8, 1.0))
    # a thin border line just inside the edge, in the characters' colour
    inset = round(4 * ppm)
    thickness = max(1, round(1.6 * ppm))
    cv2.rectangle(plate, (inset, inset), (w - 1 - inset, h - 1 - inset), ink_bgr, thickness)
    if not spec.two_line:
        hangul_at = next(i for i, c in enumerate(text) if not c.isdigit())
        band = hangul_at == 3 and rng.random() < 0.5  # the 2019 style has 3 digits
        if band:
            _band(plate, ppm, spec.height_mm, font)
        else:
            _bolt(plate, 11, spec.height_mm / 2, ppm)
        _bolt(plate, spec.width_mm - 11, spec.height_mm / 2, ppm)
        left = BAND_MM + 6 if band else 20.0
        _line(plate, text, (left, 14, 500, 96), ppm, font, ink, 0.62, condense)
    else:
        top, bottom = split_lines(text)
        _bolt(plate, 30, 34, ppm)
        _bolt(plate, spec.width_mm - 30, 34, ppm)
        _line(plate, top, (50, 13, 285, 57), ppm, font, ink, 0.8, condense)
        _line(plate, bottom, (20, 66, 315, 157), ppm, font, ink, 0.62, condense)
    alpha = _rounded_alpha(w, h, max(1, round(6 * ppm)))
    bgr = np.clip(plate + 0.5, 0, 255).astype(np.uint8)
    return np.dstack([bgr, alpha])


# --- inputs: clips and vehicle photos (cached per process) ------------------------------


def _videos(root: Path) -> list[Path]:
    found = sorted(p for p in (root / "videos").glob("*") if p.suffix in (".avi", ".mp4"))
    if not found:
        raise RuntimeError(f"no clips in {root / 'videos'} (*.avi, *.mp4)")
    return found


@functools.lru_cache(maxsize=16)
def _frame_count(path: Path) -> int:
    cap = cv2.VideoCapture(str(path))
    n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
    cap.release()
    # a container's frame count can be higher than the frames that decode
    return max(1, int(n * 0.95))


@functools.lru_cache(maxsize=64)
def _video_frame(path: Path, index: int) -> Image:
    cap = cv2.VideoCapture(str(path))
    try:
        # OpenCV's FFmpeg seek is frame-exact; past a short clip's end, step back
        for i in range(index, -1, -25):
            cap.set(cv2.CAP_PROP_POS_FRAMES, i)
            ok, frame = cap.read()
            if ok:
                return np.asarray(frame, np.uint8)
    finally:
        cap.release()
    raise RuntimeError(f"cannot read frame {index} of {path}")


def background_frame(root: Path, size: tuple[int, int], rng: np.random.Generator) -> Image:
    """A random frame of a random clip, resized to cover `size` (w, h), centre-cropped."""
    path = _videos(root)[int(rng.integers(len(_videos(root))))]
    frame = _video_frame(path, int(rng.integers(_frame_count(path))))
    w, h = size
    scale = max(w / frame.shape[1], h / frame.shape[0])
    rw, rh = max(w, math.ceil(frame.shape[1] * scale)), max(h, math.ceil(frame.shape[0] * scale))
    big = cv2.resize(frame, (rw, rh), interpolation=cv2.INTER_LINEAR)
    x, y = (rw - w) // 2, (rh - h) // 2
    return np.ascontiguousarray(big[y : y + h, x : x + w], np.uint8)


@functools.lru_cache(maxsize=4)
def _photos(csv_path: Path, two_line: bool) -> list[tuple[Path, Box]]:
    """Vehicle photos whose plate is shaped like the kind: long (eu/, br/) or squarish (us/)."""
    out: list[tuple[Path, Box]] = []
    for item in load_labels(csv_path):
        if len(item.boxes) != 1:
            continue
        x0, y0, x1, y1 = (float(v) for v in item.boxes[0])
        if (x1 - x0 < 2.6 * (y1 - y0)) == two_line:
            out.append((item.path, (x0, y0, x1, y1)))
    if not out:
        raise RuntimeError(f"{csv_path}: no plate shaped for {'two' if two_line else 'one'}-line")
    return out


@functools.lru_cache(maxsize=64)
def _photo(path: Path) -> Image:
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise RuntimeError(f"cannot read {path}")
    return np.asarray(img, np.uint8)


def vehicle_photo(root: Path, kind: str, rng: np.random.Generator) -> tuple[Image, Box]:
    csv_path = plates_csv(root)
    if csv_path is None:
        raise RuntimeError(f"{root}: no plates/plates.csv")
    pool = _photos(csv_path, KINDS[kind].two_line)
    path, box = pool[int(rng.integers(len(pool)))]
    return _photo(path), box


# --- composition --------------------------------------------------------------------------


def plate_quad(
    cx: float, cy: float, w: float, h: float, rng: np.random.Generator
) -> npt.NDArray[np.float64]:
    """Corners TL, TR, BR, BL of a w x h plate at (cx, cy), tilted <=5 deg, jittered <=8% of h."""
    half = np.array([[-w, -h], [w, -h], [w, h], [-w, h]], np.float64) / 2
    a = math.radians(float(rng.uniform(-5, 5)))
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    jitter = rng.uniform(-0.08, 0.08, (4, 2)) * h
    return np.asarray(half @ rot.T + jitter + (cx, cy), np.float64)


def _hide_plate(photo: Image, box: Box) -> Image:
    """A copy with the annotated plate inpainted, so no tilt of ours leaves a sliver of it."""
    out = photo.copy()
    h, w = photo.shape[:2]
    x0, y0 = max(0, math.floor(box[0]) - 10), max(0, math.floor(box[1]) - 10)
    x1, y1 = min(w, math.ceil(box[2]) + 10), min(h, math.ceil(box[3]) + 10)
    mask = np.zeros((y1 - y0, x1 - x0), np.uint8)
    cv2.rectangle(
        mask,
        (math.floor(box[0]) - x0 - 2, math.floor(box[1]) - y0 - 2),
        (math.ceil(box[2]) - x0 + 2, math.ceil(box[3]) - y0 + 2),
        255,
        -1,
    )
    out[y0:y1, x0:x1] = cv2.inpaint(out[y0:y1, x0:x1], mask, 3, cv2.INPAINT_TELEA)
    return out


def _paste_photo(
    frame: Image, photo: Image, s: float, ox: float, oy: float, feather: float
) -> None:
    """Pastes photo scaled by s at (ox, oy) (may be cut by the frame), its edge feathered."""
    fh, fw = frame.shape[:2]
    ph, pw = photo.shape[:2]
    # the part of the photo that lands in the frame, in photo pixels
    sx0, sy0 = max(0, math.floor(-ox / s)), max(0, math.floor(-oy / s))
    sx1, sy1 = min(pw, math.ceil((fw - ox) / s)), min(ph, math.ceil((fh - oy) / s))
    if sx1 <= sx0 or sy1 <= sy0:
        return
    size = (max(1, round((sx1 - sx0) * s)), max(1, round((sy1 - sy0) * s)))
    interp = cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR
    part = cv2.resize(photo[sy0:sy1, sx0:sx1], size, interpolation=interp)
    px, py = round(ox + sx0 * s), round(oy + sy0 * s)
    fx0, fy0, fx1, fy1 = max(0, px), max(0, py), min(fw, px + size[0]), min(fh, py + size[1])
    if fx1 <= fx0 or fy1 <= fy0:
        return
    part = part[fy0 - py : fy1 - py, fx0 - px : fx1 - px]
    # alpha ramps to 0 over `feather` px at the photo's own edges
    xs = np.arange(fx0, fx1, dtype=np.float32) + 0.5
    ys = np.arange(fy0, fy1, dtype=np.float32) + 0.5
    ax = np.clip(np.minimum(xs - ox, ox + pw * s - xs) / feather, 0, 1)
    ay = np.clip(np.minimum(ys - oy, oy + ph * s - ys) / feather, 0, 1)
    a = np.ascontiguousarray(ay[:, None] * ax[None, :], np.float32)
    roi = np.ascontiguousarray(frame[fy0:fy1, fx0:fx1])
    frame[fy0:fy1, fx0:fx1] = cv2.blendLinear(np.ascontiguousarray(part), roi, a, 1 - a)


def _warp_plate(frame: Image, plate: Image, quad: npt.NDArray[np.float64], gain: float) -> None:
    """Draws the BGRA plate onto the frame with its corners at quad (premultiplied alpha)."""
    fh, fw = frame.shape[:2]
    a = plate[..., 3:].astype(np.float32) / 255.0
    prem = np.dstack([plate[..., :3].astype(np.float32) * a * gain, a])
    # shrink first with area averaging: the bilinear warp would alias a big plate
    qw = float(quad[:, 0].max() - quad[:, 0].min())
    if prem.shape[1] > 1.5 * qw:
        w = max(2, round(qw))
        size = (w, max(2, round(w * prem.shape[0] / prem.shape[1])))
        prem = cv2.resize(prem, size, interpolation=cv2.INTER_AREA)
    h, w = prem.shape[:2]
    x0, y0 = max(0, math.floor(quad[:, 0].min()) - 1), max(0, math.floor(quad[:, 1].min()) - 1)
    x1, y1 = min(fw, math.ceil(quad[:, 0].max()) + 1), min(fh, math.ceil(quad[:, 1].max()) + 1)
    # corner coordinates (pixel i spans [i, i+1)) to OpenCV's pixel centres
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32) - 0.5
    dst = (quad - (x0, y0) - 0.5).astype(np.float32)
    m = cv2.getPerspectiveTransform(src, dst)
    warped = cv2.warpPerspective(
        prem, m, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT
    )
    roi = frame[y0:y1, x0:x1].astype(np.float32)
    out = warped[..., :3] + roi * (1 - warped[..., 3:])
    frame[y0:y1, x0:x1] = np.clip(out + 0.5, 0, 255).astype(np.uint8)


def compose(
    background: Image,
    photo: Image,
    photo_box: Box,
    kind: str,
    text: str,
    target_width: float,
    rng: np.random.Generator,
) -> tuple[Image, Box]:
    """The frame with the photo pasted in and a Korean plate over its annotated one.

    Returns the frame and the plate's box (its warped corners' bounds, in the frame).
    """
    spec = KINDS[kind]
    fh, fw = background.shape[:2]
    x0, y0, x1, y1 = photo_box
    aspect = spec.width_mm / spec.height_mm
    # the plate's own aspect, large enough to cover the annotated plate, centred on it
    pw = max(x1 - x0, (y1 - y0) * aspect) * float(rng.uniform(1.0, 1.05))
    quad = plate_quad((x0 + x1) / 2, (y0 + y1) / 2, pw, pw / aspect, rng)
    s = target_width / float(quad[:, 0].max() - quad[:, 0].min())
    qmin = quad.min(axis=0) * s
    qw, qh = quad.max(axis=0) * s - qmin
    left = float(rng.uniform(2, max(2, fw - 2 - qw)))
    top = float(rng.uniform(2, max(2, fh - 2 - qh)))
    ox, oy = left - qmin[0], top - qmin[1]
    frame = background.copy()
    feather = float(rng.uniform(3, 6))
    _paste_photo(frame, _hide_plate(photo, photo_box), s, ox, oy, feather)
    fquad = quad * s + (ox, oy)
    # rendered larger than its final size, so the shrink averages the strokes as optics do
    plate = render_plate(kind, text, max(1.0, 2 * target_width / spec.width_mm), rng)
    # as bright as the plate it replaces, roughly (a white plate in shade is grey)
    grey = cv2.cvtColor(photo[round(y0) : round(y1), round(x0) : round(x1)], cv2.COLOR_BGR2GRAY)
    plate_grey = cv2.cvtColor(plate[..., :3], cv2.COLOR_BGR2GRAY)[plate[..., 3] > 0]
    ratio = float(grey.mean()) / max(1.0, float(plate_grey.mean())) if grey.size else 1.0
    gain = float(np.clip(ratio * rng.uniform(0.9, 1.2), 0.45, 1.05))
    _warp_plate(frame, plate, fquad, gain)
    bx0, by0 = (float(v) for v in np.clip(fquad.min(axis=0), 0, (fw, fh)))
    bx1, by1 = (float(v) for v in np.clip(fquad.max(axis=0), 0, (fw, fh)))
    return frame, (bx0, by0, bx1, by1)


def cctv_look(image: Image, rng: np.random.Generator) -> Image:
    """Gain/offset, gamma and colour cast (one LUT), blur, sometimes motion blur, noise, JPEG."""
    gamma = rng.uniform(0.8, 1.25)
    gain = rng.uniform(0.8, 1.15) * rng.uniform(0.93, 1.07, 3)  # per channel: colour cast
    offset = rng.uniform(-12, 12)
    x = np.arange(256, dtype=np.float64) / 255.0
    lut = np.stack([255.0 * x**gamma * g + offset for g in gain], axis=1)
    lut8 = np.clip(lut + 0.5, 0, 255).astype(np.uint8).reshape(256, 1, 3)
    out = cv2.LUT(image, lut8)
    sigma = rng.uniform(0.0, 1.2)
    if sigma > 0.1:
        out = cv2.GaussianBlur(out, (0, 0), sigma)
    if rng.random() < 0.3:  # a little horizontal motion (panning, a moving car)
        k = int(rng.choice([3, 5, 7]))
        out = cv2.blur(out, (k, 1))
    # luminance noise (the same in B, G, R), as an ISP leaves it; a third of the draws
    noise = rng.standard_normal((*out.shape[:2], 1), dtype=np.float32)
    noise = np.repeat(noise * np.float32(rng.uniform(1, 6)), 3, axis=2)
    noisy = cv2.add(out, noise, dtype=cv2.CV_8U)
    quality = int(rng.integers(60, 93))
    ok, jpeg = cv2.imencode(".jpg", noisy, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return np.asarray(cv2.imdecode(jpeg, cv2.IMREAD_COLOR), np.uint8)


# --- the set ------------------------------------------------------------------------------


def target_width(rng: np.random.Generator, widths: tuple[float, float] | None) -> float:
    if widths is not None:
        return float(rng.uniform(*widths))
    shares = np.array([b[2] for b in WIDTH_BUCKETS])
    lo, hi, _ = WIDTH_BUCKETS[int(rng.choice(len(WIDTH_BUCKETS), p=shares / shares.sum()))]
    return float(rng.uniform(lo, hi))


@dataclass(frozen=True)
class Sample:
    image: Image
    box: Box
    kind: str
    text: str


def make_sample(
    root: Path,
    index: int,
    seed: int,
    widths: tuple[float, float] | None,
    kinds: Sequence[str],
    sizes: Sequence[tuple[int, int]],
) -> Sample:
    """Sample `index` of the set, from its own generator: any one can be remade alone."""
    rng = np.random.default_rng([seed, index])
    kind = kinds[index % len(kinds)]
    text = plate_text(kind, rng)
    size = sizes[int(rng.integers(len(sizes)))]
    width = target_width(rng, widths)
    background = background_frame(root, size, rng)
    photo, box = vehicle_photo(root, kind, rng)
    frame, plate_box = compose(background, photo, box, kind, text, width, rng)
    return Sample(cctv_look(frame, rng), plate_box, kind, text)


def generate(
    out_dir: Path,
    count: int,
    seed: int = 0,
    widths: tuple[float, float] | None = None,
    kinds: Sequence[str] | None = None,
    sizes: Sequence[tuple[int, int]] | None = None,
) -> Path:
    """Writes out_dir/images/NNNNNN.jpg and out_dir/plates.csv; returns the CSV's path."""
    kinds = list(kinds or KINDS)
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise ValueError(f"unknown plate kinds {unknown}; known: {', '.join(KINDS)}")
    if seed < 0:
        raise ValueError("seed must be >= 0")
    if widths is not None and not 0 < widths[0] <= widths[1]:
        raise ValueError(f"widths must be 0 < low <= high, got {widths}")
    root = data_dir()
    if root is None or plates_csv(root) is None:
        raise RuntimeError(
            "shared data not found (plates/plates.csv): set REDACTOR_DATA or place it at ../shared/data"
        )
    check_fonts()
    images = out_dir / "images"
    images.mkdir(parents=True, exist_ok=True)
    csv_path = out_dir / "plates.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(HEADER)
        for i in range(count):
            sample = make_sample(root, i, seed, widths, kinds, list(sizes or SIZES))
            name = f"images/{i:06d}.jpg"
            if not cv2.imwrite(str(out_dir / name), sample.image, [cv2.IMWRITE_JPEG_QUALITY, 95]):
                raise RuntimeError(f"cannot write {out_dir / name}")
            h, w = sample.image.shape[:2]
            box = [f"{v:.2f}" for v in sample.box]
            writer.writerow([name, w, h, *box, sample.kind, sample.text])
    return csv_path


def write_previews(csv_path: Path, n: int) -> list[Path]:
    """n crops (4x the plate's width around it), enlarged with square pixels, to preview/."""
    with csv_path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    out = csv_path.parent / "preview"
    out.mkdir(exist_ok=True)
    written: list[Path] = []
    picks = np.unique(np.linspace(0, len(rows) - 1, min(n, len(rows))).round().astype(int))
    for i in picks if rows else []:
        row = rows[int(i)]
        img = np.asarray(cv2.imread(str(csv_path.parent / row["image"]), cv2.IMREAD_COLOR))
        x0, y0, x1, y1 = (float(row[k]) for k in ("xmin", "ymin", "xmax", "ymax"))
        cx, cy, cw = (x0 + x1) / 2, (y0 + y1) / 2, 4 * (x1 - x0)
        ch = max(4 * (y1 - y0), 0.6 * cw)
        h, w = img.shape[:2]
        lx, ty = max(0, round(cx - cw / 2)), max(0, round(cy - ch / 2))
        r, b = min(w, round(cx + cw / 2)), min(h, round(cy + ch / 2))
        crop = img[ty:b, lx:r]
        k = max(1, math.ceil(480 / crop.shape[1]))
        big = cv2.resize(crop, None, fx=k, fy=k, interpolation=cv2.INTER_NEAREST)
        boxed = big.copy()
        p0 = (round((x0 - lx) * k), round((y0 - ty) * k))
        p1 = (round((x1 - lx) * k), round((y1 - ty) * k))
        cv2.rectangle(boxed, p0, p1, (0, 255, 0), 1)
        width = x1 - x0
        path = out / f"{Path(row['image']).stem}_{row['label']}_{width:.0f}px.png"
        cv2.imwrite(
            str(path), np.hstack([big, np.full((big.shape[0], 8, 3), 255, np.uint8), boxed])
        )
        written.append(path)
    return written


def summary(csv_path: Path) -> str:
    with csv_path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    kinds = Counter(r["label"] for r in rows)
    buckets: Counter[str] = Counter()
    for r in rows:
        w = float(r["xmax"]) - float(r["xmin"])
        buckets[next(name for lo, hi, name in SUMMARY_BUCKETS if lo <= w < hi)] += 1
    lines = [f"{len(rows)} plates"]
    lines += [f"  {k:16} {kinds[k]}" for k in KINDS if kinds[k]]
    lines += ["  width (px):"] + [f"  {name:>16} {buckets[name]}" for *_, name in SUMMARY_BUCKETS]
    return "\n".join(lines)


def _widths_arg(text: str) -> tuple[float, float]:
    try:
        lo, hi = (float(v) for v in text.split("-"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected LO-HI in px, e.g. 32-64, got {text!r}"
        ) from None
    if not 0 < lo <= hi:
        raise argparse.ArgumentTypeError(f"expected 0 < LO <= HI, got {text!r}")
    return lo, hi


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.korean_plates",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--out", type=Path, required=True, help="folder to write (created)")
    parser.add_argument("--count", type=int, default=400, help="number of frames (default 400)")
    parser.add_argument("--seed", type=int, default=0, help="random seed, >= 0 (default 0)")
    parser.add_argument(
        "--widths",
        type=_widths_arg,
        metavar="LO-HI",
        help="plate widths in px, uniform in LO-HI (default: 40%% 30-64, 30%% 64-128, 30%% 128-220)",
    )
    parser.add_argument(
        "--kinds",
        type=lambda s: [k.strip() for k in s.split(",") if k.strip()],
        metavar="KIND,...",
        help="plate kinds, e.g. kr-1line-white,kr-2line-yellow (default: all four, in turn)",
    )
    parser.add_argument(
        "--preview", type=int, default=0, metavar="N", help="also write N crops to OUT/preview/"
    )
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        csv_path = generate(args.out, args.count, args.seed, args.widths, args.kinds)
    except (RuntimeError, ValueError) as e:
        print(f"korean_plates: {e}", file=sys.stderr)
        return 2
    took = time.perf_counter() - start
    print(f"wrote {csv_path} and {args.count} images in {took:.1f} s")
    if args.preview:
        previews = write_previews(csv_path, args.preview)
        print(f"wrote {len(previews)} previews to {csv_path.parent / 'preview'}")
    print(summary(csv_path))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
