"""memcpy for the kernels: one call per row instead of a loop.

A row of a face box is a few hundred bytes at a runtime length; LLVM's
vectorised loop for that spends much of its time in the scalar tail, where
libc's memcpy does the row in a handful of overlapping vector moves. In plain
Python (NUMBA_DISABLE_JIT) `copy_bytes` is a slice assignment; compiled code
gets the overload below, which emits llvm.memcpy (cacheable, unlike a ctypes call).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, overload


def copy_bytes(
    dst: npt.NDArray[np.uint8], d: int, src: npt.NDArray[np.uint8], s: int, n: int
) -> None:
    """dst[d:d+n] = src[s:s+n] for 1-D contiguous uint8 arrays that do not overlap there."""
    dst[d : d + n] = src[s : s + n]


def _memcpy_typer(typingctx: Any, dst: Any, d: Any, src: Any, s: Any, n: Any) -> Any:
    sig = types.void(dst, d, src, s, n)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        dst_v, d_v, src_v, s_v, n_v = args
        dst_a = context.make_array(signature.args[0])(context, builder, dst_v)
        src_a = context.make_array(signature.args[2])(context, builder, src_v)
        dptr = builder.gep(dst_a.data, [d_v])
        sptr = builder.gep(src_a.data, [s_v])
        cgutils.raw_memcpy(builder, dptr, sptr, n_v, 1)  # type: ignore[no-untyped-call]
        return context.get_dummy_value()

    return sig, codegen


_memcpy: Any = intrinsic(_memcpy_typer)


def copy_to_row(
    dst: npt.NDArray[np.uint8], y: int, d: int, src: npt.NDArray[np.uint8], s: int, n: int
) -> None:
    """dst[y, d:d+n] = src[s:s+n]: a 2-D uint8 plane's row, no view made (no refcounting)."""
    dst[y, d : d + n] = src[s : s + n]


def _memcpy_row_typer(typingctx: Any, dst: Any, y: Any, d: Any, src: Any, s: Any, n: Any) -> Any:
    sig = types.void(dst, y, d, src, s, n)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        dst_v, y_v, d_v, src_v, s_v, n_v = args
        dst_a = context.make_array(signature.args[0])(context, builder, dst_v)
        src_a = context.make_array(signature.args[3])(context, builder, src_v)
        row_stride = cgutils.unpack_tuple(builder, dst_a.strides, 2)[0]  # type: ignore[no-untyped-call]
        offset = builder.add(builder.mul(y_v, row_stride), d_v)
        dptr = builder.gep(dst_a.data, [offset])
        sptr = builder.gep(src_a.data, [s_v])
        cgutils.raw_memcpy(builder, dptr, sptr, n_v, 1)  # type: ignore[no-untyped-call]
        return context.get_dummy_value()

    return sig, codegen


_memcpy_row: Any = intrinsic(_memcpy_row_typer)


@overload(copy_to_row, inline="always")
def _copy_to_row_jit(dst: Any, y: Any, d: Any, src: Any, s: Any, n: Any) -> Any:
    ok = (
        isinstance(dst, types.Array)
        and dst.dtype == types.uint8
        and dst.ndim == 2
        and isinstance(src, types.Array)
        and src.dtype == types.uint8
        and src.ndim == 1
    )
    if not ok:
        return None

    def impl(dst: Any, y: Any, d: Any, src: Any, s: Any, n: Any) -> None:
        if n > 0:
            _memcpy_row(dst, y, d, src, s, n)

    return impl


@overload(copy_bytes, inline="always")
def _copy_bytes_jit(dst: Any, d: Any, src: Any, s: Any, n: Any) -> Any:
    ok = all(
        isinstance(a, types.Array) and a.dtype == types.uint8 and a.ndim == 1 for a in (dst, src)
    )
    if not ok:
        return None

    def impl(dst: Any, d: Any, src: Any, s: Any, n: Any) -> None:
        if n > 0:
            _memcpy(dst, d, src, s, n)

    return impl
