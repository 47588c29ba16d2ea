"""The review console on a long export: how fast its page opens and a seek shows a frame.

    python -m bench.review [--minutes 5] [--height 1080] [--objects 12] [--tracks N]
                           [--clip opencv_vtest.avi] [--opens 5] [--seeks 30] [--key-seeks 10]
                           [--http 30] [--out bench/reports/<dir>/review_timings.json]

The issue's target: the review page of a 5-minute 1080p export opens in at most 1000 ms, and
a seek shows the frame with its masks in at most 200 ms (the console serves a low-resolution
proxy and the masks as data; nothing is re-rendered as video).

Real: the recording (a shared clip scaled to 16:9 at `--height`, looped to `--minutes` at
25 fps, H.264 by libx264 ultrafast with a keyframe every 2 s; cached in bench/results/cache/),
the ExportService with review required (the exhaustive plan's tracking both ways, the plan
bundle and the JPEG proxy, as a server makes them), the users, sessions and ReviewService, the
console (uvicorn on 127.0.0.1) and the browser (Debian's Chromium, headless, via Playwright),
all on this one machine.

Synthetic: the detector. It returns `--objects` faces and plates at once, one per lane,
walking left to right at one speed (none crosses another, so each is one track of the plan):
each crosses in 10 s, or in as long as makes about `--tracks` of them in the recording. The
boxes follow from the frame's index alone: planning 7,500 frames takes a minute or two, not
hours. The plan's seconds are reported, but they say nothing of a real detector: this bench
measures the review path, not detection. The export runs as one segment, so the detector's
call count is the frame index.

Measured, signed in as a reviewer:

- open: navigation to the review page until its first frame, the outlines, the track list and
  the timeline are drawn (body[data-ready='1'], as tests/console waits), `--opens` times; the
  first is cold (the service loads the plan and opens the proxy), the rest warm. Wall: from
  Python's goto; in page: performance.now() at that moment (from the navigation's start).
- seeks, in the original view and in the "as released" view (the proxy masked on request by
  the render's own code): `--seeks` random frames set on the slider (its input event), and
  `--key-seeks` Shift+ArrowRight presses (one second on); from the event to the new frame's
  image decoded and its masks drawn, as the page times it (window.consoleTimings). Frames are
  never next to one seen before in that view (the page prefetches the neighbours), and the
  bench waits PAUSE_S between seeks, as a person would. Wall adds Playwright's round trips.
- http: the endpoints alone, server side, one urllib request at a time with the session's
  cookie: the review page's HTML, the open data (tracks), a frame's masks as JSON, a frame's
  JPEG original and released.

Pass: open when the cold and every warm open (wall) take at most 1000 ms; seek when every
seek (in page) takes at most 200 ms (p90 is reported beside it). The browser, the server and
the bench share this machine's cores, as they would not in a control room. The JSON goes
to `--out` (default bench/results/review/review_timings.json, git-ignored); a short table is
printed.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np
import numpy.typing as npt
from argon2 import PasswordHasher

from bench.browser import CHROMIUM, MISSING, VIEWPORT, chromium
from bench.cache import CACHE, cache_key, identity
from bench.machine import machine_info
from redactor.config import Config, ExportConfig, ReviewConfig
from redactor.console.server import ConsoleServer, start_console
from redactor.console.ui import COOKIE
from redactor.data import data_dir, repo_root
from redactor.detect.base import Detector
from redactor.export.jobs import ExportJob, ExportRequest, ExportState
from redactor.export.service import ExportService
from redactor.review.service import ReviewService
from redactor.review.users import User, UserStore
from redactor.types import Detections, Label

DEFAULT_OUT = Path(__file__).resolve().parent / "results" / "review" / "review_timings.json"
DEFAULT_CLIP = "opencv_vtest.avi"
FPS = 25
KEYINT = 2 * FPS  # a keyframe every 2 s
PRESET, CRF = "ultrafast", 23
CROSSING_S = 10.0  # how long an object takes to cross the frame, unless --tracks says
MAX_MINUTES = 59.0  # one segment (export.segment_s is at most 3600 s)
OPEN_TARGET_MS = 1000.0
SEEK_TARGET_MS = 200.0
PAUSE_S = 0.15  # between seeks: the page's prefetch of the neighbours finishes, as for a person
WAIT_MS = 60_000

CAMERA = "cam-1"
RECORDING = f"{CAMERA}/20240501T080000.mp4"
PASSWORD = "correct horse battery"
REQUESTER, REVIEWER = "rita", "rob"
REQUEST = ExportRequest(
    recording=RECORDING,
    recipient="police-112",
    officer="bench",
    purpose="review console benchmark",
    legal_basis="none (benchmark)",
)
# cheap argon2 (as the tests use): the bench times pages, not sign-ins
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


BoxRow = tuple[float, float, float, float]


def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# ------------------------------------------------------------------ the recording


def frame_size(height: int) -> tuple[int, int]:
    """16:9 at `height` (even sides, as H.264's 4:2:0 wants)."""
    h = height + height % 2
    return 2 * round(h * 16 / 9 / 2), h


def recording_path(src: Path, width: int, height: int, frames: int, cache: Path) -> Path:
    name = cache_key(identity(src), width, height, frames, FPS, KEYINT, PRESET)
    return cache / f"review_{src.stem}_{width}x{height}_{frames}f_{name}.mp4"


def make_recording(src: Path, width: int, height: int, frames: int, dst: Path) -> None:
    """`src` scaled to width x height and looped to `frames` frames at FPS, H.264 (libx264
    PRESET, a keyframe every KEYINT frames, no B-frames)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(dst.name + ".partial")
    n = 0
    with av.open(str(tmp), "w", format="mp4") as out:
        s = out.add_stream("libx264", rate=FPS)
        s.width, s.height, s.pix_fmt = width, height, "yuv420p"
        s.codec_context.time_base = Fraction(1, FPS)
        s.options = {
            "preset": PRESET,
            "crf": str(CRF),
            "g": str(KEYINT),
            "bf": "0",
            "x264-params": f"keyint={KEYINT}:min-keyint={KEYINT}:scenecut=0",
        }
        while n < frames:
            before = n
            with av.open(str(src)) as inp:
                for f in inp.decode(video=0):
                    g = f.reformat(width=width, height=height, format="yuv420p")
                    g.pts, g.time_base = n, Fraction(1, FPS)
                    out.mux(s.encode(g))
                    n += 1
                    if n >= frames:
                        break
            if n == before:
                raise RuntimeError(f"{src} has no video frames")
        out.mux(s.encode(None))
    tmp.replace(dst)


def recording(src: Path, width: int, height: int, frames: int, cache: Path) -> tuple[Path, float]:
    """The cached recording, made first where absent; and the seconds making it took (0)."""
    dst = recording_path(src, width, height, frames, cache)
    if dst.is_file():
        return dst, 0.0
    say(f"encoding the recording ({frames} frames at {width}x{height}) into {dst} ...")
    t0 = time.perf_counter()
    make_recording(src, width, height, frames, dst)
    return dst, time.perf_counter() - t0


# ------------------------------------------------------------------ the synthetic detector


@dataclass(frozen=True, slots=True)
class Walker:
    label: Label
    lane_shift: float  # share of the lane's height, off its centre
    height: float  # share of the frame's height
    aspect: float  # width / height
    score: float


@functools.lru_cache(maxsize=4096)
def walker(seed: int, slot: int, j: int, objects: int) -> Walker:
    """The j-th object that walks in lane `slot` (fixed by the seed and its place alone)."""
    rng = random.Random(f"{seed}:{slot}:{j}")
    face = rng.random() < 0.6
    lane = 1.0 / objects
    h = min(0.05, 0.6 * lane) * (rng.uniform(0.8, 1.2) if face else rng.uniform(0.5, 0.7))
    return Walker(
        Label.FACE if face else Label.PLATE,
        rng.uniform(-0.15, 0.15),
        h,
        rng.uniform(0.75, 0.9) if face else rng.uniform(3.5, 4.5),
        rng.uniform(0.6, 0.99),
    )


@dataclass(frozen=True, slots=True)
class Scene:
    """`objects` faces and plates at once, one per horizontal lane, each crossing the frame
    left to right in `crossing` frames; a lane's next object enters as its last one leaves, and
    the lanes are staggered so that objects enter and leave all the time. All go one way at one
    speed: none crosses another, so the plan's tracks are the objects (tracks_in), one each."""

    objects: int
    crossing: int  # frames
    seed: int = 0

    def tracks_in(self, frames: int) -> int:
        """Objects that show in the first `frames` frames (about the plan's track count)."""
        return sum(
            (frames - 1 + self._offset(k)) // self.crossing - self._offset(k) // self.crossing + 1
            for k in range(self.objects)
        )

    def _offset(self, slot: int) -> int:
        return (slot * self.crossing) // self.objects

    def detections(self, index: int, width: int, height: int) -> Detections:
        rows: list[BoxRow] = []
        scores: list[float] = []
        labels: list[int] = []
        lane = height / self.objects
        for k in range(self.objects):
            j, at = divmod(index + self._offset(k), self.crossing)
            w = walker(self.seed, k, j, self.objects)
            bh = w.height * height
            bw = bh * w.aspect
            p = at / max(1, self.crossing - 1)
            cx = bw / 2 + p * (width - bw)  # found whole from the edge to the other edge
            cy = (k + 0.5 + w.lane_shift) * lane
            x0, x1 = max(0.0, cx - bw / 2), min(float(width), cx + bw / 2)
            y0, y1 = max(0.0, cy - bh / 2), min(float(height), cy + bh / 2)
            if x1 - x0 >= 2 and y1 - y0 >= 2:
                rows.append((x0, y0, x1, y1))
                scores.append(w.score)
                labels.append(int(w.label))
        return Detections.create(np.asarray(rows, np.float32).reshape(-1, 4), scores, labels)


class WalkingObjects:
    """A Detector (redactor.detect.base) that returns the scene's boxes of the next frame: one
    instance per segment thread, and the export is one segment, so its calls count frames."""

    model_sha256 = ""

    def __init__(self, scene: Scene, profile: str) -> None:
        self.scene = scene
        self.name = f"synthetic-walking-objects (for profile {profile})"
        self.calls = 0

    def detect(self, bgr: npt.NDArray[np.uint8]) -> Detections:
        i, self.calls = self.calls, self.calls + 1
        h, w = bgr.shape[:2]
        return self.scene.detections(i, w, h)

    def close(self) -> None:
        return None


def detector_factory(scene: Scene) -> Callable[[str], Detector]:
    def factory(profile: str) -> Detector:
        return WalkingObjects(scene, profile)

    return factory


# ------------------------------------------------------------------ service, users, console


def service_config(folder: Path, seconds: float) -> Config:
    return Config(
        export=ExportConfig(
            archive_root=folder / "archive",
            output_dir=folder / "exports",
            ledger_path=folder / "ledger.sqlite",
            key_path=folder / "keys" / "signing_key.pem",
            segment_s=min(3600.0, seconds + 60.0),  # one segment: the detector counts frames
            review=ReviewConfig(required="always"),
        )
    )


def _place(src: Path, dst: Path) -> None:
    """The recording in the archive: a hard link where it can be (no copy of 100s of MB)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


@dataclass
class Planned:
    job: ExportJob
    plan_s: float  # request to IN_REVIEW
    detect_s: float  # request to every segment detected


def plan(exports: ExportService, review: ReviewService, requester: User) -> Planned:
    """Requests the export and follows it to IN_REVIEW."""
    t0 = time.perf_counter()
    job = review.create_export(requester, REQUEST)
    detect_s: float | None = None
    last = job
    for snap in exports.watch(job.id):
        last = snap
        if detect_s is None and 0 < snap.segments_total <= snap.segments_detected:
            detect_s = time.perf_counter() - t0
        if snap.state is ExportState.IN_REVIEW or snap.state.terminal:
            break
    plan_s = time.perf_counter() - t0
    if last.state is not ExportState.IN_REVIEW:
        raise RuntimeError(f"export {job.id} ended {last.state.name}: {last.error}")
    if last.segments_total != 1:
        raise RuntimeError(f"the export has {last.segments_total} segments, the bench needs one")
    return Planned(last, plan_s, detect_s if detect_s is not None else plan_s)


# ------------------------------------------------------------------ figures


def stats(values: list[float], each: bool = False) -> dict[str, Any]:
    """n, median, p90 (nearest rank) and max, in ms to 0.1; `each` adds the values."""
    if not values:
        return {"n": 0}
    s = sorted(values)
    out: dict[str, Any] = {
        "n": len(s),
        "median": round(statistics.median(s), 1),
        "p90": round(s[max(0, math.ceil(0.9 * len(s)) - 1)], 1),
        "max": round(s[-1], 1),
    }
    if each:
        out["each"] = [round(v, 1) for v in values]
    return out


# ------------------------------------------------------------------ the browser


def log_in(browser: Any, url: str, name: str) -> Any:
    """A fresh browser context signed in as `name` (on the exports page)."""
    ctx = browser.new_context(viewport=VIEWPORT)
    ctx.set_default_timeout(WAIT_MS)
    page = ctx.new_page()
    page.goto(f"{url}/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")
    return page


def open_page(page: Any, url: str, export_id: str) -> tuple[float, float]:
    """The review page opened: (wall ms from goto, in-page ms from the navigation's start)
    until the first frame, its outlines, the track list and the timeline are drawn."""
    t0 = time.perf_counter()
    page.goto(f"{url}/exports/{export_id}")
    page.wait_for_selector("body[data-ready='1']", state="attached")
    wall = (time.perf_counter() - t0) * 1000
    return wall, float(page.evaluate("window.consoleTimings.open_ms"))


def _seeks(page: Any) -> int:
    return int(page.evaluate("window.consoleTimings.seeks.length"))


def _last_seek(page: Any, before: int) -> dict[str, Any]:
    got: list[dict[str, Any]] = page.evaluate("(k) => window.consoleTimings.seeks.slice(k)", before)
    if not got:
        raise RuntimeError("the page drew a frame but timed no seek")
    return got[-1]


def _shown(page: Any) -> int:
    return int(page.evaluate("document.body.dataset.shown"))


def slider_seek(page: Any, n: int) -> tuple[float, float]:
    """Sets the slider to frame `n` (its input event, as a drag fires); (in-page, wall) ms
    until the frame and its masks are drawn."""
    before = _seeks(page)
    t0 = time.perf_counter()
    page.evaluate(
        "(n) => { const s = document.getElementById('scrubber'); s.value = String(n); "
        "s.dispatchEvent(new Event('input', { bubbles: true })); }",
        n,
    )
    page.wait_for_selector(f"body[data-shown='{n}']", state="attached")
    wall = (time.perf_counter() - t0) * 1000
    seek = _last_seek(page, before)
    if seek["frame"] != n:
        raise RuntimeError(f"asked for frame {n}, the page timed frame {seek['frame']}")
    return float(seek["ms"]), wall


def key_seek(page: Any, key: str) -> tuple[float, float]:
    """Presses `key`, which moves to another frame; (in-page, wall) ms until it is drawn."""
    before, at = _seeks(page), _shown(page)
    t0 = time.perf_counter()
    page.keyboard.press(key)
    page.wait_for_selector(f"body:not([data-shown='{at}'])", state="attached")
    wall = (time.perf_counter() - t0) * 1000
    return float(_last_seek(page, before)["ms"]), wall


def toggle_view(page: Any, released: bool) -> None:
    """The "as released" switch by its key (r), once the frame is shown again in that view."""
    if page.is_checked("#released") == released:
        return
    before = _seeks(page)
    page.keyboard.press("r")
    deadline = time.monotonic() + WAIT_MS / 1000
    while _seeks(page) == before:
        if time.monotonic() > deadline:
            raise RuntimeError("the 'as released' switch did not redraw the frame")
        time.sleep(0.01)
    if page.is_checked("#released") != released:
        raise RuntimeError("the 'as released' switch did not change")


def seek_targets(rng: random.Random, frames: int, count: int, seen: set[int]) -> list[int]:
    """`count` random frames, none within 2 of a frame already seen (prefetched neighbours)."""
    out: list[int] = []
    for _ in range(count * 50):
        if len(out) == count:
            break
        n = rng.randrange(frames)
        if all(abs(n - s) > 2 for s in seen):
            out.append(n)
            seen.add(n)
    return out


@dataclass
class BrowserFigures:
    version: str
    open_wall: list[float]
    open_in_page: list[float]
    seeks: dict[str, dict[str, list[float]]]  # view → kind → in-page ms
    seeks_wall: dict[str, dict[str, list[float]]]


def in_browser(
    url: str, export_id: str, frames: int, fps: float, o: Options, rng: random.Random
) -> BrowserFigures:
    with chromium() as browser:
        page = log_in(browser, url, REVIEWER)
        walls: list[float] = []
        in_page: list[float] = []
        for i in range(o.opens):
            w, p = open_page(page, url, export_id)
            walls.append(w)
            in_page.append(p)
            say(f"open {i + 1}/{o.opens}: {w:.0f} ms (in page {p:.0f} ms)")
            time.sleep(PAUSE_S)
        page.locator("#frame-no").click()  # focus on the page, not the slider or a list
        seeks: dict[str, dict[str, list[float]]] = {}
        seeks_wall: dict[str, dict[str, list[float]]] = {}
        second = max(1, round(fps))
        for view in ("original", "released"):
            toggle_view(page, view == "released")
            seen = {_shown(page)}
            mine = seeks.setdefault(view, {"slider": [], "key": []})
            mine_wall = seeks_wall.setdefault(view, {"slider": [], "key": []})
            for n in seek_targets(rng, frames, o.seeks, seen):
                time.sleep(PAUSE_S)
                ms, wall = slider_seek(page, n)
                mine["slider"].append(ms)
                mine_wall["slider"].append(wall)
            # Shift+ArrowRight from a random start: a second on each time
            room = max(0, (frames - 1) // second - 1)
            presses = min(o.key_seeks, room)
            if presses:
                start = rng.randrange(0, frames - presses * second)
                time.sleep(PAUSE_S)
                slider_seek(page, start)
                for _ in range(presses):
                    time.sleep(PAUSE_S)
                    ms, wall = key_seek(page, "Shift+ArrowRight")
                    mine["key"].append(ms)
                    mine_wall["key"].append(wall)
            all_ms = mine["slider"] + mine["key"]
            if all_ms:
                say(
                    f"seeks {view}: median {statistics.median(all_ms):.0f} ms, max {max(all_ms):.0f} ms"
                )
        version = str(browser.version)
        page.context.close()
    return BrowserFigures(version, walls, in_page, seeks, seeks_wall)


# ------------------------------------------------------------------ plain HTTP


def http_timings(
    url: str, token: str, export_id: str, frames: int, count: int, rng: random.Random
) -> dict[str, list[float]]:
    """The endpoints one request at a time (urllib, the session's cookie), ms each."""

    def get(path: str) -> float:
        req = urllib.request.Request(f"{url}{path}", headers={"Cookie": f"{COOKIE}={token}"})
        t0 = time.perf_counter()
        with urllib.request.urlopen(req, timeout=WAIT_MS / 1000) as r:
            r.read()
            if r.status != 200:
                raise RuntimeError(f"GET {path}: HTTP {r.status}")
        return (time.perf_counter() - t0) * 1000

    api = f"/api/exports/{export_id}"
    out: dict[str, list[float]] = {
        "review_page_html": [get(f"/exports/{export_id}") for _ in range(count)],
        "open_data": [get(api) for _ in range(count)],
    }
    for name, path in (
        ("frame_json", "/frames/{n}"),
        ("jpeg_original", "/frames/{n}.jpg?view=original"),
        ("jpeg_released", "/frames/{n}.jpg?view=released"),
    ):
        out[name] = [get(api + path.format(n=rng.randrange(frames))) for _ in range(count)]
    return out


# ------------------------------------------------------------------ the whole run


@dataclass
class Options:
    clip: Path
    minutes: float
    height: int
    objects: int
    tracks: int | None
    opens: int
    seeks: int
    key_seeks: int
    http: int
    seed: int
    cache: Path
    out: Path

    @property
    def frames(self) -> int:
        return max(2, round(self.minutes * 60 * FPS))

    def scene(self) -> Scene:
        """Crossings of CROSSING_S, or as long as makes about `tracks` objects in the whole."""
        if self.tracks is None:
            crossing = round(CROSSING_S * FPS)
        else:
            crossing = round(self.objects * self.frames / max(self.tracks, self.objects))
        return Scene(self.objects, max(2, crossing), self.seed)


def run(o: Options, load_before: tuple[float, float, float]) -> dict[str, Any]:
    width, height = frame_size(o.height)
    scene = o.scene()
    source, encode_s = recording(o.clip, width, height, o.frames, o.cache)
    rng = random.Random(o.seed)
    with tempfile.TemporaryDirectory(prefix="bench-review-") as d:
        folder = Path(d)
        config = service_config(folder, o.frames / FPS)
        _place(source, config.export.archive_root / RECORDING)
        exports = ExportService(config, detector_factory=detector_factory(scene))
        users = UserStore(config.users_path, hasher=FAST_HASHER)
        console: ConsoleServer | None = None
        try:
            requester = users.add(REQUESTER, PASSWORD, ("requester",))
            users.add(REVIEWER, PASSWORD, ("reviewer",))
            review = ReviewService(exports, users)
            say(f"planning {o.frames} frames (synthetic detector, {o.objects} objects at once) ...")
            planned = plan(exports, review, requester)
            say(f"planned in {planned.plan_s:.1f} s (detect {planned.detect_s:.1f} s)")
            console = start_console(config, review, "127.0.0.1:0")
            load_browser = os.getloadavg()
            fig = in_browser(console.url, planned.job.id, o.frames, FPS, o, rng)
            session = review.login(REVIEWER, PASSWORD)
            opened = review.open(session.user, planned.job.id)
            http = http_timings(console.url, session.token, planned.job.id, o.frames, o.http, rng)
        finally:
            if console is not None:
                console.close()
            exports.close()
            users.close()
    machine = machine_info(repo_root())
    warm_wall, warm_page = fig.open_wall[1:], fig.open_in_page[1:]
    all_seeks = [ms for kinds in fig.seeks.values() for v in kinds.values() for ms in v]
    open_ok = fig.open_wall[0] <= OPEN_TARGET_MS and all(w <= OPEN_TARGET_MS for w in warm_wall)
    seek_all = stats(all_seeks)
    return {
        "what": "the review console on a long export in headless Chromium (bench/review.py): "
        "opening the review page and seeking, against the issue's target",
        "synthetic": "the detector: faces and plates walking across the frame, from the frame's "
        "index (the bench measures the review path, not detection; plan_s is not a detector's "
        "speed)",
        "target_ms": {"open": OPEN_TARGET_MS, "seek": SEEK_TARGET_MS},
        "pass": {
            "open": open_ok,
            "seek": bool(all_seeks) and seek_all["max"] <= SEEK_TARGET_MS,
            "seek_p90": bool(all_seeks) and seek_all["p90"] <= SEEK_TARGET_MS,
        },
        "cpu_model": machine["cpu_model"],
        "cores": machine["cores_usable"],
        "load_average_before": [round(v, 2) for v in load_before],
        "load_average_before_browser": [round(v, 2) for v in load_browser],
        "machine": machine,
        "clip": o.clip.name,
        "minutes": o.minutes,
        "fps": FPS,
        "keyframe_every_frames": KEYINT,
        "frames": opened.frames,
        "width": opened.width,
        "height": opened.height,
        "proxy_width": opened.proxy_width,
        "proxy_height": opened.proxy_height,
        "objects_at_once": o.objects,
        "crossing_s": round(scene.crossing / FPS, 2),
        "objects_in_recording": scene.tracks_in(o.frames),
        "tracks": len(opened.tracks),
        "recording_bytes": source.stat().st_size,
        "recording_encode_s": round(encode_s, 1) if encode_s else None,
        "plan_s": round(planned.plan_s, 2),
        "detect_s": round(planned.detect_s, 2),
        "track_and_proxy_s": round(planned.plan_s - planned.detect_s, 2),
        "browser": f"Chromium {fig.version} (headless, {CHROMIUM})",
        "open_ms": {
            "cold": {"wall": round(fig.open_wall[0], 1), "in_page": round(fig.open_in_page[0], 1)},
            "warm_wall": stats(warm_wall, each=True),
            "warm_in_page": stats(warm_page, each=True),
            "means": "navigation to the first frame, its outlines, the track list and the "
            "timeline drawn (wall: from Python's goto; in_page: performance.now() then)",
        },
        "seek_ms": {
            view: {kind: stats(v, each=True) for kind, v in kinds.items()}
            | {"all": stats(kinds["slider"] + kinds["key"])}
            for view, kinds in fig.seeks.items()
        }
        | {
            "all": seek_all,
            "means": "in page, from the slider's input event (slider: random frames) or the "
            "key press (key: Shift+ArrowRight, a second on) to the new frame's image decoded "
            "and its masks drawn; original: the proxy JPEG as stored; released: masked on "
            "request by the render's own code",
        },
        "seek_wall_ms": {
            view: {kind: stats(v) for kind, v in kinds.items()}
            for view, kinds in fig.seeks_wall.items()
        },
        "http_ms": {name: stats(v) for name, v in http.items()}
        | {"means": "server side alone: one urllib GET at a time with the session cookie"},
        "pause_between_seeks_s": PAUSE_S,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }


def table(doc: dict[str, Any]) -> list[str]:
    def row(name: str, s: dict[str, Any], target: float | None) -> str:
        if not s.get("n"):
            return f"{name:<28} {0:>4}"
        t = "" if target is None else f"{target:>8.0f}"
        return f"{name:<28} {s['n']:>4} {s['median']:>8.1f} {s['p90']:>8.1f} {s['max']:>8.1f}{t}"

    cold = doc["open_ms"]["cold"]["wall"]
    lines = [
        f"review console: {doc['minutes']:g} min of {doc['clip']} at {doc['width']}x"
        f"{doc['height']}, {doc['fps']} fps ({doc['frames']} frames), proxy "
        f"{doc['proxy_width']}x{doc['proxy_height']}, {doc['tracks']} tracks; "
        f"plan {doc['plan_s']:.1f} s (synthetic detector); load before "
        f"{doc['load_average_before'][0]:.2f} on {doc['cores']} cores",
        f"{'ms':<28} {'n':>4} {'median':>8} {'p90':>8} {'max':>8} {'target':>7}",
        row(
            "open, cold (wall)", {"n": 1, "median": cold, "p90": cold, "max": cold}, OPEN_TARGET_MS
        ),
        row("open, warm (wall)", doc["open_ms"]["warm_wall"], OPEN_TARGET_MS),
    ]
    for view in ("original", "released"):
        for kind in ("slider", "key"):
            lines.append(row(f"seek {view}, {kind}", doc["seek_ms"][view][kind], SEEK_TARGET_MS))
    for name, s in doc["http_ms"].items():
        if isinstance(s, dict):
            lines.append(row(f"http {name}", s, None))
    p = doc["pass"]
    verdict = {True: "PASS", False: "FAIL"}
    lines.append(
        f"open <= {OPEN_TARGET_MS:.0f} ms: {verdict[p['open']]}; seek <= {SEEK_TARGET_MS:.0f} ms: "
        f"{verdict[p['seek']]} (p90: {verdict[p['seek_p90']]})"
    )
    return lines


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench.review", description=__doc__.split("\n\n")[0])
    p.add_argument("--clip", default=DEFAULT_CLIP, help="a file in the shared data's videos/")
    p.add_argument("--minutes", type=float, default=5.0, help="the recording's length (default 5)")
    p.add_argument("--height", type=int, default=1080, help="16:9 at this height (default 1080)")
    p.add_argument("--objects", type=int, default=12, help="objects in the frame at once")
    p.add_argument(
        "--tracks",
        type=int,
        help=f"about this many objects in the whole recording (default: each crosses in "
        f"{CROSSING_S:g} s)",
    )
    p.add_argument("--opens", type=int, default=5, help="times the page is opened (first: cold)")
    p.add_argument("--seeks", type=int, default=30, help="random slider seeks per view")
    p.add_argument("--key-seeks", type=int, default=10, help="Shift+ArrowRight seeks per view")
    p.add_argument("--http", type=int, default=30, help="requests per endpoint, plain HTTP")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cache", type=Path, default=CACHE, help="where the recording is cached")
    p.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the JSON written")
    return p


def options(args: argparse.Namespace) -> Options | str:
    """The run the arguments ask for, or why it cannot run here."""
    root = data_dir()
    clip = None if root is None else root / "videos" / args.clip
    if clip is None or not clip.is_file():
        return f"shared data videos/{args.clip} not found (set REDACTOR_DATA)"
    if not CHROMIUM.is_file():
        return f"no browser: {MISSING}"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (make setup installs the dev extra)"
    if not 0 < args.minutes <= MAX_MINUTES:
        return f"--minutes must be in (0, {MAX_MINUTES:g}] (one segment), got {args.minutes:g}"
    if args.height < 64 or args.objects < 1 or args.opens < 1 or args.seeks < 0:
        return "--height must be at least 64, --objects and --opens at least 1, --seeks >= 0"
    return Options(
        clip,
        args.minutes,
        args.height,
        args.objects,
        args.tracks,
        args.opens,
        args.seeks,
        max(0, args.key_seeks),
        max(1, args.http),
        args.seed,
        args.cache,
        args.out,
    )


def main(argv: list[str] | None = None) -> int:
    load_before = os.getloadavg()
    o = options(_parser().parse_args(argv))
    if isinstance(o, str):
        say(o)
        return 2
    doc = run(o, load_before)
    o.out.parent.mkdir(parents=True, exist_ok=True)
    o.out.write_text(json.dumps(doc, indent=2) + "\n")
    print("\n".join(table(doc)))
    print(f"written: {o.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
