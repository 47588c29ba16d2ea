"""Follow a box a reviewer drew through the clip, both ways, on the review proxy.

A reviewer adds an object the detector missed by drawing one box on one frame
(a "keyframe"), and may correct it with boxes on other frames. `follow` gives
the object's box on every frame from `reach` frames before the first keyframe
to `reach` frames after the last:

- before the first keyframe it is tracked backward from it, after the last one
  forward;
- between two keyframes it is tracked forward from the earlier and backward
  from the later, and the two are blended by distance in frames, so the path
  passes exactly through every keyframe box and each track's drift is pulled
  back towards the keyframe nearest to it;
- tracking is median flow (Kalal et al. 2010): a grid of points in the box,
  pyramidal Lucas-Kanade forward and back, the points whose forward-backward
  error is at most the median vote for the move (median shift) and the scale
  (median ratio of pairwise distances);
- fail towards privacy: where the step is not trusted (too few points, a large
  forward-backward error, a patch that no longer looks like the last one) and
  the last good patch cannot be found again nearby (template matching), the
  last good box is held, grown by `grow_per_frame` of its size per frame up to
  `max_grow`, and the frame is marked `lost`. It is never dropped.

Frames come one at a time from a callback (a 5-minute proxy does not fit in
memory) and are tracked in grayscale, on a crop around the box. Boxes are
clipped to the frame.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt

from redactor.boxes import clip, enlarge
from redactor.errors import InvalidFrame, InvalidInput

Box = tuple[float, float, float, float]  # x0, y0, x1, y1 px in proxy frames
FrameSource = Callable[[int], npt.NDArray[np.uint8]]  # frame index -> BGR proxy frame
Gray = npt.NDArray[np.uint8]
F64 = npt.NDArray[np.float64]

_GRID = 10  # median flow's points: a _GRID x _GRID grid over the box
_WIN = (15, 15)  # Lucas-Kanade window: a 30-60 px face holds a few of them
_LEVELS = 3  # pyramid levels: moves up to about 15 * 2**3 px per frame
_LK_CRITERIA = (cv2.TERM_CRITERIA_COUNT | cv2.TERM_CRITERIA_EPS, 20, 0.03)
_MIN_POINTS = 8  # fewer trusted points than this: the step is not trusted
_MAX_FB = 3.0  # px, median forward-backward error above which the step is not trusted
_SCALE_STEP = (0.8, 1.25)  # the most a box may shrink or grow in one frame
_MIN_SIDE = 4.0  # px visible each way below which there is nothing left to track
_PATCH = 16  # side of the patches compared for appearance
_MIN_NCC = 0.4  # a step whose patch correlates less with the last one is not trusted
_REFIND = 0.7  # template match score at which a lost object counts as found again
_MIN_STD = 3.0  # grey levels: a flatter patch cannot be matched (uniform frames)
_MATCH_SIDE = 48  # px, templates are matched at most this large (speed)
_CACHE_FRAMES = 256  # a gap between keys up to this long is decoded once, not twice


@dataclass(frozen=True, slots=True)
class Followed:
    """The followed box on frames `first` .. `first + len(boxes) - 1`."""

    first: int  # index of the first frame covered
    boxes: npt.NDArray[np.float32]  # (n, 4) xyxy, frames first .. first+n-1
    # (n,) True where the tracker's confidence failed (box then held/grown)
    lost: npt.NDArray[np.bool_]


def follow(
    frames: FrameSource,
    n_frames: int,
    keys: Mapping[int, Box],
    reach: int,
    *,
    grow_per_frame: float = 0.02,
    max_grow: float = 0.5,
) -> Followed:
    """The box of the object drawn on `keys` on every frame within `reach` of them (module doc).

    Raises InvalidInput for a key outside [0, n_frames), a box that is not finite
    with x1 > x0 and y1 > y0, no keys, a negative `reach` or growth; InvalidFrame
    for a frame that is not BGR uint8 or changes size."""
    order = _validate(n_frames, keys, reach, grow_per_frame, max_grow)
    first = max(0, order[0] - reach)
    last = min(n_frames - 1, order[-1] + reach)
    grays = _Grays(frames)
    out = np.zeros((last - first + 1, 4), np.float64)
    lost = np.zeros(last - first + 1, np.bool_)
    box = {k: np.asarray(keys[k], np.float64) for k in order}

    def put(start: int, b: F64, lo: npt.NDArray[np.bool_]) -> None:
        out[start - first : start - first + len(b)] = b
        lost[start - first : start - first + len(b)] = lo

    grow = (grow_per_frame, max_grow)
    before, lost_before = _track(grays, order[0], box[order[0]], first, grow)
    put(first, before[::-1], lost_before[::-1])
    for a, b in zip(order, order[1:], strict=False):
        put(a, *_between(grays, a, box[a], b, box[b], grow))
    after, lost_after = _track(grays, order[-1], box[order[-1]], last, grow)
    put(order[-1], after, lost_after)
    w, h = grays.size
    return Followed(first, clip(out.astype(np.float32), w, h), lost)


def _validate(
    n_frames: int, keys: Mapping[int, Box], reach: int, grow_per_frame: float, max_grow: float
) -> list[int]:
    """The keys' frame indices in order, once every argument is checked."""
    if n_frames < 1:
        raise InvalidInput(f"follow: n_frames must be at least 1, got {n_frames}")
    if not keys:
        raise InvalidInput("follow: at least one keyframe box is required")
    if reach < 0:
        raise InvalidInput(f"follow: reach must be >= 0 frames, got {reach}")
    for name, v in (("grow_per_frame", grow_per_frame), ("max_grow", max_grow)):
        if not (math.isfinite(v) and v >= 0):
            raise InvalidInput(f"follow: {name} must be finite and >= 0, got {v}")
    for k, b in keys.items():
        if not 0 <= k < n_frames:
            raise InvalidInput(f"follow: keyframe {k} is outside the clip's frames [0, {n_frames})")
        try:
            finite = len(b) == 4 and all(math.isfinite(float(v)) for v in b)
        except (TypeError, ValueError):
            finite = False
        if not finite:
            raise InvalidInput(f"follow: keyframe {k}'s box {b!r} is not 4 finite numbers")
        if not (b[2] > b[0] and b[3] > b[1]):
            raise InvalidInput(f"follow: keyframe {k}'s box {b} needs x1 > x0 and y1 > y0")
    return sorted(int(k) for k in keys)


class _Grays:
    """The source's frames in grayscale, checked to be BGR uint8 of one size."""

    def __init__(self, frames: FrameSource) -> None:
        self._frames = frames
        self._size: tuple[int, int] | None = None

    @property
    def size(self) -> tuple[int, int]:
        """(width, height); known once a frame has been read."""
        assert self._size is not None, "size is known after the first frame"
        return self._size

    def __call__(self, i: int) -> Gray:
        f = self._frames(i)
        if not (
            isinstance(f, np.ndarray) and f.dtype == np.uint8 and f.ndim == 3 and f.shape[2] == 3
        ):
            got = f"{f.dtype} {f.shape}" if isinstance(f, np.ndarray) else type(f).__name__
            raise InvalidFrame(f"follow: frame {i} should be BGR uint8 (h, w, 3), got {got}")
        size = (f.shape[1], f.shape[0])
        if self._size is None:
            self._size = size
        elif size != self._size:
            raise InvalidFrame(f"follow: frame {i} is {size}, earlier frames {self._size}")
        return np.asarray(cv2.cvtColor(f, cv2.COLOR_BGR2GRAY), np.uint8)


def _between(
    grays: Callable[[int], Gray],
    a: int,
    box_a: F64,
    b: int,
    box_b: F64,
    grow: tuple[float, float],
) -> tuple[F64, npt.NDArray[np.bool_]]:
    """Boxes on frames a .. b-1 (b is the next key's), blended from both ends (module doc)."""
    cache: dict[int, Gray] = {}
    keep = b - a <= _CACHE_FRAMES

    def cached(i: int) -> Gray:
        g = cache.get(i)
        if g is None:
            g = grays(i)
            if keep:
                cache[i] = g
        return g

    fwd, lost_f = _track(cached, a, box_a, b - 1, grow)  # frames a .. b-1
    bwd, lost_b = _track(cached, b, box_b, a + 1, grow)  # frames b .. a+1
    bwd, lost_b = bwd[::-1], lost_b[::-1]  # frames a+1 .. b
    out, lost = fwd.copy(), lost_f.copy()
    for i in range(a + 1, b):
        f, r = fwd[i - a], bwd[i - a - 1]
        lf, lb = bool(lost_f[i - a]), bool(lost_b[i - a - 1])
        if lf != lb:  # one end lost it: the end that still sees it is right
            out[i - a] = r if lf else f
            lost[i - a] = False
        else:  # both see it (or neither): each end counts more the nearer it is
            w = (i - a) / (b - a)
            out[i - a] = (1 - w) * f + w * r
            lost[i - a] = lf
    return out, lost


def _track(
    grays: Callable[[int], Gray], start: int, box: F64, stop: int, grow: tuple[float, float]
) -> tuple[F64, npt.NDArray[np.bool_]]:
    """Boxes on frames start, start±1 .. stop (towards `stop`, both included), `box` on the first."""
    step = 1 if stop >= start else -1
    out = np.zeros((abs(stop - start) + 1, 4), np.float64)
    lost = np.zeros(len(out), np.bool_)
    out[0] = box
    prev = grays(start)
    good, template = box, _crop(prev, box)  # the last trusted box, its pixels
    velocity = np.zeros(2)  # its last move, the first guess for the next one
    missing = 0  # frames since `good`
    for k in range(1, len(out)):
        nxt = grays(start + step * k)
        moved = None if missing else _median_flow(prev, nxt, good, velocity)
        if moved is not None:
            velocity = _centre(moved) - _centre(good)
            good, template = moved, _crop(nxt, moved)
            out[k] = moved
        else:
            factor = 1 + min((missing + 1) * grow[0], grow[1])
            held = enlarge(good[None].astype(np.float32), factor)[0].astype(np.float64)
            found = _refind(nxt, template, good, held)
            if found is not None:
                velocity = np.zeros(2)
                good, template, missing = found, _crop(nxt, found), 0
                out[k] = found
            else:
                missing += 1
                out[k], lost[k] = held, True
        prev = nxt
    return out, lost


def _median_flow(prev: Gray, nxt: Gray, box: F64, guess: F64) -> F64 | None:
    """`box` moved from `prev` to `nxt` by median flow, or None where the step is not trusted."""
    h, w = prev.shape
    vis = _visible(box, w, h)
    if vis is None:
        return None
    vx0, vy0, vx1, vy1 = vis
    # One crop of both frames, wide enough for the move: LK and its pyramids stay small.
    margin = max(vx1 - vx0, vy1 - vy0) + float(np.abs(guess).max()) + 16
    rx0, ry0 = max(0, int(vx0 - margin)), max(0, int(vy0 - margin))
    rx1, ry1 = min(w, int(vx1 + margin) + 1), min(h, int(vy1 + margin) + 1)
    p, q = prev[ry0:ry1, rx0:rx1], nxt[ry0:ry1, rx0:rx1]
    gx = vx0 + (vx1 - vx0) * (np.arange(_GRID) + 0.5) / _GRID - rx0
    gy = vy0 + (vy1 - vy0) * (np.arange(_GRID) + 0.5) / _GRID - ry0
    pts = np.stack(np.meshgrid(gx, gy), axis=-1).reshape(-1, 1, 2).astype(np.float32)
    init = (pts + guess.astype(np.float32)).astype(np.float32)
    fwd, st1, _ = cv2.calcOpticalFlowPyrLK(
        p, q, pts, init, winSize=_WIN, maxLevel=_LEVELS, criteria=_LK_CRITERIA,
        flags=cv2.OPTFLOW_USE_INITIAL_FLOW,
    )  # fmt: skip
    back, st2, _ = cv2.calcOpticalFlowPyrLK(
        q, p, fwd, pts.copy(), winSize=_WIN, maxLevel=_LEVELS, criteria=_LK_CRITERIA
    )
    fb = np.linalg.norm((back - pts).reshape(-1, 2), axis=1)
    ok = (st1.ravel() == 1) & (st2.ravel() == 1) & np.isfinite(fb)
    if ok.sum() < _MIN_POINTS or float(np.median(fb[ok])) > _MAX_FB:
        return None
    keep = ok & (fb <= np.median(fb[ok]))  # the better half votes (median flow)
    a, b = pts.reshape(-1, 2)[keep], fwd.reshape(-1, 2)[keep]
    shift = np.median(b - a, axis=0)
    iu = np.triu_indices(len(a), 1)
    d0 = np.linalg.norm(a[:, None] - a[None], axis=2)[iu]
    d1 = np.linalg.norm(b[:, None] - b[None], axis=2)[iu]
    far = d0 > 2.0  # close pairs' ratios are mostly noise
    scale = float(np.median(d1[far] / d0[far])) if far.any() else 1.0
    scale = min(max(scale, _SCALE_STEP[0]), _SCALE_STEP[1])
    centre = _centre(box) + shift
    half = (box[2:] - box[:2]) * scale / 2
    moved = np.concatenate([centre - half, centre + half])
    # LK can agree with itself on the wrong thing (a flat or changed patch): check the look.
    if _ncc(_crop(prev, box), _crop(nxt, moved)) < _MIN_NCC:
        return None
    return moved


def _refind(nxt: Gray, template: Gray, good: F64, held: F64) -> F64 | None:
    """`good` moved to where `template` (its pixels when last trusted) matches in `nxt`
    near `held`, or None where nothing there matches well enough."""
    h, w = nxt.shape
    th, tw = template.shape
    if min(th, tw) < _MIN_SIDE or float(template.std()) < _MIN_STD:
        return None
    pad = max(tw, th)
    x0, y0 = max(0, int(held[0] - pad)), max(0, int(held[1] - pad))
    x1, y1 = min(w, int(held[2] + pad) + 1), min(h, int(held[3] + pad) + 1)
    if x1 - x0 <= tw or y1 - y0 <= th:
        return None
    window, tpl = np.asarray(nxt[y0:y1, x0:x1]), np.asarray(template)
    s = min(1.0, _MATCH_SIDE / max(tw, th))
    if s < 1.0:  # a large template is matched smaller: the cost grows with its area squared
        window = np.asarray(cv2.resize(window, None, fx=s, fy=s, interpolation=cv2.INTER_AREA))
        tpl = np.asarray(cv2.resize(tpl, None, fx=s, fy=s, interpolation=cv2.INTER_AREA))
    score = cv2.matchTemplate(window, tpl, cv2.TM_CCOEFF_NORMED)
    _, best, _, at = cv2.minMaxLoc(score)
    if not math.isfinite(best) or best < _REFIND:
        return None
    mx, my = x0 + at[0] / s, y0 + at[1] / s
    found = nxt[int(my) : int(my) + th, int(mx) : int(mx) + tw]
    if float(found.std()) < _MIN_STD:  # a flat patch "matches" anything
        return None
    tx0, ty0 = max(0, int(good[0])), max(0, int(good[1]))  # where the template was cut
    moved: F64 = good + np.array([mx - tx0, my - ty0, mx - tx0, my - ty0])
    return moved


def _visible(box: F64, w: int, h: int) -> tuple[float, float, float, float] | None:
    """The part of `box` inside a w x h frame, or None where too little of it is."""
    x0, y0 = max(0.0, float(box[0])), max(0.0, float(box[1]))
    x1, y1 = min(float(w), float(box[2])), min(float(h), float(box[3]))
    if x1 - x0 < _MIN_SIDE or y1 - y0 < _MIN_SIDE:
        return None
    return x0, y0, x1, y1


def _crop(gray: Gray, box: F64) -> Gray:
    """The whole pixels of `box` in `gray` (empty where it is outside)."""
    h, w = gray.shape
    x0, y0 = max(0, int(box[0])), max(0, int(box[1]))
    x1, y1 = min(w, int(math.ceil(box[2]))), min(h, int(math.ceil(box[3])))
    return gray[y0 : max(y0, y1), x0 : max(x0, x1)]


def _ncc(a: Gray, b: Gray) -> float:
    """Normalised correlation of two patches resized to one small square; 0 where either is
    empty or flat."""
    if min(a.shape) == 0 or min(b.shape) == 0:
        return 0.0
    pa = cv2.resize(a, (_PATCH, _PATCH), interpolation=cv2.INTER_AREA).astype(np.float32)
    pb = cv2.resize(b, (_PATCH, _PATCH), interpolation=cv2.INTER_AREA).astype(np.float32)
    pa -= pa.mean()
    pb -= pb.mean()
    den = float(np.sqrt((pa * pa).sum() * (pb * pb).sum()))
    return float((pa * pb).sum()) / den if den > 1e-6 else 0.0


def _centre(box: F64) -> F64:
    c: F64 = (box[:2] + box[2:]) / 2
    return c
