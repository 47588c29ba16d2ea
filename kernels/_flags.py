"""Compile flags and tuning constants of every kernel, in one place.

`cache=True`: compiled code is kept beside the sources, so a server start loads
it instead of compiling. `nogil=True`: several streams mask at once.
`error_model="numpy"`: no Python exception checks in the inner loops (every
divisor is a non-empty count). No fastmath: the kernels must give the same
bits as their NumPy references.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, TypeVar, cast

from numba import njit

JIT: Final[dict[str, Any]] = {
    "cache": True,
    "nogil": True,
    "fastmath": False,
    "error_model": "numpy",
    "boundscheck": False,
}
JIT_PARALLEL: Final[dict[str, Any]] = {**JIT, "parallel": True}

F = TypeVar("F", bound=Callable[..., Any])


def jit(fn: F) -> F:
    """Compiles `fn` with JIT (lazily, at its first call or at warmup)."""
    return cast(F, njit(**JIT)(fn))


def jit_inline(fn: F) -> F:
    """Like `jit`, and inlined into its callers by Numba itself: for small helpers
    called per row, where a call costs as much as the row's work."""
    return cast(F, njit(**JIT, inline="always")(fn))


def jit_parallel(fn: F) -> F:
    """Compiles `fn` with JIT_PARALLEL: its `prange` loops run on Numba's threads."""
    return cast(F, njit(**JIT_PARALLEL)(fn))


# Pixelate: the smallest block side in px (1 would leave pixels untouched).
MIN_BLOCK: Final = 2
# Strong blur: box passes of the same radius (3 passes approximate a Gaussian).
STRONG_PASSES: Final = 3
# Blur radius cap in px: (2r+1)^2 * 255 stays in int32 (the window sums).
MAX_RADIUS: Final = 1450
# Feathered edges blend in 1/ALPHA_ONE steps (integer blend, exact).
ALPHA_ONE: Final = 256

# Work split: a task masks about this many bytes of a box (whole rows; whole
# block rows for pixelate; a whole box for blur). Small enough to balance
# threads on one big box, large enough that a task costs far more than its set-up.
BAND_BYTES: Final = 1 << 16
# Work from which one call runs its tasks on both cores, in bytes masked times a
# cost per byte (below). A parallel region costs a scheduler slice when a worker
# waits for a busy core, so only calls whose serial time is several milliseconds
# go parallel: face-sized blurs do, pixelated faces below 4K do not (see
# docs/kernels.md#when-a-call-goes-parallel).
PARALLEL_MIN_WORK: Final = 1 << 25
# Cost per masked byte against pixelate. A blur task is a whole box, so its weight
# decides whether face-sized blurs go parallel (they should: docs/kernels.md).
WORK_PER_BYTE: Final = {"pixelate": 1, "fill": 1, "blur_pass": 24}
