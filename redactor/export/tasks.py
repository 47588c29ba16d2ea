"""What runs on a worker: detect one segment, or mask and encode one segment.

Detection follows the export's plan: the policy's profile on every frame
(exhaustive), or the fast plan's sweeps and moving regions (redactor.export.fast).

The entry points (`detect_segment`, `encode_segment`) are pure functions of
plain data (paths, pts, config and policy dicts, masks as arrays) so a Dask
worker can run them; they never see the ledger or the signing key. Each first
checks that the worker runs the coordinator's package version and holds the
same model files (WorkerMismatch names the worker and the file otherwise),
then keeps one detector per worker thread for later tasks.

In one process the export service calls `run_detect` and `run_encode` itself,
with its own detectors and a stop flag, and skips the check (same files).
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import io
import os
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from redactor.config import FastPlanConfig, PolicyConfig, ProfileConfig
from redactor.detect.base import Detector
from redactor.detect.registry import ProfileDetector, profile_models
from redactor.errors import FailedPrecondition, WorkerMismatch
from redactor.export import fast, segments
from redactor.export.redact import LOOK_FULL, detect_frame, mask_frame
from redactor.export.segments import Segment
from redactor.export.video import Mp4Writer
from redactor.models import FETCH_COMMAND, sha256_file
from redactor.types import Detections, Masks

Stop = Callable[[], bool]
Tick = Callable[[], None]  # called after each frame (progress, in one process only)


@dataclass(frozen=True, slots=True)
class Expected:
    """What a worker must hold: the coordinator's package version and model files."""

    version: str
    models: dict[str, str]  # model name (or user-supplied file) → sha256
    models_dir: str | None  # the configured cache; None = each machine's default


@dataclass(frozen=True, slots=True)
class DetectTask:
    export_id: str
    source: str  # the recording, a path every worker reads (shared storage)
    segment: Segment
    width: int
    height: int
    profile: str  # the whole-frame profile (the export policy's)
    profiles: dict[str, dict[str, Any]]  # every profile the task runs, name → ProfileConfig JSON
    threads: int  # per detector runtime (detect.threads): results depend on it
    nice: int
    expected: Expected
    fast: dict[str, Any] | None = None  # FastPlanConfig as JSON; None = the exhaustive plan
    cores: int | None = None  # cores the task may use (a cluster's task_cores); None = all


@dataclass(frozen=True, slots=True)
class SegmentFound:
    index: int
    detections: list[Detections]  # per frame of the segment
    failed: dict[int, str]  # export frame index → why fully masked
    detectors: list[dict[str, str]]  # name and model_sha256 of each, for the manifest
    looks: list[int]  # per frame, how it was looked at (redactor.export.redact LOOK_*)


@dataclass(frozen=True, slots=True)
class EncodeTask:
    export_id: str
    source: str
    segment: Segment
    width: int
    height: int
    rate: str  # Fraction as text
    time_base: str
    policy: dict[str, Any]  # PolicyConfig as JSON
    masks: list[Masks]  # per frame of the segment, from the plan
    mark: str
    crf: int
    preset: str
    threads: int  # the encoder's
    expected: Expected
    cores: int | None = None  # cores the task may use (a cluster's task_cores); None = all


@dataclass(frozen=True, slots=True)
class EncodedSegment:
    index: int
    mp4: bytes  # the segment alone, H.264 in MP4, starting with an IDR frame
    frames: int
    fully_masked: int


def expected(profiles: list[ProfileConfig], models_dir: Path | None) -> Expected:
    """What the coordinator holds, for the tasks to check workers against."""
    models = {
        name: m.required_sha256 or _sha256(m.path)
        for p in profiles
        for name, m in profile_models(p, models_dir).items()
    }
    return Expected(_version(), models, None if models_dir is None else str(models_dir))


def detect_segment(task: DetectTask) -> SegmentFound:
    """A worker's detection task."""
    check_worker(task.expected, [ProfileConfig.model_validate(c) for c in task.profiles.values()])
    with cores(task.cores):
        return run_detect(task, lambda name: _worker_detector(task, name))


def encode_segment(task: EncodeTask) -> EncodedSegment:
    """A worker's masking and encoding task."""
    check_worker(task.expected, [])
    with cores(task.cores):
        return run_encode(task)


@contextlib.contextmanager
def cores(n: int | None) -> Iterator[None]:
    """OpenCV's and Numba's threads capped at `n` while a worker's task runs (None: as
    they are), so a worker of one thread uses one core and N workers scale N-fold.

    The decoder, the encoder and the detectors get `n` from the task itself.
    """
    if n is None:
        yield
        return
    import cv2
    import numba

    before_cv, before_nb = cv2.getNumThreads(), numba.get_num_threads()
    cv2.setNumThreads(n)  # process-wide: a worker's threads all set the same value
    numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))  # type: ignore[attr-defined]
    try:
        yield
    finally:
        cv2.setNumThreads(before_cv)
        numba.set_num_threads(before_nb)


def run_detect(
    task: DetectTask,
    detector_for: Callable[[str], Detector],
    stop: Stop | None = None,
    tick: Tick | None = None,
) -> SegmentFound:
    """The segment's detections per the task's plan; a frame whose detector failed is listed."""
    detector = detector_for(task.profile)
    parts = getattr(detector, "detectors", [detector])
    if task.fast is not None:
        cfg = FastPlanConfig.model_validate(task.fast)
        region = detector if cfg.looks == "windows" else detector_for(cfg.region_profile)
        looked = fast.detect_segment(
            Path(task.source),
            task.segment,
            task.width,
            task.height,
            detector,
            region,
            cfg,
            stop,
            tick,
            task.cores,
        )
        if region is not detector:
            parts = [*parts, *getattr(region, "detectors", [region])]
        described = [{"name": d.name, "model_sha256": d.model_sha256} for d in parts]
        return SegmentFound(
            task.segment.index, looked.detections, looked.failed, described, looked.looks
        )
    found: list[Detections] = []
    failed: dict[int, str] = {}
    for f in segments.decode(Path(task.source), task.segment, threads=task.cores):
        if stop is not None and stop():
            raise FailedPrecondition("the service stopped during the export")
        d, why = detect_frame(detector, f, task.width, task.height)
        if why is not None:
            failed[f.index] = why
        found.append(d)
        if tick is not None:
            tick()
    described = [{"name": d.name, "model_sha256": d.model_sha256} for d in parts]
    return SegmentFound(task.segment.index, found, failed, described, [LOOK_FULL] * len(found))


def run_encode(
    task: EncodeTask, stop: Stop | None = None, tick: Tick | None = None
) -> EncodedSegment:
    """The segment masked per plan, marked and encoded on its own (an IDR frame first)."""
    policy = PolicyConfig.model_validate(task.policy)
    if len(task.masks) != len(task.segment.pts):
        raise FailedPrecondition(
            f"segment {task.segment.index} has {len(task.segment.pts)} frames but "
            f"{len(task.masks)} planned masks"
        )
    buf = io.BytesIO()
    writer = Mp4Writer(
        buf,
        task.width,
        task.height,
        Fraction(task.rate),
        Fraction(task.time_base),
        task.crf,
        task.preset,
        task.threads if task.cores is None else min(task.threads, task.cores),
    )
    n = 0
    try:
        for f in segments.decode(Path(task.source), task.segment, threads=task.cores):
            if stop is not None and stop():
                raise FailedPrecondition("the service stopped during the export")
            masks = task.masks[f.index - task.segment.first]
            writer.write(mask_frame(f, masks, policy, task.mark), f.pts)
            n += 1
            if tick is not None:
                tick()
        writer.close()
    except BaseException:
        writer.abort()
        raise
    fully = sum(m.full_frame for m in task.masks)
    return EncodedSegment(task.segment.index, buf.getvalue(), n, fully)


def check_worker(want: Expected, profiles: list[ProfileConfig]) -> None:
    """Refuses to run on a worker whose package or model files (those `profiles` load, all
    of them together) differ from the coordinator's."""
    version = _version()
    if version != want.version:
        raise WorkerMismatch(
            f"worker {_where()} runs redactor {version}, the coordinator {want.version}: "
            "install the same version on every worker"
        )
    if not profiles:
        return
    models_dir = None if want.models_dir is None else Path(want.models_dir)
    here = {name: m for p in profiles for name, m in profile_models(p, models_dir).items()}
    for name, sha in sorted(want.models.items()):
        m = here.get(name)
        if m is None or not m.path.is_file():
            where = m.path if m is not None else name
            raise WorkerMismatch(
                f"worker {_where()} has no model file {where} ({name}); "
                f"install the coordinator's model files there: {FETCH_COMMAND}"
            )
        got = _sha256(m.path)
        if got != sha:
            raise WorkerMismatch(
                f"worker {_where()}: model file {m.path} ({name}) has sha256 {got}, the "
                f"coordinator's has {sha}; install the same model files on every worker: "
                f"{FETCH_COMMAND}"
            )


def _version() -> str:
    return importlib.metadata.version("redactor")


_hashes: dict[tuple[str, int, int], str] = {}
_local = threading.local()


def _sha256(path: Path) -> str:
    """A file's sha256, hashed again only when its size or modification time changed."""
    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _hashes:
        _hashes[key] = sha256_file(path)
    return _hashes[key]


def _worker_detector(task: DetectTask, profile: str) -> Detector:
    """One detector per worker thread and profile, kept for the tasks that follow."""
    cache: dict[tuple[object, ...], Detector] = getattr(_local, "detectors", {})
    _local.detectors = cache
    config = task.profiles[profile]
    parallel = None if task.cores is None or task.cores > 1 else False
    key = (profile, repr(config), task.expected.models_dir, task.threads, parallel)
    if key not in cache:
        models_dir = task.expected.models_dir
        cache[key] = ProfileDetector(
            profile,
            ProfileConfig.model_validate(config),
            None if models_dir is None else Path(models_dir),
            task.threads,
            task.nice,
            parallel,
        )
    return cache[key]


def _where() -> str:
    """This worker, as an operator finds it: its Dask address, else host and process."""
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return f"{socket.gethostname()} (pid {os.getpid()})"
