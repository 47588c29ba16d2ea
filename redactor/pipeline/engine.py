"""What the server holds for its whole life: detectors per profile (models load
once, at start), the policy router, metrics, warm kernels."""

from __future__ import annotations

import logging
from collections.abc import Callable

from redactor import kernels
from redactor.config import Config, ProfileConfig
from redactor.detect.base import Detector
from redactor.detect.registry import ProfileDetector
from redactor.metrics import Metrics
from redactor.pipeline.frame import FrameRedactor
from redactor.policy import PolicyRouter, ResolvedPolicy

log = logging.getLogger(__name__)

DetectorFactory = Callable[[str, ProfileConfig], Detector]


class Engine:
    def __init__(self, config: Config, detector_factory: DetectorFactory | None = None,
                 metrics: Metrics | None = None) -> None:
        self.config = config
        self.router = PolicyRouter(config.policy)
        self.metrics = metrics or Metrics()
        factory = detector_factory or (
            lambda name, cfg: ProfileDetector(name, cfg, config.models.dir)
        )
        used = sorted({p.profile for p in config.policy.policies.values()})
        self.detectors: dict[str, Detector] = {}
        try:
            for name in used:
                self.detectors[name] = factory(name, config.detect.profiles[name])
        except Exception:
            self.close()
            raise
        kernels.warmup()  # compile cost stays out of the first frame
        log.info("engine ready: profiles %s", ", ".join(used))

    def redactor(self, policy: ResolvedPolicy) -> FrameRedactor:
        return FrameRedactor(
            self.detectors[policy.policy.profile], policy, self.metrics.fail_closed_reason
        )

    def close(self) -> None:
        for d in self.detectors.values():
            d.close()
        self.detectors.clear()
