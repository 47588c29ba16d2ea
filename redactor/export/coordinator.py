"""One export's segment tasks, run on a backend: detection per segment, then masking
and encoding per segment, joined into one MP4 without re-encoding.

The export service (redactor.export.service) owns the job, the plan between the
two steps, the ledger and the key; this runs the tasks (redactor.export.tasks) on
threads or a Dask cluster (redactor.export.executor), checks each result against
the cut, and fails the export on the first failed task or a stalled backend.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from redactor.config import Config, ProfileConfig
from redactor.errors import ClusterUnavailable, FailedPrecondition
from redactor.export import executor, segments, tasks
from redactor.export.archive import Selection
from redactor.export.redact import DetectPass, EncodeResult, Plan
from redactor.export.segments import Segment
from redactor.policy import ResolvedPolicy

T = TypeVar("T")
POLL_S = 0.5  # how often a waiting export checks that the service is still running


@dataclass(slots=True)
class SegmentRun:
    """Runs one export's segment tasks on `backend`, reporting progress as they finish."""

    backend: executor.Backend
    config: Config
    profile: str  # the detection profile of the export policy
    closed: threading.Event  # set when the service stops: the export ends at the next step
    progress: Callable[..., None]  # progress(at_least=None, **counts), see ExportService._progress
    tick: Callable[[str], Callable[[], None]]  # tick(counter) → adds one to that frame counter

    def detect(
        self, export_id: str, selection: Selection, cuts: list[Segment]
    ) -> tuple[DetectPass, list[dict[str, str]]]:
        """Detection on every segment; the clip's DetectPass and the detectors that ran."""
        info = selection.info
        profiles = self._profiles()
        expected = tasks.expected(list(profiles.values()), self.config.models.dir)
        fast = self.config.export.fast if self.config.export.plan == "fast" else None
        t0 = time.perf_counter()
        futures = [
            self.backend.detect(
                tasks.DetectTask(
                    export_id,
                    str(selection.path),
                    seg,
                    info.width,
                    info.height,
                    self.profile,
                    {name: p.model_dump(mode="json") for name, p in profiles.items()},
                    self.config.detect.threads,
                    self.config.detect.nice,
                    expected,
                    None if fast is None else fast.model_dump(mode="json"),
                    self.backend.task_cores,
                ),
                self.tick("frames_detected"),
            )
            for seg in cuts
        ]
        parts: dict[int, tasks.SegmentFound] = {}
        frames = 0
        for part in self._results(futures):
            seg = cuts[part.index]
            if not len(part.detections) == len(part.looks) == len(seg.pts):
                raise FailedPrecondition(
                    f"segment {seg.index}: {len(part.detections)} frames detected, "
                    f"{len(seg.pts)} expected"
                )
            parts[part.index] = part
            frames += len(seg.pts)
            self.progress(segments_detected=len(parts), at_least={"frames_detected": frames})
        detectors = parts[0].detectors
        for part in parts.values():
            if part.detectors != detectors:
                raise FailedPrecondition(
                    f"segment {part.index} was detected with {part.detectors}, "
                    f"segment 0 with {detectors}: every worker must run the same detectors"
                )
        out = DetectPass(info.width, info.height)
        for seg in cuts:
            out.pts.extend(seg.pts)
            out.t_us.extend(seg.t_us)
            out.detections.extend(parts[seg.index].detections)
            out.looks.extend(parts[seg.index].looks)
            out.failed.update(parts[seg.index].failed)
        out.seconds = time.perf_counter() - t0
        return out, detectors

    def encode(
        self,
        export_id: str,
        mark: str,
        selection: Selection,
        cuts: list[Segment],
        found: DetectPass,
        plan: Plan,
        resolved: ResolvedPolicy,
        out: Path,
        scratch: Path,
    ) -> EncodeResult:
        """Masks and encodes every segment, then joins them into `out` without re-encoding."""
        info = selection.info
        t0 = time.perf_counter()
        expected = tasks.expected(list(self._profiles().values()), self.config.models.dir)
        policy = resolved.policy.model_dump(mode="json")
        futures = [
            self.backend.encode(
                tasks.EncodeTask(
                    export_id,
                    str(selection.path),
                    seg,
                    found.width,
                    found.height,
                    str(info.rate),
                    str(info.time_base),
                    policy,
                    plan.masks[seg.first : seg.first + len(seg.pts)],
                    mark,
                    self.config.export.crf,
                    self.config.export.preset,
                    self.config.export.encoder_threads,
                    expected,
                    self.backend.task_cores,
                ),
                self.tick("frames_done"),
            )
            for seg in cuts
        ]
        scratch.mkdir(parents=True, exist_ok=True)
        parts = [scratch / f"{seg.index:05d}.mp4" for seg in cuts]
        encoded = frames = 0
        for part in self._results(futures):
            if part.frames != len(cuts[part.index].pts):
                raise FailedPrecondition(
                    f"segment {part.index}: {part.frames} frames encoded, "
                    f"{len(cuts[part.index].pts)} planned"
                )
            parts[part.index].write_bytes(part.mp4)
            encoded += 1
            frames += part.frames
            self.progress(segments_encoded=encoded, at_least={"frames_done": frames})
        n = segments.join(parts, out, info.time_base)
        if n != len(found):
            raise FailedPrecondition(f"the joined export has {n} frames, {len(found)} planned")
        return EncodeResult(n, len(found.failed), time.perf_counter() - t0)

    def _profiles(self) -> dict[str, ProfileConfig]:
        """The detection profiles the export's plan runs, by name."""
        names = [self.profile]
        if self.config.export.plan == "fast" and self.config.export.fast.looks == "crops":
            names.append(self.config.export.fast.region_profile)
        return {n: self.config.detect.profiles[n] for n in names}

    def _results(self, futures: list[Future[T]]) -> Iterator[T]:
        """Each task's result as it finishes; the first failure fails the export.

        Pending tasks are cancelled when the export ends early (a failure, the
        service stopping, or no task finishing within the backend's stall limit).
        """
        pending = set(futures)
        last = time.monotonic()
        try:
            while pending:
                done, pending = wait(pending, timeout=POLL_S, return_when=FIRST_COMPLETED)
                if self.closed.is_set():
                    raise FailedPrecondition("the service stopped during the export")
                stall = self.backend.stall_s
                if not done and stall is not None and time.monotonic() - last > stall:
                    raise ClusterUnavailable(
                        f"no segment task finished within {stall:g} s "
                        f"(export.cluster.task_timeout_s) on the {self.backend.name} backend"
                    )
                for f in done:
                    last = time.monotonic()
                    try:
                        result = f.result()
                    except BaseException as e:
                        err = self.backend.failure(e)
                        if err is e:
                            raise
                        raise err from e
                    yield result
        finally:
            for f in pending:
                f.cancel()
