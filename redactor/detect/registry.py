"""Builds the detectors of a profile from configuration, and runs them together."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from redactor.boxes import Region, suppress
from redactor.config import (
    CenterFaceConfig,
    DetectorConfig,
    MediaPipeFaceConfig,
    OnnxDetectorConfig,
    PlateClassicConfig,
    PlateSsdConfig,
    PlateTextConfig,
    ProfileConfig,
)
from redactor.detect.base import Detector, check_frame, detect_in, work_px
from redactor.detect.threads import lower_priority, usable_cpus
from redactor.models import MODELS, model_file
from redactor.types import Detections


def build_detector(
    cfg: DetectorConfig, models_dir: Path | None = None, threads: int = 1
) -> Detector:
    """One plugin per config kind. Imports are local so unused runtimes never load.

    `threads` is what each runtime may use (DetectConfig.threads).
    """
    if isinstance(cfg, CenterFaceConfig):
        from redactor.detect.centerface import CenterFaceDetector

        return CenterFaceDetector(cfg, models_dir, threads)
    if isinstance(cfg, PlateTextConfig):
        from redactor.detect.plate_text import PlateTextDetector

        return PlateTextDetector(cfg, models_dir, threads)
    if isinstance(cfg, PlateClassicConfig):
        from redactor.detect.plate_classic import PlateClassicDetector

        return PlateClassicDetector(cfg)
    if isinstance(cfg, PlateSsdConfig):
        from redactor.detect.plate_ssd import PlateSsdDetector

        return PlateSsdDetector(cfg, models_dir)
    if isinstance(cfg, OnnxDetectorConfig):
        from redactor.detect.onnx_yolo import OnnxYoloDetector

        return OnnxYoloDetector(cfg, threads)
    if isinstance(cfg, MediaPipeFaceConfig):
        from redactor.detect.mediapipe_face import MediaPipeFaceDetector

        return MediaPipeFaceDetector(cfg, models_dir, threads)
    raise NotImplementedError(
        f"detector kind {getattr(cfg, 'kind', type(cfg).__name__)!r} has no plugin"
    )


@dataclass(frozen=True, slots=True)
class ModelFile:
    path: Path  # where it is on this machine
    required_sha256: str | None  # what the package requires; None for a user-supplied file


def profile_models(cfg: ProfileConfig, models_dir: Path | None = None) -> dict[str, ModelFile]:
    """The model files a profile's detectors load, by model name (a user-supplied ONNX
    file by its configured path)."""
    out: dict[str, ModelFile] = {}
    for d in cfg.detectors:
        if isinstance(d, OnnxDetectorConfig):
            out[str(d.path)] = ModelFile(Path(d.path).expanduser(), None)
            continue
        if isinstance(d, PlateSsdConfig):
            for name in ("plate_ssd_net", "plate_ssd"):  # as redactor.detect.plate_ssd loads them
                out[name] = ModelFile(model_file(name, models_dir), MODELS[name].sha256)
            continue
        if isinstance(d, CenterFaceConfig):
            name = "centerface"  # as redactor.detect.centerface loads it
        elif isinstance(d, PlateTextConfig):
            name = d.model
        elif isinstance(d, MediaPipeFaceConfig):
            name = f"blazeface_{d.model}"
        else:
            continue  # no model file (the classical plate localiser)
        out[name] = ModelFile(model_file(name, models_dir), MODELS[name].sha256)
    return out


class ProfileDetector:
    """All detectors of one profile; their boxes merged per label by NMS.

    With `cfg.parallel` the detectors of one frame run side by side on a thread
    pool (the runtimes release the GIL), so a frame's latency is about that of the
    slowest detector rather than the sum. The pool has a thread per CPU the process
    may use and takes the detectors with the most network input first: on two CPUs
    thorough's 3x face pass on a 768x576 frame is half the profile's work, and
    started beside six others it finished last (docs/detection.md#profiles-in-parallel).
    """

    def __init__(
        self,
        name: str,
        cfg: ProfileConfig,
        models_dir: Path | None = None,
        threads: int = 1,
        nice: int = 0,
        parallel: bool | None = None,
        workers: int | None = None,
    ) -> None:
        """`parallel` overrides `cfg.parallel` (False where the caller has one core);
        `workers`, the pool's threads (None: one per usable CPU)."""
        self.name = name
        self.cfg = cfg
        self.detectors: list[Detector] = []
        try:
            for d in cfg.detectors:
                self.detectors.append(build_detector(d, models_dir, threads))
        except BaseException:
            self.close()
            raise
        self.model_sha256 = ",".join(d.model_sha256 for d in self.detectors)
        self._pool = (
            ThreadPoolExecutor(
                min(len(self.detectors), workers or usable_cpus()),
                thread_name_prefix=f"detect-{name}",
                initializer=lower_priority,
                initargs=(nice,),
            )
            if (cfg.parallel if parallel is None else parallel) and len(self.detectors) > 1
            else None
        )

    def detect(self, bgr: npt.NDArray[np.uint8]) -> Detections:
        check_frame(bgr)
        return self._merged(lambda d: d.detect(bgr), bgr)

    def detect_in(self, bgr: npt.NDArray[np.uint8], regions: list[Region]) -> Detections:
        """The profile's boxes centred in `regions` (frame px): each detector's `detect_in`,
        merged as `detect` merges them."""
        check_frame(bgr)
        return self._merged(lambda d: detect_in(d, bgr, regions), bgr)

    def _merged(
        self, run: Callable[[Detector], Detections], bgr: npt.NDArray[np.uint8]
    ) -> Detections:
        """`run` on every detector of `bgr` (side by side where the pool allows, the most
        network input first), boxes merged per label in the profile's order."""
        if self._pool is not None:
            h, w = bgr.shape[:2]
            first = sorted(
                range(len(self.detectors)), key=lambda i: -work_px(self.detectors[i], w, h)
            )
            futures = {i: self._pool.submit(run, self.detectors[i]) for i in first}
            # re-raises the first failure: fail closed
            parts = [futures[i].result() for i in range(len(self.detectors))]
        else:
            parts = [run(d) for d in self.detectors]
        return suppress(Detections.concat(parts), self.cfg.merge_iou)

    def close(self) -> None:
        if getattr(self, "_pool", None) is not None:
            self._pool.shutdown(wait=True)  # type: ignore[union-attr]
            self._pool = None
        for d in self.detectors:
            d.close()
