"""The kernels run as plain Python too (NUMBA_DISABLE_JIT=1), with the same results.

That is how a kernel is debugged, and it proves the references compare against
the source as written, not against something only the compiler made of it.
A subprocess runs the small cases, since Numba reads the variable at import.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SUBSET = "small or chroma or round or empty or fill_leaves or bad_input or overlapping"


def test_small_cases_pass_with_jit_disabled() -> None:
    env = {**os.environ, "NUMBA_DISABLE_JIT": "1"}
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-x",
        "-p",
        "no:cacheprovider",
        "-k",
        SUBSET,
        "tests/kernels/test_reference.py",
        "tests/kernels/test_semantics.py",
        "tests/kernels/test_api.py",
    ]
    run = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert " passed" in run.stdout and "deselected" in run.stdout
