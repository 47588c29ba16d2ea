"""Masking kernels: pure functions over NumPy arrays, Numba-compiled, in place, many
boxes per call. No I/O (beyond Numba's compile cache), no config objects, no
imports from redactor outside this package.

Families: pixelate.py, blur.py, fill.py (what a region becomes), shapes.py (where
it lands: rectangle or ellipse, feathered or not), yuv.py (4:2:0 geometry and
colour), plane.py (planning, waves of disjoint boxes, parallel execution),
api.py (the public functions and their validation). Compile flags and tuning
constants: _flags.py; row memcpy: _memops.py; cache invalidation: _cache.py.
Each kernel has a slow NumPy reference beside it; reference.py assembles them
for the tests. Benchmark: `python -m bench.kernels`.
"""

from __future__ import annotations

from redactor.kernels.api import Style, mask_bgr, mask_i420, mask_nv12, warmup
from redactor.kernels.yuv import bgr_to_yuv

__all__ = ["Style", "bgr_to_yuv", "mask_bgr", "mask_i420", "mask_nv12", "warmup"]
