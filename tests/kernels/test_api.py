"""The public surface: input validation, warmup, compile flags in one place (what kernels/
may import: tests/test_boundaries.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from redactor.kernels import Style, mask_bgr, mask_i420, mask_nv12, warmup

KERNELS_DIR = Path(__file__).resolve().parents[2] / "kernels"


def img(h: int = 8, w: int = 10) -> np.ndarray:
    return np.zeros((h, w, 3), np.uint8)


BOX = [[1, 1, 5, 5]]


@pytest.mark.parametrize(
    ("call", "error", "words"),
    [
        (lambda: mask_bgr([[0]], BOX), TypeError, "numpy.ndarray"),
        (lambda: mask_bgr(img().astype(np.float32), BOX), TypeError, "uint8, got float32"),
        (lambda: mask_bgr(np.zeros((8, 10), np.uint8), BOX), ValueError, "(h, w, 3), got (8, 10)"),
        (
            lambda: mask_bgr(np.zeros((8, 10, 4), np.uint8), BOX),
            ValueError,
            "(h, w, 3), got (8, 10, 4)",
        ),
        (lambda: mask_bgr(np.zeros((0, 10, 3), np.uint8), BOX), ValueError, "not be empty"),
        (lambda: mask_bgr(img(8, 20)[:, ::2], BOX), ValueError, "C-contiguous"),
        (lambda: mask_bgr(np.broadcast_to(img(), (8, 10, 3)), BOX), ValueError, "writeable"),
        (lambda: mask_bgr(img(), [[1, 2, 3]]), ValueError, "(n, 4) xyxy, got (1, 3)"),
        (lambda: mask_bgr(img(), [1, 2, 3, 4]), ValueError, "(n, 4) xyxy, got (4,)"),
        (lambda: mask_bgr(img(), [["a", 1, 2, 3]]), TypeError, "array of numbers"),
        (lambda: mask_bgr(img(), [[1, np.nan, 2, 3]]), ValueError, "finite"),
        (lambda: mask_bgr(img(), [[1, 1, np.inf, 3]]), ValueError, "finite"),
        (lambda: mask_bgr(img(), BOX, style=7), ValueError, "PIXELATE"),
        (lambda: mask_bgr(img(), BOX, style="blur"), ValueError, "got 'blur'"),
        (lambda: mask_bgr(img(), BOX, strength=0), ValueError, "> 0, got 0.0"),
        (lambda: mask_bgr(img(), BOX, strength=float("nan")), ValueError, "finite"),
        (lambda: mask_bgr(img(), BOX, feather=-1), ValueError, "feather must be an int >= 0"),
        (lambda: mask_bgr(img(), BOX, feather=1.5), ValueError, "got 1.5"),  # type: ignore[arg-type]
        (lambda: mask_bgr(img(), BOX, color=(0, 0, 256)), ValueError, "0..255"),
        (lambda: mask_bgr(img(), BOX, color=(0, 0)), ValueError, "3 ints"),
        (
            lambda: mask_i420(
                np.zeros((9, 11), np.uint8),
                np.zeros((4, 6), np.uint8),
                np.zeros((5, 6), np.uint8),
                BOX,
            ),
            ValueError,
            "(5, 6) (half the luma, rounded up), got (4, 6)",
        ),
        (
            lambda: mask_i420(
                np.zeros((9, 11, 1), np.uint8),
                np.zeros((5, 6), np.uint8),
                np.zeros((5, 6), np.uint8),
                BOX,
            ),
            ValueError,
            "y must have shape (h, w)",
        ),
        (
            lambda: mask_nv12(np.zeros((9, 11), np.uint8), np.zeros((5, 6), np.uint8), BOX),
            ValueError,
            "uv must have shape (h, w, 2)",
        ),
        (
            lambda: mask_nv12(np.zeros((9, 11), np.uint8), np.zeros((5, 5, 2), np.uint8), BOX),
            ValueError,
            "(5, 6, 2)",
        ),
    ],
)
def test_bad_input_is_refused_with_what_was_expected(call: object, error: type, words: str) -> None:
    with pytest.raises(error) as info:
        call()  # type: ignore[operator]
    assert words in str(info.value)


def test_boxes_of_any_numeric_kind_are_accepted() -> None:
    for boxes in (
        [[1, 1, 5, 5]],
        np.array([[1, 1, 5, 5]], np.float32),
        np.array([[1, 1, 5, 5]], np.int32),
        np.array([[1.5, 1.5, 5.5, 5.5]])[:, [0, 1, 2, 3]].T.T,
        ((1, 1, 5, 5),),
    ):
        a = img()
        a[:] = 9
        mask_bgr(a, boxes, Style.FILL)
        assert (a[1:5, 1:5] == 0).all()


def test_warmup_compiles_everything_the_api_uses() -> None:
    from redactor.kernels import blur, fill, pixelate, plane, shapes

    warmup()
    dispatchers = [
        obj
        for mod in (blur, fill, pixelate, plane, shapes)
        for obj in vars(mod).values()
        if hasattr(obj, "signatures") and hasattr(obj, "py_func")
    ]
    if not dispatchers:
        pytest.skip("NUMBA_DISABLE_JIT: nothing is compiled")
    before = {d: len(d.signatures) for d in dispatchers}
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (720, 1280, 3), dtype=np.uint8)
    y = frame[..., 0].copy()
    u = frame[:360, :640, 1].copy()
    uv = frame[:360, :640, :2].copy()
    for boxes in (
        [[10.5, 20, 300, 400]],
        np.array([[0, 0, 1280, 720], [5, 5, 50, 50]], np.float32),
    ):
        for style in Style:
            for ellipse, feather in ((False, 0), (True, 0), (False, 4)):
                mask_bgr(frame, boxes, style, 6.0, ellipse, feather, (1, 2, 3))
                mask_i420(y, u, u.copy(), boxes, int(style), 6, ellipse, feather)
                mask_nv12(y, uv, boxes, style, 6.0, ellipse, feather)
    big = np.zeros((4800, 4800, 3), np.uint8)  # large enough for the parallel path
    for style in (Style.PIXELATE, Style.FILL):
        mask_bgr(big, [[0, 0, 4800, 4800]], style)
    after = {d: len(d.signatures) for d in dispatchers}
    grown = [d.py_func.__name__ for d in dispatchers if after[d] != before[d]]
    assert not grown, f"compiled after warmup: {grown}"


def test_compile_flags_live_in_one_module() -> None:
    for path in KERNELS_DIR.glob("*.py"):
        if path.name == "_flags.py":
            continue
        text = path.read_text()
        for flag in ("cache=True", "nogil=True", "parallel=True", "fastmath="):
            assert flag not in text, (path.name, flag)


def test_cache_stamp_names_the_sources_it_was_compiled_from() -> None:
    import hashlib

    from redactor.kernels import _cache, plane

    cache = getattr(plane.plan, "_cache", None)
    if cache is None:
        pytest.skip("NUMBA_DISABLE_JIT: no cache")
    _cache.ensure_fresh()
    stamp = Path(cache.cache_path) / "redactor-kernels.stamp"
    if not stamp.exists():
        pytest.skip(f"cache folder {cache.cache_path} is not writable")
    digest = hashlib.sha256()
    for src in sorted(KERNELS_DIR.glob("*.py")):
        digest.update(src.name.encode() + b"\0" + src.read_bytes())
    assert stamp.read_text() == digest.hexdigest()
