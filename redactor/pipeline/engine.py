"""What the server holds for its whole life: detectors per profile (models load
once, at start), the policy router, metrics, warm kernels."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

import numpy as np

from redactor import kernels
from redactor.config import Config, ProfileConfig
from redactor.detect.base import Detector
from redactor.detect.registry import ProfileDetector
from redactor.metrics import Metrics
from redactor.pipeline.camera_memory import CameraMemory
from redactor.pipeline.frame import FrameRedactor, Redacted
from redactor.pipeline.sweep import Sweeper
from redactor.policy import PolicyRouter, ResolvedPolicy
from redactor.types import Frame

log = logging.getLogger(__name__)

DetectorFactory = Callable[[str, ProfileConfig], Detector]


class Engine:
    def __init__(
        self,
        config: Config,
        detector_factory: DetectorFactory | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.config = config
        self.router = PolicyRouter(config.policy)
        self.metrics = metrics or Metrics()

        def make(name: str, cfg: ProfileConfig, nice: int = config.detect.nice) -> Detector:
            """A profile's detector; its threads run at the priority it is made with."""
            if detector_factory is not None:
                return detector_factory(name, cfg)
            return ProfileDetector(name, cfg, config.models.dir, config.detect.threads, nice)

        # Single images detect on these threads, so a call can stop waiting for a
        # detector that hangs; at most this many detections run (or hang) at once.
        self._deadline_slots = threading.BoundedSemaphore(config.server.workers)
        self._deadline_pool = ThreadPoolExecutor(
            config.server.workers, thread_name_prefix="detect-image"
        )
        policies = config.policy.policies.values()
        used = {p.profile for p in policies} | {p.stream_profile for p in policies}
        if config.live.motion.enabled:
            used.add(config.live.motion.profile)
            if config.live.look.enabled:
                used.add(config.live.look.profile)
        self.detectors: dict[str, Detector] = {}
        self.sweeper: Sweeper | None = None
        # each camera's still ground as its last stream left it, for its next stream
        sweep = config.live.sweep
        self.cameras = (
            CameraMemory(sweep.remember_s, round(sweep.remember_mb * 1e6))
            if sweep.enabled and sweep.remember_s > 0
            else None
        )
        self._sweep_detectors: list[Detector] = []
        try:
            for name in sorted(used):
                self.detectors[name] = make(name, config.detect.profiles[name])
            sweep = config.live.sweep
            if sweep.enabled:
                # Instances of their own: the sweeps' at sweep.nice, a stream's start sweeps
                # at first_nice.
                whole = config.detect.profiles[sweep.profile]
                det = make(sweep.profile, whole, sweep.nice)
                self._sweep_detectors.append(det)
                first = make(sweep.profile, whole, sweep.first_nice)
                self._sweep_detectors.append(first)
                again = first
                text = whole.plates_only() if sweep.start_again == "text" else None
                if text is not None:
                    again = make(f"{sweep.profile}:text", text, sweep.first_nice)
                    self._sweep_detectors.append(again)
                self.sweeper = Sweeper(
                    det,
                    sweep.nice,
                    sweep.busy_share,
                    first,
                    sweep.first_nice,
                    self.metrics.sweep_done,
                    again=again,
                )
        except Exception:
            self.close()
            raise
        # profile -> seconds its warm-up detection took; the configured plugins only
        # (a factory's detectors are test doubles, some made to hang)
        self.warmed: dict[str, float] = self._warm_up() if detector_factory is None else {}
        kernels.warmup()  # compile cost stays out of the first frame
        log.info("engine ready: profiles %s", ", ".join(sorted(used)))

    def _warm_up(self) -> dict[str, float]:
        """One detection per profile on a blank frame of `detect.warmup_size`, the sweep's
        first: the largest runs go first, so the others fit in the memory they took.
        A failure is logged, not raised: detection fails closed on frames anyway."""
        w, h = self.config.detect.warmup_size
        if not w or not h:
            return {}
        blank = np.zeros((h, w, 3), np.uint8)
        sweep = self.config.live.sweep.profile if self._sweep_detectors else None
        jobs = [(sweep, self._sweep_detectors[0])] if sweep is not None else []
        jobs += [(n, d) for n, d in self.detectors.items() if n != sweep]
        took: dict[str, float] = {}
        for name, det in jobs:
            t0 = time.perf_counter()
            try:
                det.detect(blank)
            except Exception:  # noqa: BLE001
                log.exception("warm-up of profile %r failed", name)
                continue
            took[name] = time.perf_counter() - t0
        log.info(
            "detectors warmed up on a blank %dx%d frame: %s",
            w,
            h,
            ", ".join(f"{n} {s:.1f} s" for n, s in took.items()),
        )
        return took

    def redactor(self, policy: ResolvedPolicy, live: bool = False) -> FrameRedactor:
        """Detection and masking under `policy`: for a live stream's whole frames with its
        `live_profile`, for anything else with its `profile`."""
        profile = policy.policy.stream_profile if live else policy.policy.profile
        return FrameRedactor(self.detectors[profile], policy, self.metrics.fail_closed_reason)

    def redact_within(self, redactor: FrameRedactor, frame: Frame, timeout_s: float) -> Redacted:
        """`redactor.redact(frame)`, giving detection at most `timeout_s`: a detection
        that fails, overruns or cannot start (every slot held by an overrunning one)
        leaves the frame fully masked. An overrunning detection is abandoned, not killed:
        it keeps its slot until it returns."""
        if not self._deadline_slots.acquire(blocking=False):
            return redactor.fail_closed(
                frame,
                "detector busy: every detection slot is held by "
                "detections past limits.detect_timeout_ms",
            )
        try:
            job = self._deadline_pool.submit(redactor.detect, frame)
        except RuntimeError as e:  # the engine is closing
            self._deadline_slots.release()
            return redactor.fail_closed(frame, f"detection unavailable: {e}")
        job.add_done_callback(lambda _: self._deadline_slots.release())
        try:
            found = job.result(timeout=timeout_s)
        except FutureTimeout:
            return redactor.fail_closed(
                frame,
                f"detection did not finish within limits.detect_timeout_ms = {timeout_s * 1000:.0f} ms",
            )
        except Exception as e:  # noqa: BLE001 - any detector failure fails closed
            return redactor.fail_closed(frame, f"{type(e).__name__}: {e}")
        return redactor.redact(frame, found)

    def close(self) -> None:
        self._deadline_pool.shutdown(wait=False, cancel_futures=True)
        if self.sweeper is not None:
            self.sweeper.close()
            self.sweeper = None
        for d in self._sweep_detectors:
            d.close()
        self._sweep_detectors.clear()
        for d in self.detectors.values():
            d.close()
        self.detectors.clear()
