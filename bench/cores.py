"""How much faster N one-thread detector processes run together than one alone.

This is the machine's own ceiling for a local cluster of N one-thread workers:
the cores share caches and memory, so N processes rarely reach N times one.
`python -m bench.export --workers 1,2` is judged against it.

    python -m bench.cores --processes 2 --seconds 30 --json cores.json
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.export import hd_version
from redactor.data import data_dir


def _detect_for(profile: str, source: Path, seconds: float, start: Any) -> float:
    """Frames per second of `profile` on one 1080p frame, on this process's one thread."""
    import cv2

    from redactor.config import Config
    from redactor.detect.registry import ProfileDetector

    cv2.setNumThreads(1)
    cap = cv2.VideoCapture(str(source))
    ok, read = cap.read()
    if not ok:
        raise RuntimeError(f"cannot read a frame of {source}")
    frame = np.asarray(read, np.uint8)
    detector = ProfileDetector(profile, Config().detect.profiles[profile], None, 1, 0, False)
    detector.detect(frame)  # warm-up: sessions made, arenas sized
    start.wait()
    t0, n = time.perf_counter(), 0
    while time.perf_counter() - t0 < seconds:
        detector.detect(frame)
        n += 1
    return n / (time.perf_counter() - t0)


def run(processes: int, profile: str, seconds: float, source: Path) -> list[float]:
    """Each process's frames per second, all of them started together."""
    ctx = mp.get_context("spawn")
    with ctx.Manager() as manager:
        start = manager.Barrier(processes)
        with ctx.Pool(processes) as pool:
            jobs = [
                pool.apply_async(_detect_for, (profile, source, seconds, start))
                for _ in range(processes)
            ]
            return [j.get() for j in jobs]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.cores", description=__doc__.split("\n")[0])
    ap.add_argument("--processes", type=int, default=2, help="processes run together (default 2)")
    ap.add_argument("--seconds", type=float, default=30.0, help="seconds each run (default 30)")
    ap.add_argument("--profile", default="thorough", help="detection profile (default thorough)")
    ap.add_argument("--json", type=Path, help="write the result here")
    o = ap.parse_args(argv)
    root = data_dir()
    if root is None:
        print("no shared data (set REDACTOR_DATA): nothing to measure", file=sys.stderr)
        return 2
    source = hd_version(root / "videos" / "opencv_vtest.avi")
    load = os.getloadavg()[0]
    alone = run(1, o.profile, o.seconds, source)[0]
    together = run(o.processes, o.profile, o.seconds, source)
    speedup = sum(together) / alone
    result = {
        "profile": o.profile,
        "processes": o.processes,
        "alone_fps": round(alone, 4),
        "together_fps": [round(x, 4) for x in together],
        "speedup": round(speedup, 3),
        "load_1min_before": load,
    }
    print(
        f"{o.profile} on a 1080p frame, one thread per process: {alone:.3f} frames/s alone, "
        f"{sum(together):.3f} for {o.processes} together: {speedup:.2f}x (load before {load:.2f})"
    )
    if o.json:
        o.json.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
