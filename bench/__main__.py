"""`python -m bench` (or `redactor bench`): every benchmark part in one run, one report.

    python -m bench                 # the full run: says how long it expects to take, then runs
    python -m bench --quick         # a few minutes: small limits everywhere (what the tests run)
    python -m bench --out DIR       # write the report there instead of bench/results/<date>/

Parts, in order: masking kernels (bench.kernels); detection quality and speed
of the `realtime` and `thorough` profiles on the shared data's labelled faces
and plates (bench.eval); the peers on the same images (deface, OpenCV Haar);
live clips streamed through a real server with leaks counted against the
thorough reference (bench.live); 1, 2, 4 and 8 concurrent 720p and 1080p
streams (bench.streams: fps, p50/p95/p99 latency, server CPU and memory);
redactor-client, deface and the OpenCV baseline on the same clip (fps); exports
(bench.export). Without the shared data only the kernels run; the other
sections say why they are empty.

Writes report.json (every figure, the machine, the versions), report.md (the
summary) and plots/*.png to a dated folder under bench/results/ (git-ignored);
everything the parts print goes to bench.log beside them. The full run sets up
deface in bench/.peers/venv the first time (PyPI); --quick uses it only if it
is already there.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bench.server import ServerProcess

BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "results"
RECIPIENT = "police-112"  # routed to the default live policy (realtime profile)


class Skip(Exception):
    """A part that cannot run here (no shared data, a peer not installed): the reason goes in the report."""


@dataclass(frozen=True)
class Settings:
    eval_limit: int | None  # first N images of each labelled set (None = all)
    eval_frames: bool  # bench.eval's 720p/1080p frame timing
    live_all_clips: bool  # every clip of videos/ plus a 1080p one, or opencv_vtest only
    live_frames: int
    stream_counts: tuple[int, ...]
    stream_frames: int
    stream_leaks: (
        bool  # leak rate per level against the thorough reference (costs its run per size)
    )
    peer_clip_frames: int | None  # None = the whole clip
    export_frames: int | None
    deface_check_images: int
    setup_deface: bool
    kernels_quick: bool  # bench.kernels' short table, no re-detection


QUICK = Settings(
    eval_limit=4,
    eval_frames=False,
    live_all_clips=False,
    live_frames=10,
    stream_counts=(1, 2),
    stream_frames=20,
    stream_leaks=False,
    peer_clip_frames=20,
    export_frames=10,
    deface_check_images=0,
    setup_deface=False,
    kernels_quick=True,
)
FULL = Settings(
    eval_limit=None,
    eval_frames=True,
    live_all_clips=True,
    live_frames=60,
    stream_counts=(1, 2, 4, 8),
    stream_frames=150,
    stream_leaks=True,
    peer_clip_frames=None,
    export_frames=None,
    deface_check_images=5,
    setup_deface=True,
    kernels_quick=False,
)
CLIP = "opencv_vtest.avi"
LEAK_CROPS = "leaks"  # the report folder's PNGs of each live clip's leaks (bench/leak_crops.py)
CLIP_FRAMES = 795  # opencv_vtest.avi, for the estimate only
CLIP_FPS = 10.0


@dataclass
class Step:
    key: str
    title: str
    section: tuple[str, ...]  # where its figures (or its skip/error) go in the report
    estimate_s: float
    fn: Callable[[], Any]
    needs_server: bool = False


@dataclass
class Run:
    settings: Settings
    out: Path
    report: dict[str, Any]
    log: IO[str]
    data: Path | None
    server: ServerProcess | None = None
    bar: Any = None
    steps_done: list[dict[str, Any]] = field(default_factory=list)

    @property
    def work(self) -> Path:
        return self.out / "work"

    def address(self) -> str:
        return str(self.serving().address)

    def serving(self) -> ServerProcess:
        """The run's server, started on first use."""
        if self.server is None:
            from bench.server import ServerProcess

            self.server = ServerProcess(
                self.work / "server",
                self.out / "server.log",
                max(self.settings.stream_counts, default=0),
            ).start()
        return self.server

    def stop_server(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None

    def need_data(self) -> Path:
        if self.data is None:
            from redactor.data import DATA_ENV

            raise Skip(f"no shared data (set {DATA_ENV} or place it at ../shared/data)")
        return self.data

    def put(self, path: tuple[str, ...], value: Any) -> None:
        node = self.report
        for k in path[:-1]:
            node = node.setdefault(k, {})
        if isinstance(node.get(path[-1]), dict) and isinstance(value, dict):
            node[path[-1]].update(value)
        else:
            node[path[-1]] = value


# ------------------------------------------------------------------ the parts


def _items(run: Run, kind: str) -> list[Any]:
    from redactor.data import faces_csv, load_labels, plates_csv

    root = run.need_data()
    csv = faces_csv(root) if kind == "faces" else plates_csv(root)
    if csv is None:
        raise Skip(f"{kind}/ not found in {root}")
    items = load_labels(csv)
    return items[: run.settings.eval_limit] if run.settings.eval_limit else items


def _peer_clip(run: Run) -> tuple[Path, int]:
    """The clip every system runs on (cut to the first frames in a quick run)."""
    from bench.peers import clip_frames, cut

    src = run.need_data() / "videos" / CLIP
    if not src.is_file():
        raise Skip(f"{src} not found")
    info = run.report.setdefault("peers", {}).get("clip")
    if info and Path(info["path"]).is_file():
        return Path(info["path"]), int(info["frames"])
    n = run.settings.peer_clip_frames
    clip = cut(src, n, run.work / f"clip_{n}{src.suffix}") if n else src
    frames = clip_frames(clip)
    run.put(
        ("peers", "clip"),
        {"name": CLIP, "path": str(clip), "frames": frames, "cut_to_first_frames": n},
    )
    return clip, frames


def step_kernels(run: Run) -> dict[str, Any]:
    from bench import parts

    return parts.kernels(run.settings.kernels_quick)


def step_detection(run: Run, profile: str) -> dict[str, Any]:
    from bench import parts

    run.need_data()
    return parts.detection(profile, run.settings.eval_limit, run.settings.eval_frames)


def step_haar_images(run: Run) -> dict[str, Any]:
    from bench.peers import haar_images

    faces, plates = _items(run, "faces"), _items(run, "plates")
    run.put(("peers", "images"), {"faces": len(faces), "plates": len(plates)})
    return {"faces": haar_images(faces, "face"), "plates": haar_images(plates, "plate")}


def step_deface_images(run: Run) -> dict[str, Any]:
    from bench import peers

    faces = _items(run, "faces")
    if not peers.deface_ready():
        if not run.settings.setup_deface:
            raise Skip(
                f"deface is not set up in {peers.VENV} and this run does not install it "
                "(run `python -m bench.peers --setup` or a full run once)"
            )
        peers.setup_deface(run.out / "bench.log")
    versions = peers.peers_versions()
    run.put(
        ("peers", "environment"),
        {
            "venv": str(peers.VENV),
            "requirements": list(peers.DEFACE_REQUIREMENTS),
            "packages": versions,
        },
    )
    out: dict[str, Any] = {
        "version": versions.get("deface"),
        "faces": peers.deface_images(faces, run.work / "deface_images"),
    }
    n = run.settings.deface_check_images
    if n:
        out["check"] = peers.check_deface_masks(faces[:n], run.work / "deface_check")
    return out


def step_live(run: Run) -> dict[str, Any]:
    from bench import parts
    from bench.live import CAMERA_FPS, crops_path

    videos = run.need_data() / "videos"
    clips: list[tuple[Path, tuple[int, int] | None, float | None]] = [(videos / CLIP, None, None)]
    if run.settings.live_all_clips:
        clips = [
            (v, None, None) for v in sorted(videos.glob("*.avi")) + sorted(videos.glob("*.mp4"))
        ]
        clips.append((videos / CLIP, (1920, 1080), None))
        # and as a district camera sends it (the live goal is set at camera rate)
        clips.append((videos / CLIP, (1920, 1080), CAMERA_FPS))
    server = run.serving()
    results = []
    for path, size, rate in clips:
        if run.bar is not None:
            run.bar.set_postfix_str(
                f"{path.name} {'x'.join(map(str, size)) if size else ''}".strip()
            )
        crops = crops_path(run.out / LEAK_CROPS, path, size, rate, 1)
        try:
            result = parts.live_clip(server, path, size, run.settings.live_frames, rate, crops)
            result["leak_crops"] = str(crops.relative_to(run.out))
            results.append(result)
        except Exception as e:  # noqa: BLE001 - one clip failing keeps the others' figures
            traceback.print_exc()
            results.append(
                {
                    "clip": path.name,
                    "size": "x".join(map(str, size)) if size else "",
                    "error": f"{type(e).__name__}: {e}",
                }
            )
    return {"frames_per_clip": run.settings.live_frames, "clips": results}


def step_streams(run: Run, size: str) -> dict[str, Any]:
    from bench.streams import sweep

    clip = run.need_data() / "videos" / CLIP
    server = run.serving()

    def on_level(text: str) -> None:
        if run.bar is not None:
            run.bar.set_postfix_str(text)

    return sweep(
        server,
        clip,
        size,
        list(run.settings.stream_counts),
        run.settings.stream_frames,
        run.settings.stream_leaks,
        on_level,
    )


def step_redactor_clip(run: Run) -> dict[str, Any]:
    from redactor.clients.cli import redact_video
    from redactor.clients.client import RedactorClient

    clip, frames = _peer_clip(run)
    server = run.serving()
    with RedactorClient(server.address) as client, server.window() as window:
        stats = redact_video(
            client, clip, run.work / "redactor_out.mp4", RECIPIENT, "", "bench-file"
        )
    return {**stats, **window.result, "recipient": RECIPIENT, "clip_frames": frames}


def step_deface_clip(run: Run) -> dict[str, Any]:
    from bench import peers

    clip, frames = _peer_clip(run)
    if not peers.deface_ready():
        raise Skip(f"deface is not set up in {peers.VENV}")
    return peers.deface_clip(clip, frames, run.work / "deface_clip")


def step_haar_clip(run: Run) -> dict[str, Any]:
    from bench.peers import haar_clip

    clip, frames = _peer_clip(run)
    return haar_clip(clip, frames, run.work / "haar_clip")


def step_export(run: Run) -> dict[str, Any]:
    from bench import parts

    run.need_data()
    return parts.export(run.settings.export_frames, run.work / "export")


# ------------------------------------------------------------------ plan and estimate


def export_seconds(frames: int | None) -> float:
    """bench.export's own estimate of the run bench makes of it."""
    from bench import export as bench_export
    from bench import parts

    return 20 + bench_export.expected_seconds(parts.export_argv(frames))


def plan(run: Run) -> list[Step]:
    s = run.settings
    n_faces = s.eval_limit or 682  # the shared data's counts, for the rough estimate only
    n_plates = s.eval_limit or 355
    clip = s.peer_clip_frames or CLIP_FRAMES
    live_clips = 6 if s.live_all_clips else 1
    levels = len(s.stream_counts)
    return [
        Step(
            "kernels",
            "masking kernels",
            ("kernels",),
            20 if s.kernels_quick else 300,
            lambda: step_kernels(run),
        ),
        Step(
            "detection.realtime",
            "detection: realtime profile",
            ("detection", "realtime"),
            10 + 0.25 * (n_faces + n_plates) + (60 if s.eval_frames else 0),
            lambda: step_detection(run, "realtime"),
        ),
        Step(
            "detection.thorough",
            "detection: thorough profile",
            ("detection", "thorough"),
            15 + 1.2 * (n_faces + n_plates) + (120 if s.eval_frames else 0),
            lambda: step_detection(run, "thorough"),
        ),
        Step(
            "peers.haar.images",
            "OpenCV baseline on the images",
            ("peers", "opencv_haar"),
            2 + 0.1 * n_faces + 0.4 * n_plates,
            lambda: step_haar_images(run),
        ),
        Step(
            "peers.deface.images",
            "deface on the images",
            ("peers", "deface"),
            (90 if s.setup_deface else 0) + 5 + 0.3 * n_faces + 2 * s.deface_check_images,
            lambda: step_deface_images(run),
        ),
        Step(
            "live",
            "live clips (leaks vs thorough)",
            ("live",),
            20 + live_clips * s.live_frames * (1 / CLIP_FPS + 1.0),
            lambda: step_live(run),
            needs_server=True,
        ),
        Step(
            "streams.720p",
            "concurrent 720p streams",
            ("streams", "720p"),
            10
            + levels * (3 + s.stream_frames / CLIP_FPS)
            + (1.0 * s.stream_frames if s.stream_leaks else 0),
            lambda: step_streams(run, "720p"),
            needs_server=True,
        ),
        Step(
            "streams.1080p",
            "concurrent 1080p streams",
            ("streams", "1080p"),
            15
            + levels * (3 + s.stream_frames / CLIP_FPS)
            + (2.0 * s.stream_frames if s.stream_leaks else 0),
            lambda: step_streams(run, "1080p"),
            needs_server=True,
        ),
        Step(
            "peers.redactor.clip",
            "redactor-client on the clip",
            ("peers", "redactor_clip"),
            5 + clip / 8,
            lambda: step_redactor_clip(run),
            needs_server=True,
        ),
        Step(
            "peers.deface.clip",
            "deface CLI on the clip",
            ("peers", "deface", "clip"),
            5 + clip / 4,
            lambda: step_deface_clip(run),
        ),
        Step(
            "peers.haar.clip",
            "OpenCV baseline on the clip",
            ("peers", "opencv_haar", "clip"),
            2 + clip / 10,
            lambda: step_haar_clip(run),
        ),
        Step(
            "export",
            "exports (speed, leaks, CPU per video second)",
            ("export",),
            export_seconds(s.export_frames),
            lambda: step_export(run),
        ),
    ]


def previous_timings(
    results: Path, settings: Settings, exclude: Path
) -> tuple[dict[str, float], str | None]:
    """Step seconds from the newest earlier report with the same settings, and its folder's name."""
    reports = sorted(results.glob("*/report.json"), key=lambda p: p.stat().st_mtime, reverse=True)
    for path in reports:
        if path.parent == exclude:
            continue
        try:
            doc = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if doc.get("settings") == asdict(settings):
            return {
                s["key"]: float(s["seconds"])
                for s in doc.get("steps", [])
                if s.get("status") == "ok"
            }, path.parent.name
    return {}, None


# ------------------------------------------------------------------ running


@contextlib.contextmanager
def _output_to(log: IO[str]) -> Iterator[None]:
    """Everything printed meanwhile goes to the log: Python's streams and file descriptors 1 and 2
    (native libraries such as MediaPipe and FFmpeg write there directly)."""
    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    try:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
            yield
    finally:
        log.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in saved:
            os.close(fd)


def _run_step(run: Run, step: Step) -> str:
    t0 = time.perf_counter()
    status = "ok"
    try:
        with _output_to(run.log):
            print(
                f"\n===== {step.title} ({datetime.now().isoformat(timespec='seconds')})", flush=True
            )
            try:
                result = step.fn()
                run.put(step.section, result)
            except Skip as e:
                status = f"skipped: {e}"
                run.put(step.section, {"skipped": str(e)})
            except Exception as e:  # noqa: BLE001 - one failed part must not lose the others' figures
                traceback.print_exc()
                status = f"failed: {type(e).__name__}: {e}"
                run.put(step.section, {"error": f"{type(e).__name__}: {e}"})
            run.log.flush()
    finally:
        run.steps_done.append(
            {
                "key": step.key,
                "title": step.title,
                "seconds": time.perf_counter() - t0,
                "status": status.split(":")[0] if status != "ok" else "ok",
                "detail": status,
            }
        )
    return status


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__.split("\n\n", 1)[1],
    )
    ap.add_argument(
        "--quick", action="store_true", help="a run of a few minutes with small limits everywhere"
    )
    ap.add_argument("--out", type=Path, help="report folder (default: bench/results/<date>)")
    ap.add_argument(
        "--limit", type=int, help="first N labelled images of each set (default: all; quick: 4)"
    )
    ap.add_argument(
        "--streams", help="concurrent stream counts, e.g. 1,2,4,8 (default: 1,2,4,8; quick: 1,2)"
    )
    ap.add_argument(
        "--no-peers-setup",
        action="store_true",
        help="never install deface (it is then skipped where not already set up)",
    )
    ap.add_argument(
        "--plan", action="store_true", help="print the steps and the expected time, run nothing"
    )
    args = ap.parse_args(argv)

    settings = QUICK if args.quick else FULL
    if args.limit is not None:
        settings = replace(settings, eval_limit=args.limit or None)
    if args.streams:
        settings = replace(settings, stream_counts=tuple(int(v) for v in args.streams.split(",")))
    if args.no_peers_setup:
        settings = replace(settings, setup_deface=False)
    mode = "quick" if args.quick else "full"
    started = datetime.now()
    out = args.out or RESULTS / (
        started.strftime("%Y-%m-%d_%H%M%S") + ("_quick" if args.quick else "")
    )

    from bench.machine import machine_info
    from bench.report import write, write_partial
    from redactor.data import data_dir, repo_root
    from redactor.detect.threads import usable_cpus

    # the progress bar and these notes keep the terminal; the parts' output goes to bench.log
    progress_out = os.fdopen(os.dup(sys.stderr.fileno()), "w", buffering=1)
    run = Run(settings, out, {}, progress_out, data_dir())
    steps = plan(run)
    previous, source = previous_timings(RESULTS if args.out is None else out.parent, settings, out)
    for st in steps:
        st.estimate_s = previous.get(st.key, st.estimate_s)
    expected = sum(st.estimate_s for st in steps)
    basis = (
        f"the last {mode} run with these settings ({source})"
        if source
        else "a rough guess per image and frame (no earlier run with these settings here)"
    )
    print(
        f"bench: {mode} run, {len(steps)} steps, expected about {expected / 60:.0f} min ({basis}); "
        f"load now {os.getloadavg()[0]:.1f} on {usable_cpus()} cores",
        file=progress_out,
        flush=True,
    )
    if args.plan:
        for st in steps:
            print(f"  {st.estimate_s / 60:6.1f} min  {st.title}", file=progress_out)
        progress_out.close()
        return 0
    print(f"bench: writing to {out}", file=progress_out, flush=True)
    out.mkdir(parents=True, exist_ok=True)
    with (out / "bench.log").open("a") as log:
        run.log = log
        run.report.update(
            {
                "schema": 1,
                "mode": mode,
                "command": " ".join(["python -m bench", *(sys.argv[1:] if argv is None else argv)]),
                "started": started.isoformat(timespec="seconds"),
                "settings": asdict(settings),
                "data_dir": str(run.data) if run.data else None,
                "machine": machine_info(repo_root()),
                "expected_seconds": expected,
                "expected_basis": basis,
            }
        )
        from tqdm import tqdm

        failed = False
        t0 = time.perf_counter()
        try:
            with tqdm(
                total=len(steps),
                unit="step",
                file=progress_out,
                dynamic_ncols=True,
                bar_format="{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}] {postfix}",
            ) as bar:
                run.bar = bar
                for i, st in enumerate(steps):
                    left = sum(s.estimate_s for s in steps[i:])
                    bar.set_description(st.title)
                    bar.set_postfix_str(f"~{left / 60:.0f} min left")
                    status = _run_step(run, st)
                    failed |= status.startswith("failed")
                    if run.server is not None and not any(s.needs_server for s in steps[i + 1 :]):
                        run.stop_server()
                    run.report["steps"] = run.steps_done
                    write_partial(run.report, out)
                    bar.update(1)
                bar.set_postfix_str("done")
        finally:
            run.stop_server()
            run.report["steps"] = run.steps_done
            run.report["seconds"] = time.perf_counter() - t0
            run.report["finished"] = datetime.now().isoformat(timespec="seconds")
            run.report["load_1min_end"] = os.getloadavg()[0]
            for name in ("kernels", "detection", "live", "streams", "export", "peers"):
                run.report.setdefault(name, {"skipped": "not run (the run stopped before it)"})
            json_path, md_path = write(run.report, out)
            (out / "report.partial.json").unlink(missing_ok=True)
    print(
        f"bench: {md_path}\nbench: {json_path}\nbench: plots in {out / 'plots'}", file=progress_out
    )
    if failed:
        print("bench: some parts failed; see the Steps table and bench.log", file=progress_out)
    progress_out.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
