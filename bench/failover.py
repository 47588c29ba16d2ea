"""Failover of live streams across replicas, measured: servers killed with SIGKILL under a
relay's stream, the gap in its output and the frames lost each time (docs/scaling.md).

    python -m bench.failover [--servers 4] [--kills 20] [--every 4.5] [--json out.json]

`--servers` real servers run on fixed loopback ports with the embedded defaults; one relay
streams opencv_vtest (640x360, 8 fps, at camera pace) over all of them with the relay's
client (round_robin). Every `--every` seconds the server carrying the stream is killed
with SIGKILL and started again on its port. The relay reopens the stream on another server:
the gap is from the last frame the dead server answered to the first the new one answered;
the frames lost are those that were in flight on the dead server (never passed on).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from bench.server import ServerProcess, free_port
from redactor.clients.client import RedactorClient
from redactor.clients.relay import RelayResult, relay
from redactor.data import data_dir

CLIP = "opencv_vtest.avi"
SIZE = (640, 360)
RATE = 8.0  # the clip (795 frames) then lasts 99 s: room for 20 kills
CLIP_FRAMES = 795


def run(servers: int, kills: int, every: float, work: Path, rate: float = RATE) -> dict[str, Any]:
    root = data_dir()
    if root is None or not (root / "videos" / CLIP).is_file():
        raise SystemExit(f"bench.failover: needs the shared data's videos/{CLIP} (REDACTOR_DATA)")
    addresses = [f"127.0.0.1:{free_port()}" for _ in range(servers)]
    procs: dict[str, ServerProcess] = {}

    def start(addr: str, n: int) -> ServerProcess:
        folder = work / addr.replace(":", "_")
        return ServerProcess(folder, folder / f"server{n}.log", listen=addr).start()

    def first(addr: str) -> None:
        procs[addr] = start(addr, 0)

    with ThreadPoolExecutor(servers) as pool:
        started = [pool.submit(first, a) for a in addresses]
    failed = [f.exception() for f in started if f.exception() is not None]
    if failed:
        for proc in procs.values():
            proc.stop()
        raise failed[0]  # type: ignore[misc]
    frames = min(int((kills + 2) * every * rate), CLIP_FRAMES)
    result = RelayResult()
    errors: list[BaseException] = []
    killed_at: list[float] = []
    restarts: list[threading.Thread] = []
    try:
        with RedactorClient(",".join(addresses)) as client:
            for _ in range(3 * servers):
                client.health()

            def stream() -> None:
                try:
                    relay(
                        client,
                        str(root / "videos" / CLIP),
                        size=SIZE,
                        rate=rate,
                        max_frames=frames,
                        camera="cam-1",
                        result=result,
                    )
                except BaseException as e:  # noqa: BLE001 - reported below
                    errors.append(e)

            t = threading.Thread(target=stream)
            t.start()
            time.sleep(every)
            for n in range(kills):
                if not t.is_alive() or not result.servers:
                    break
                victim = result.servers[-1]
                proc = procs[victim]
                if proc.proc is not None:
                    proc.proc.send_signal(signal.SIGKILL)
                    proc.proc.wait()
                killed_at.append(time.perf_counter())
                print(f"kill {n + 1}: {victim}", file=sys.stderr, flush=True)

                def again(addr: str = victim, k: int = n + 1) -> None:
                    procs[addr] = start(addr, k)

                r = threading.Thread(target=again)
                r.start()
                restarts.append(r)
                time.sleep(every)
            t.join()
    finally:
        for r in restarts:
            r.join()
        for proc in procs.values():
            proc.stop()
    if errors:
        raise errors[0]
    gaps = sorted(g * 1000 for g in result.gaps_s)
    return {
        "servers": servers,
        "kills": len(killed_at),
        "every_s": every,
        "rate_fps": rate,
        "frames_in": result.frames_in,
        "frames_out": result.frames_out,
        "frames_lost": result.lost,
        "lost_per_kill": result.lost / len(killed_at) if killed_at else 0.0,
        "streams": result.streams,
        "breaks": result.breaks,
        "gaps_ms": [round(g, 1) for g in gaps],
        "gap_ms_p50": statistics.median(gaps) if gaps else None,
        "gap_ms_max": max(gaps) if gaps else None,
        "gap_ms_mean": statistics.fmean(gaps) if gaps else None,
        "statuses": result.statuses,
        "load_1min_end": os.getloadavg()[0],
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m bench.failover", description=__doc__.split("\n\n")[0]
    )
    p.add_argument("--servers", type=int, default=4)
    p.add_argument("--kills", type=int, default=20)
    p.add_argument("--every", type=float, default=4.5, help="seconds between kills")
    p.add_argument("--rate", type=float, default=RATE, help="camera frame rate (the clip's frames)")
    p.add_argument("--json", type=Path)
    args = p.parse_args(argv)
    if args.servers < 2:
        print("bench.failover: needs at least 2 servers", file=sys.stderr)
        return 2
    print(f"load before: {os.getloadavg()[0]:.2f}", file=sys.stderr)
    with tempfile.TemporaryDirectory() as tmp:
        out = run(args.servers, args.kills, args.every, Path(tmp), args.rate)
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))
    print(
        f"{out['kills']} kills: gap p50 {out['gap_ms_p50']:.0f} ms, max {out['gap_ms_max']:.0f} ms; "
        f"{out['frames_lost']} frames lost ({out['lost_per_kill']:.1f} per kill), "
        f"{out['frames_out']}/{out['frames_in']} answered, statuses {out['statuses']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
