"""Live streams, measured: leak rate, fps and latency, and how many streams fit.

    python -m bench.live [--frames 200] [--streams 1,2,4] [--fps 25] [--quick]

For each clip in the shared data's videos/ (and a 1080p version of opencv_vtest,
at its own 10 fps and as a 25 fps camera would send its frames):
the frames a camera would send (low-latency H.264, as redactor-relay sends them)
are first run through the `thorough` profile one by one: that is the reference.
Then the same clip is streamed live at its own frame rate through a real server
(`redactor serve`, in a process of its own, as operators run it) on loopback.
A leak is a reference face or plate (from a class the policy masks) that the
live masks of that frame cover less than 80%: over the whole stream, and from
its 5th second on (a stream's start-up has no detection and no sweep yet; a
camera's stream lasts hours). The masked share says what it cost. Latency p99
is given both ways too: over 500 frames, the five slowest decide it, and a
stream's first frames wait for its first detection.

What the masks cost the picture (bench/live_metrics.py): the masked share of the
frames that carry picture against the oracle's (reference boxes grown by the policy's
enlargement), the share masked far from any reference box, how much of each person's
body (OpenCV HOG boxes on the original frames) stays visible, and how long a stream
starts fully masked.

Beside it, the detector's own share: the live policy's profile run offline on
every frame, with all the time it needs, masked as the policy masks. Leaks there
are the detector's misses; the rest of the live leak rate is what the live path
adds (detection on a cadence, tracking between detections, latency).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, cast, overload

import av
import numpy as np
import numpy.typing as npt

from bench import live_metrics as lm
from bench.cache import CACHE, cache_key, identity
from bench.eval_score import box_mask
from bench.leak_crops import Image, gallery, pick_frames
from bench.leak_crops import spread as crops_spread
from bench.leak_crops import write as write_png
from bench.live_people import people
from bench.sent import sent_frames
from bench.server import ServerProcess
from redactor.clients.client import RedactorClient
from redactor.clients.relay import RelayResult, relay
from redactor.config import Config, MotionConfig, load_config
from redactor.data import data_dir
from redactor.detect.registry import ProfileDetector
from redactor.models import MODELS
from redactor.pipeline.background import BackgroundModel
from redactor.pipeline.masking import masks_for
from redactor.policy import PolicyRouter
from redactor.types import Frame, Label

# Mask boxes of each answered frame, by sequence number (RelayResult.masks)
FrameBoxes = Mapping[int, Sequence[Sequence[float]]]

COVER = 0.8
CAMERA_FPS = 25.0  # a district camera's rate: the 1080p run of opencv_vtest is also played at it
WARMUP_S = 5.0  # video seconds a stream's start-up lasts, for the steady-state leak rate
BUDGET_MS = 200  # the relay hub's latency budget per frame (issue 5's p99 goal), sent in the header
CLASSES = {int(Label.FACE), int(Label.PLATE)}  # what the default live policy masks
RECIPIENT = "police-112"  # the relay's own default: routed to the default live policy


@dataclass
class ClipResult:
    clip: str
    size: str
    frames: int
    fps_source: float
    fps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    reference_objects: int
    leaks: int
    leak_rate: float
    statuses: dict[str, int]
    reasons: dict[str, int]  # status_reason -> frames (numbers as N)
    detector_leaks: int  # the live profile on every frame, offline: its own misses
    detector_leak_rate: float
    masked_share: (
        float  # mean share of a returned frame's pixels under live masks (fully masked = 1)
    )
    # the same leak rate over the frames from WARMUP_S of video on: a stream's first
    # seconds have no detection and no sweep yet, a camera's stream lasts hours
    steady_objects: int = 0
    steady_leaks: int = 0
    steady_leak_rate: float = 0.0
    steady_p99_ms: float = (
        0.0  # latency p99 from WARMUP_S on (a stream's start-up decides the whole p99)
    )
    # What the masks cost the picture (issue 24; bench/live_metrics.py). masked_share above
    # counts a fully masked frame as 1; this is over the frames that carry picture only.
    redacted_frames: int = 0  # past the start's mosaic (no START box)
    masked_share_redacted: float = 0.0
    oracle_enlarge: float = 0.0  # the route's policy enlargement, applied to the reference
    oracle_share: float = 0.0  # mean share under the reference boxes grown by it
    masked_over_oracle: float | None = None  # masked_share_redacted / oracle_share
    far_share: float = 0.0  # masked beyond the reference boxes grown FAR, on redacted frames
    person_boxes: int = 0  # HOG person boxes on the original frames
    body_visible: float | None = None  # their lower 75% left unmasked (no picture = 0)
    start_fully_masked: int = 0  # frames before the first REDACTED one
    start_s: float = 0.0  # the same at the stream's rate
    # frames before the first one masked by the policy alone (after the start's coarse mosaic)
    start_coarse: int = 0
    start_coarse_s: float = 0.0
    # frames before the first one with no block of that mosaic (its moving blocks may show
    # before: live.sweep.first_moving_share)
    start_mosaic: int = 0
    start_mosaic_s: float = 0.0
    # of the redacted frames on which something moved, those the server masked with their own
    # look (live.look): under 1 where looks did not fit the CPU and the full band masked more;
    # None where not read
    looked_share: float | None = None
    # frames with picture under the start's mosaic (its moving blocks shown), and their
    # mean masked share (mosaic included); None where there were none
    mosaic_frames: int = 0
    mosaic_share: float | None = None
    # Where the leaks are (bench/live_metrics.py leaks_of): on ground the server's motion
    # model saw move, on still ground, and centred on a person's body below the head
    leaks_moving: int = 0
    leaks_still: int = 0
    leaks_on_bodies: int = 0
    # bodies visible with only the masks holding a reference box (live_metrics.on_objects):
    # the rest of body_visible's loss is masking where the reference found nothing
    body_visible_on_objects: float | None = None
    # The reference's faces and plates, and how many of each leaked: its text reads count
    # as plates, on a walker's sheet of paper as on a car (docs/benchmarks.md)
    face_objects: int = 0
    face_leaks: int = 0
    plate_objects: int = 0
    plate_leaks: int = 0
    # What hides the bodies: points of body_visible per source of masks, beyond the others
    # (live_metrics.body_cost); empty where no person was found
    body_cost: dict[str, float] = field(default_factory=dict)
    run: int = 1  # which of --repeat's runs of this clip

    @property
    def name(self) -> str:
        """The clip, and which run of it past the first (--repeat)."""
        return self.clip if self.run == 1 else f"{self.clip} (run {self.run})"


@dataclass(frozen=True)
class Reference:
    """The thorough profile's boxes on every frame the relay sends, of the classes the
    policy masks (`boxes[seq]`, xyxy), each box's label and score, and the live policy's
    stream profile masks on the same frames, offline (`offline[seq]`, empty if not asked)."""

    boxes: list[np.ndarray]
    labels: list[np.ndarray]
    scores: list[np.ndarray]
    offline: list[np.ndarray]

    def count(self, label: Label) -> int:
        """Reference objects of one class, over every frame."""
        return sum(int((lab == int(label)).sum()) for lab in self.labels)


# Cached references are named by this too: a change of what a cached file holds makes the
# files of before misses rather than wrong (2: labels and scores beside the boxes).
REFERENCE_FORMAT = 2


def reference(
    source: str,
    size: tuple[int, int] | None,
    frames: int,
    offline: bool = True,
    rate: float | None = None,
) -> Reference:
    """Per frame, on exactly the frames the relay sends: the thorough boxes (the
    reference), their classes and scores, and, if `offline`, the masks of the live
    policy's stream profile run on every frame (see Reference).

    Cached under bench/results/cache/, keyed by everything it depends on (the clip file,
    size, rate and frame count, both profiles, the policy and the model files): the
    thorough reference of 150 1080p frames costs minutes."""
    cfg = Config()
    policy = cfg.policy.policies[cfg.policy.default_policy]
    name = cache_key(
        identity(source),
        size,
        frames,
        rate,
        offline,
        cfg.detect.profiles["thorough"].model_dump(mode="json"),
        cfg.detect.profiles[policy.stream_profile].model_dump(mode="json"),
        policy.model_dump(mode="json", include={"classes", "enlarge", "profile"}),
        policy.stream_profile,
        model_hashes(),
        REFERENCE_FORMAT,
    )
    cached = CACHE / f"live_reference_{name}.npz"
    if cached.exists():
        with np.load(cached) as z:
            n = int(z["n"])
            return Reference(
                [z[f"ref{i}"] for i in range(n)],
                [z[f"lab{i}"] for i in range(n)],
                [z[f"score{i}"] for i in range(n)],
                [z[f"off{i}"] for i in range(n)] if offline else [],
            )
    r = _reference(cfg, source, size, frames, offline, rate)
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_suffix(".tmp.npz")
    arrays: dict[str, Any] = {
        "n": len(r.boxes),
        **{f"ref{i}": b for i, b in enumerate(r.boxes)},
        **{f"lab{i}": b for i, b in enumerate(r.labels)},
        **{f"score{i}": b for i, b in enumerate(r.scores)},
        **{f"off{i}": o for i, o in enumerate(r.offline)},
    }
    np.savez_compressed(tmp, **arrays)
    tmp.replace(cached)
    return r


def model_hashes() -> list[str]:
    """The pinned sha256 of every model (a model file is used only if it matches)."""
    return sorted(f"{m.name}:{m.sha256}" for m in MODELS.values())


def _reference(
    cfg: Config,
    source: str,
    size: tuple[int, int] | None,
    frames: int,
    offline: bool,
    rate: float | None,
) -> Reference:
    policy = cfg.policy.policies[cfg.policy.default_policy]
    det = ProfileDetector(
        "thorough", cfg.detect.profiles["thorough"], cfg.models.dir, cfg.detect.threads
    )
    profile = policy.stream_profile
    live = ProfileDetector(
        profile, cfg.detect.profiles[profile], cfg.models.dir, cfg.detect.threads
    )
    out = Reference([], [], [], [])
    try:
        for bgr in sent_frames(source, size, frames, rate):
            d = det.detect(bgr)
            kept = np.isin(d.labels, list(CLASSES))
            out.boxes.append(d.boxes[kept])
            out.labels.append(np.asarray(d.labels[kept], np.int8))
            out.scores.append(np.asarray(d.scores[kept], np.float32))
            if offline:
                h, w = bgr.shape[:2]
                out.offline.append(masks_for(live.detect(bgr), policy, w, h).boxes)
    finally:
        det.close()
        live.close()
    return out


def leaks(
    ref: list[np.ndarray],
    masks: FrameBoxes | list[np.ndarray],
    width: int,
    height: int,
    first: int = 0,
) -> tuple[int, int]:
    """(reference objects, those covered less than COVER by the masks of their frame),
    over the frames from `first` on. A frame without masks in `masks` (dropped, not
    returned) left nothing, so leaked nothing."""
    objects = missed = 0
    for seq, boxes in enumerate(ref):
        if not len(boxes) or seq < first:
            continue
        objects += len(boxes)
        if isinstance(masks, Mapping) and seq not in masks:
            continue
        missed += int(lm.missed(boxes, masks[seq], width, height, COVER).sum())
    return objects, missed


def masked_share(masks: FrameBoxes, width: int, height: int) -> float:
    """Mean share of the returned frames' pixels that the live masks cover: a leak rate
    means little without it (masking everything leaks nothing)."""
    shares = [
        float(box_mask(np.array(m, np.float32).reshape(-1, 4), width, height).mean())
        for m in masks.values()
    ]
    return float(np.mean(shares)) if shares else 0.0


def run_clip(
    address: str,
    path: Path,
    size: tuple[int, int] | None,
    frames: int,
    rate: float | None = None,
    looked: Callable[[], tuple[float, float]] | None = None,
    motion: MotionConfig | None = None,
    crops: Path | None = None,
    camera: str = "relay",
) -> ClipResult:
    """One clip, live at its own frame rate or as a camera of frame rate `rate`. `looked`
    reads the server's counts of frames on which something moved and of those masked with
    their own look (one stream at a time); `motion` is the server's motion model (what is
    moving ground for the leaks' places; default: the embedded one). With `crops`, a PNG
    of its leaks is written there (bench/leak_crops.py). `camera` is the stream's camera id:
    a camera streamed before starts from what its last stream swept (live.sweep.remember_s)."""
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        w, h = size or (s.codec_context.width, s.codec_context.height)
        fps = rate or float(s.average_rate or 25)
    reference_set = reference(str(path), size, frames, rate=rate)
    ref, offline = reference_set.boxes, reference_set.offline
    persons = people(str(path), size, frames, rate)
    moving = moving_ground(str(path), size, frames, rate, ref, motion or Config().live.motion)
    counts_before = looked() if looked is not None else (0.0, 0.0)
    output = None
    if crops is not None:  # the relay writes its answers beside the PNG-to-be
        crops.parent.mkdir(parents=True, exist_ok=True)
        output = crops.with_suffix(".h264")
    with RedactorClient(address) as client:
        live = relay(
            client,
            str(path),
            recipient=RECIPIENT,
            size=size,
            realtime=True,
            max_frames=frames,
            keep_masks=True,
            preencode=True,
            rate=rate,
            budget_ms=BUDGET_MS,
            output=output,
            camera=camera,
        )
    objects, missed = leaks(ref, live.masks, w, h)
    _, missed_offline = leaks(ref, offline, w, h)
    first = round(WARMUP_S * fps)
    steady, steady_missed = leaks(ref, live.masks, w, h, first=first)
    enlargement = PolicyRouter(Config().policy).for_recipient(RECIPIENT).policy.enlarge
    redacted = lm.redacted_frames(live.masks, w, h, live.first_redacted)
    # the policy's masks alone; the frames whose moving blocks showed through the start's
    # mosaic count for bodies and the start, their mosaic's share apart
    policy_only = lm.past_mosaic(redacted, live.mask_reasons)
    masked_redacted = lm.mean_share(policy_only, w, h)
    mosaic_frames = {s: m for s, m in redacted.items() if s not in policy_only}
    oracle = lm.oracle_share(ref, w, h, enlargement)
    visible, boxes = lm.body_visibility(persons, redacted, w, h)
    start, start_s = lm.start_without_picture(live.first_redacted, live.frames_in, fps)
    fine = lm.first_fine_picture(live.masks, w, h, live.first_redacted)
    coarse, coarse_s = lm.start_without_picture(fine, live.frames_in, fps)
    swept = lm.first_without_mosaic(live.masks, live.mask_reasons, w, h, live.first_redacted)
    mosaic, mosaic_s = lm.start_without_picture(swept, live.frames_in, fps)
    found = lm.leaks_of(ref, live.masks, moving, persons, w, h, COVER, reference_set.labels)
    on_moving, on_still, on_body = lm.places(found)
    if crops is not None and output is not None:
        try:
            leak_crops(crops, str(path), size, frames, rate, found, live, output)
        finally:
            output.unlink(missing_ok=True)
    visible_on_objects, _ = lm.body_visibility(persons, lm.on_objects(redacted, ref), w, h)
    looked_share = None
    if looked is not None:
        counts = looked()
        moved = counts[0] - counts_before[0]
        looked_share = (counts[1] - counts_before[1]) / moved if moved else None
    return ClipResult(
        path.name,
        f"{w}x{h}",
        live.frames_out,
        fps,
        live.fps,
        live.percentile(50),
        live.percentile(95),
        live.percentile(99),
        objects,
        missed,
        missed / objects if objects else 0.0,
        live.statuses,
        live.reasons,
        missed_offline,
        missed_offline / objects if objects else 0.0,
        masked_share(live.masks, w, h),
        steady,
        steady_missed,
        steady_missed / steady if steady else 0.0,
        live.percentile(99, first),
        len(policy_only),
        masked_redacted,
        enlargement,
        oracle,
        masked_redacted / oracle if oracle and policy_only else None,
        lm.far_share(policy_only, ref, w, h),
        boxes,
        visible,
        start,
        start_s,
        coarse,
        coarse_s,
        mosaic,
        mosaic_s,
        looked_share,
        len(mosaic_frames),
        lm.mean_share(mosaic_frames, w, h) if mosaic_frames else None,
        on_moving,
        on_still,
        on_body,
        visible_on_objects,
        reference_set.count(Label.FACE),
        lm.of_class(found, int(Label.FACE)),
        reference_set.count(Label.PLATE),
        lm.of_class(found, int(Label.PLATE)),
        lm.body_cost(persons, redacted, live.mask_reasons, w, h),
    )


def leak_crops(
    target: Path,
    source: str,
    size: tuple[int, int] | None,
    frames: int,
    rate: float | None,
    found: Sequence[lm.Leak],
    live: RelayResult,
    output: Path,
) -> None:
    """The PNG of a stream's leaks at `target`: the frames as sent, and the relay's output
    (`output`, raw H.264 of the frames in `live.output_seqs`) at the same places."""
    seqs = {leak.seq for leak in crops_spread(found)}
    sent = pick_frames(sent_frames(source, size, frames, rate), seqs)
    index = {i: seq for i, seq in enumerate(live.output_seqs) if seq in seqs}
    with av.open(str(output), format="h264") as c:
        pictures = (cast(Image, f.to_ndarray(format="bgr24")) for f in c.decode(video=0))
        decoded = pick_frames(pictures, set(index))
    answered = {index[i]: image for i, image in decoded.items()}
    title = target.stem
    write_png(target, gallery(found, sent, answered, live.masks, live.mask_reasons, title))


def moving_ground(
    source: str,
    size: tuple[int, int] | None,
    frames: int,
    rate: float | None,
    reference: Sequence[np.ndarray],
    motion: MotionConfig,
) -> list[npt.NDArray[np.bool_]]:
    """Per frame the relay sends, per reference box: whether the server's motion model
    (`motion`, fed the same frames in order) saw any of it move. Seconds even at 1080p."""
    model = BackgroundModel(motion)
    out: list[npt.NDArray[np.bool_]] = []
    for bgr in sent_frames(source, size, frames, rate):
        m = model.update(Frame.from_bgr(bgr))
        ref = reference[len(out)] if len(out) < len(reference) else np.zeros((0, 4), np.float32)
        out.append(m.moving_share(ref) > 0 if len(ref) else np.zeros(0, bool))
    return out


def looked_counts(server: ServerProcess) -> Callable[[], tuple[float, float]]:
    """run_clip's `looked`: the server's frames that moved, and those with their own look."""

    def read() -> tuple[float, float]:
        moving, looked = server.samples(
            "redactor_live_frames_moving_total", "redactor_live_frames_looked_total"
        )
        return moving, looked

    return read


def _or_dash(value: float | None, spec: str) -> str:
    """`value` formatted by `spec`, or "-" where it was not measured."""
    return "-" if value is None else format(value, spec)


def picture_table(rows: Sequence[ClipResult]) -> str:
    """What the masks cost the picture, per clip (issue 24): Markdown."""
    lines = [
        "| clip | size | masked, all frames | masked, redacted frames past the start's mosaic "
        "| oracle (reference "
        f"x enlarge) | redacted / oracle | masked beyond reference x{lm.FAR:g} "
        f"| person bodies visible (HOG boxes) | fully masked at start (no picture) "
        "| masked whole at start (coarse mosaic included) | still ground under the start's "
        "mosaic | masked with that mosaic, frames shown under it "
        "| frames that moved, with their own look |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        ratio = "-" if r.masked_over_oracle is None else f"{r.masked_over_oracle:.1f}x"
        lines.append(
            f"| {r.name} | {r.size} | {r.masked_share:.1%} | {r.masked_share_redacted:.1%} "
            f"({r.redacted_frames} frames) | {r.oracle_share:.2%} (x{r.oracle_enlarge:g}) | {ratio} "
            f"| {r.far_share:.1%} | {_or_dash(r.body_visible, '.0%')} ({r.person_boxes}) "
            f"| {r.start_fully_masked} of {r.frames} ({r.start_s:.1f} s) "
            f"| {r.start_coarse} ({r.start_coarse_s:.1f} s) "
            f"| {r.start_mosaic} ({r.start_mosaic_s:.1f} s) "
            f"| {_or_dash(r.mosaic_share, '.0%')} ({r.mosaic_frames}) "
            f"| {_or_dash(r.looked_share, '.0%')} |"
        )
    return "\n".join(lines)


def leak_table(rows: Sequence[ClipResult]) -> str:
    """Where each clip's leaks are, and what masking where the reference found nothing
    costs the bodies (issue 24): Markdown."""
    lines = [
        "| clip | size | leaks | faces leaked | plates leaked | on moving ground "
        "| on still ground | centred on a person's body "
        "| person bodies visible | ... with only the masks holding a reference box |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.name} | {r.size} | {r.leaks} "
            f"| {lm.of_objects(r.face_leaks, r.face_objects)} "
            f"| {lm.of_objects(r.plate_leaks, r.plate_objects)} | {r.leaks_moving} | {r.leaks_still} "
            f"| {r.leaks_on_bodies} | {_or_dash(r.body_visible, '.0%')} "
            f"| {_or_dash(r.body_visible_on_objects, '.0%')} |"
        )
    return "\n".join(lines)


def body_cost_table(rows: Sequence[ClipResult]) -> str:
    """What hides the bodies, per clip: points of the bodies' visible share per source of
    masks, beyond the others (issue 24): Markdown."""
    names = [name for name, _ in lm.SOURCES] + [lm.NO_PICTURE]
    lines = [
        "| clip | size | person bodies visible | " + " | ".join(names) + " |",
        "|---|---|---|" + "---|" * len(names),
    ]
    for r in rows:
        cells = [_or_dash(r.body_cost.get(n), ".1%") for n in names]
        lines.append(
            f"| {r.name} | {r.size} | {_or_dash(r.body_visible, '.0%')} | "
            + " | ".join(cells)
            + " |"
        )
    return "\n".join(lines)


SPREAD = (  # (column, ClipResult field, format of one value)
    ("leaks", "leaks", "{:.0f}"),
    ("leak rate", "leak_rate", "{:.2%}"),
    ("faces leaked", "face_leaks", "{:.0f}"),
    ("plates leaked", "plate_leaks", "{:.0f}"),
    ("on still ground", "leaks_still", "{:.0f}"),
    ("redacted / oracle", "masked_over_oracle", "{:.1f}x"),
    ("person bodies visible", "body_visible", "{:.0%}"),
    ("p99 ms", "p99_ms", "{:.0f}"),
    ("still ground under the start's mosaic, s", "start_mosaic_s", "{:.1f}"),
)


def spread_table(rows: Sequence[ClipResult]) -> str:
    """Per clip streamed more than once (--repeat): the median of each key figure, and its
    range over the runs. Markdown."""
    runs: dict[tuple[str, str], list[ClipResult]] = {}
    for r in rows:
        runs.setdefault((r.clip, r.size), []).append(r)
    head = " | ".join(name for name, _, _ in SPREAD)
    lines = [
        f"| clip | size | runs | {head} |",
        "|---|---|---|" + "---|" * len(SPREAD),
    ]
    for (clip, size), rs in runs.items():
        cells = []
        for _, key, fmt in SPREAD:
            values = [v for v in (getattr(r, key) for r in rs) if v is not None]
            if not values:
                cells.append("-")
                continue
            lo, mid, hi = min(values), float(np.median(values)), max(values)
            one = fmt.format
            cells.append(one(mid) if lo == hi else f"{one(mid)} ({one(lo)}-{one(hi)})")
        lines.append(f"| {clip} | {size} | {len(rs)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def run_name(path: Path, size: tuple[int, int] | None, rate: float | None) -> str:
    """How --clips names a run: CLIP, CLIP@WxH, CLIP@WxH@FPSfps."""
    name = path.name + (f"@{size[0]}x{size[1]}" if size else "")
    return name + (f"@{rate:g}fps" if rate else "")


def camera_id(
    path: Path, size: tuple[int, int] | None, rate: float | None, run: int, same: bool
) -> str:
    """The camera a run streams as: each run one of its own, streamed for the first time,
    or (`same`, --same-camera) one per clip, so its runs past the first start from what
    the last one swept (live.sweep.remember_s)."""
    return run_name(path, size, rate) + ("" if same else f"#{run}")


@overload
def crops_path(
    folder: Path, path: Path, size: tuple[int, int] | None, rate: float | None, run: int
) -> Path: ...
@overload
def crops_path(
    folder: None, path: Path, size: tuple[int, int] | None, rate: float | None, run: int
) -> None: ...
def crops_path(
    folder: Path | None, path: Path, size: tuple[int, int] | None, rate: float | None, run: int
) -> Path | None:
    """Where --leak-crops writes a run's PNG: named as --clips names the run, and its number
    past the first."""
    if folder is None:
        return None
    return folder / (run_name(path, size, rate) + ("" if run == 1 else f"-run{run}") + ".png")


def same_duration(path: Path, frames: int, rate: float | None) -> int:
    """Frames that a camera of frame rate `rate` sends in the time `frames` of the clip
    last at its own rate: the 25 fps run must not be shorter than the start-up
    (first detection, background model warm-up) it would otherwise mostly measure."""
    if rate is None:
        return frames
    with av.open(str(path)) as c:
        own = float(c.streams.video[0].average_rate or rate)
    return max(frames, round(frames * rate / own))


def concurrent(
    address: str, path: Path, size: tuple[int, int], n: int, frames: int
) -> dict[str, float]:
    """`n` streams at once, each a camera of its own not streamed before."""
    results: list[RelayResult] = []
    lock = threading.Lock()

    def one(i: int) -> None:
        with RedactorClient(address) as client:
            r = relay(
                client,
                str(path),
                size=size,
                realtime=True,
                max_frames=frames,
                camera=f"concurrent-{n}-{i}",
                preencode=True,
                budget_ms=BUDGET_MS,
            )
        with lock:
            results.append(r)

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lat = np.concatenate([r.latencies_ms for r in results])
    bad = sum(r.statuses.get("DROPPED", 0) + r.statuses.get("FULLY_MASKED", 0) for r in results)
    return {
        "streams": n,
        "fps_per_stream_min": min(r.fps for r in results),
        "p50_ms": float(np.percentile(lat, 50)),
        "p99_ms": float(np.percentile(lat, 99)),
        "frames": sum(r.frames_out for r in results),
        "dropped_or_fully_masked": bad,
        "lost_after_start": sum(r.lost_after_start for r in results),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.live", description=__doc__.split("\n\n")[0])
    p.add_argument(
        "--frames",
        type=int,
        help="frames per clip at its own rate; the camera-rate run lasts as long "
        "(default: 200, 20 with --quick)",
    )
    p.add_argument(
        "--streams", default="1,2,4", help="concurrent 720p stream counts (default: %(default)s)"
    )
    p.add_argument(
        "--quick", action="store_true", help="one clip (opencv_vtest), 20 frames, 1 stream"
    )
    p.add_argument(
        "--fps",
        type=float,
        default=CAMERA_FPS,
        help="camera rate of the extra 1080p run of opencv_vtest (default: %(default)s)",
    )
    p.add_argument(
        "--no-sweep",
        action="store_true",
        help="serve without the still-ground sweep (live.sweep.enabled = false): what it costs",
    )
    p.add_argument(
        "--config",
        type=Path,
        help="TOML added to the server's configuration (what a setting changes, e.g. "
        "'[live.look]\\nenabled = false' in a file)",
    )
    p.add_argument(
        "--clips",
        help="comma-separated: only these runs, named CLIP, CLIP@WxH or CLIP@WxH@FPSfps "
        "(e.g. opencv_vtest.avi@1920x1080@25fps); default: all",
    )
    p.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="stream each clip this many times, one after the other: a run's leaks move "
        "with which frames its detections and sweeps land on; a table of medians and "
        "ranges follows (default: %(default)s)",
    )
    p.add_argument(
        "--same-camera",
        action="store_true",
        help="stream a clip's repeats as one camera: from the second run on, its starts are "
        "a camera's next stream's, from what the last one swept (live.sweep.remember_s); "
        "by default each run is a camera of its own, streamed for the first time",
    )
    p.add_argument(
        "--leak-crops",
        type=Path,
        metavar="DIR",
        help="write a PNG per run here: each leak (32 at most, evenly over the stream) as "
        "the frame was sent, its masks drawn, beside the relay's output there",
    )
    p.add_argument("--json", type=Path, help="also write the results here")
    args = p.parse_args(argv)
    if args.repeat < 1:
        p.error(f"--repeat must be at least 1, got {args.repeat}")
    if args.leak_crops is not None and args.leak_crops.exists() and not args.leak_crops.is_dir():
        p.error(f"--leak-crops must name a folder, got the file {args.leak_crops}")
    root = data_dir()
    if root is None:
        print("bench.live: shared data not found (set REDACTOR_DATA)", file=sys.stderr)
        return 2
    videos = sorted((root / "videos").glob("*.avi")) + sorted((root / "videos").glob("*.mp4"))
    frames = args.frames or (20 if args.quick else 200)
    clips: list[tuple[Path, tuple[int, int] | None, float | None]] = [
        (v, None, None) for v in videos
    ]
    clips.append((root / "videos" / "opencv_vtest.avi", (1920, 1080), None))
    clips.append((root / "videos" / "opencv_vtest.avi", (1920, 1080), args.fps))
    if args.quick:
        clips = clips[:1]
    if args.clips:
        wanted = set(args.clips.split(","))
        named = {run_name(*c): c for c in clips}
        if unknown := wanted - set(named):
            print(
                f"bench.live: no run named {sorted(unknown)}; runs: {sorted(named)}",
                file=sys.stderr,
            )
            return 2
        clips = [c for n, c in named.items() if n in wanted]
    counts = [1] if args.quick else [int(n) for n in args.streams.split(",")]
    # The server runs as operators run it (`redactor serve`, its own process): the relay
    # clients here are the hub's, and their Python must not share the server's GIL.
    work = Path(tempfile.mkdtemp(prefix="bench-live-"))
    running = ServerProcess(
        work,
        work / "server.log",
        max(counts),
        ("[live.sweep]\nenabled = false\n" if args.no_sweep else "")
        + (args.config.read_text() if args.config else ""),
    ).start()
    report: dict[str, object] = {}
    try:
        rows = []
        motion = load_config(args.config).live.motion if args.config else None
        for path, size, rate in clips:
            for run in range(1, args.repeat + 1):
                t = time.perf_counter()
                r = run_clip(
                    running.address,
                    path,
                    size,
                    same_duration(path, frames, rate),
                    rate,
                    looked_counts(running),
                    motion,
                    crops_path(args.leak_crops, path, size, rate, run),
                    camera_id(path, size, rate, run, args.same_camera),
                )
                r.run = run
                rows.append(r)
                print(
                    f"  {r.clip} {r.size} (run {run}): {r.fps:.1f} fps, p99 {r.p99_ms:.0f} ms, "
                    f"leak {r.leak_rate:.1%} ({time.perf_counter() - t:.0f} s); {r.reasons}",
                    file=sys.stderr,
                    flush=True,
                )
        print(
            f"| clip | size | frames | source fps | fps | p50 ms | p95 ms | p99 ms | p99 from {WARMUP_S:.0f} s on "
            f"| reference objects | leaks | leak rate | from {WARMUP_S:.0f} s on | detector alone, every frame "
            "| masked share, all frames (fully masked = 100%) | statuses |"
        )
        print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
        for r in rows:
            print(
                f"| {r.name} | {r.size} | {r.frames} | {r.fps_source:.0f} | {r.fps:.1f} | {r.p50_ms:.0f} | "
                f"{r.p95_ms:.0f} | {r.p99_ms:.0f} | {r.steady_p99_ms:.0f} | {r.reference_objects} | {r.leaks} | "
                f"{r.leak_rate:.2%} | "
                f"{r.steady_leak_rate:.2%} ({r.steady_leaks}/{r.steady_objects}) | "
                f"{r.detector_leak_rate:.2%} | {r.masked_share:.1%} | "
                f"{', '.join(f'{k.lower()} {v}' for k, v in r.statuses.items())} |"
            )
        print()
        print(picture_table(rows))
        print()
        print(leak_table(rows))
        print()
        print(body_cost_table(rows))
        if args.repeat > 1:
            print()
            print(spread_table(rows))
        report["clips"] = [asdict(r) for r in rows]
        conc = [
            concurrent(
                running.address, root / "videos" / "opencv_vtest.avi", (1280, 720), n, frames
            )
            for n in counts
        ]
        print(
            "\n| 720p streams | min fps per stream | p50 ms | p99 ms | frames | dropped or fully masked "
            "| of those, after a stream's first redacted frame |"
        )
        print("|---|---|---|---|---|---|---|")
        for c in conc:
            print(
                f"| {c['streams']} | {c['fps_per_stream_min']:.1f} | {c['p50_ms']:.0f} | {c['p99_ms']:.0f} | "
                f"{c['frames']} | {c['dropped_or_fully_masked']} | {c['lost_after_start']} |"
            )
        report["concurrent_720p"] = conc
    finally:
        running.stop()
        shutil.rmtree(work, ignore_errors=True)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
