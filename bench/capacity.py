"""The capacity figure of this machine: the megapixels per second of live video one server
redacts within the latency budget, for `limits.capacity_mpx_s` (docs/scaling.md).

    python -m bench.capacity [--streams 1,2,3,4,5] [--frames 150] [--json out.json]

It runs bench.streams' sweeps (N cameras at once, opencv_vtest scaled, at the clip's rate)
at 720p and 1080p on a real server, takes the most streams each size served, and fits the
admission model: a stream costs its pixel rate plus a fixed overhead `o` (the work per
stream that does not grow with its pixels), and the server carries `C`:

    n_720 x (p_720 + o) = C = n_1080 x (p_1080 + o)

(where the two counts cannot separate `o`, o = 0 and C is the larger served load). `python
-m bench` reports the same fit from its own stream sweeps.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.server import ServerProcess
from redactor.data import data_dir

CLIP = "opencv_vtest.avi"
SIZES = {"720p": (1280, 720), "1080p": (1920, 1080)}


def fit(served: dict[str, tuple[float, int]]) -> dict[str, float] | None:
    """(capacity_mpx_s, stream_overhead_mpx_s) from {size: (Mpx/s of one stream, most
    streams served)}; None where no size served a stream."""
    points = sorted((p, n) for p, n in served.values() if n > 0)
    if not points:
        return None
    loads = [n * p for p, n in points]
    (p1, n1), (p2, n2) = points[0], points[-1]
    overhead = 0.0
    if len(points) > 1 and n1 != n2:
        overhead = max((n2 * p2 - n1 * p1) / (n1 - n2), 0.0)
    capacity = max(n * (p + overhead) for p, n in points) if overhead else max(loads)
    # rounded so that what was served still fits: capacity up, overhead down
    return {
        "capacity_mpx_s": math.ceil(capacity * 10) / 10,
        "stream_overhead_mpx_s": math.floor(overhead * 10) / 10,
    }


def from_report(report: dict[str, Any]) -> dict[str, Any] | None:
    """The fit from bench.streams sweeps as `python -m bench` keeps them (report["streams"])."""
    served: dict[str, tuple[float, int]] = {}
    for size, sweep in (report.get("streams") or {}).items():
        if not isinstance(sweep, dict) or "max_streams_served" not in sweep or size not in SIZES:
            continue
        w, h = SIZES[size]
        served[size] = (w * h * float(sweep["fps_source"]) / 1e6, int(sweep["max_streams_served"]))
    figure = fit(served)
    if figure is None:
        return None
    return {**figure, "from": {k: {"mpx_s": v[0], "streams": v[1]} for k, v in served.items()}}


def main(argv: list[str] | None = None) -> int:
    from bench.streams import sweep

    p = argparse.ArgumentParser(
        prog="python -m bench.capacity", description=__doc__.split("\n\n")[0]
    )
    p.add_argument("--streams", default="1,2,3,4,5", help="stream counts to try per size")
    p.add_argument("--frames", type=int, default=150, help="frames per stream")
    p.add_argument("--json", type=Path, help="write the sweeps and the fit here")
    args = p.parse_args(argv)
    root = data_dir()
    if root is None or not (root / "videos" / CLIP).is_file():
        print(
            f"bench.capacity: needs the shared data's videos/{CLIP} (REDACTOR_DATA)",
            file=sys.stderr,
        )
        return 2
    counts = [int(v) for v in args.streams.split(",")]
    sweeps: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        with ServerProcess(work / "server", work / "server.log", streams=max(counts)) as server:
            for size in SIZES:
                levels: list[int] = []

                def note(text: str) -> None:
                    print(f"  {text}", file=sys.stderr, flush=True)

                result = sweep(
                    server, root / "videos" / CLIP, size, counts, args.frames, False, note
                )
                levels = result["served_counts"]
                print(f"{size}: served {levels or 'none'}", file=sys.stderr)
                sweeps[size] = {k: v for k, v in result.items() if k != "levels"} | {
                    "levels": [
                        {k: v for k, v in lv.items() if k != "latencies_ms"}
                        for lv in result["levels"]
                    ]
                }
    figure = from_report({"streams": sweeps})
    out = {"streams": sweeps, "capacity": figure}
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))
    if figure is None:
        print("no size served even one stream: no capacity figure")
        return 1
    print(
        f"capacity: {figure['capacity_mpx_s']} Mpx/s, per-stream overhead "
        f"{figure['stream_overhead_mpx_s']} Mpx/s\n"
        f"[limits]\ncapacity_mpx_s = {figure['capacity_mpx_s']}\n"
        f"stream_overhead_mpx_s = {figure['stream_overhead_mpx_s']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
