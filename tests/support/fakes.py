"""Stand-in detectors with the Detector protocol (name, model_sha256, detect, close),
for fault injection and for tests where whatever is masked must come from elsewhere."""

from __future__ import annotations

import threading
import time

import numpy as np

from redactor.types import Detections


class RaisingDetector:
    """The detector runtime fails on every frame."""

    name = "raising"
    model_sha256 = ""

    def __init__(self, name: str | None = None, message: str = "injected detector failure") -> None:
        if name is not None:
            self.name = name
        self.message = message

    def detect(self, bgr: np.ndarray) -> object:
        raise RuntimeError(self.message)

    def close(self) -> None:
        pass


class GarbageDetector:
    """Returns something that is not Detections."""

    name = "garbage"
    model_sha256 = ""

    def detect(self, bgr: np.ndarray) -> object:
        return [[1, 2, 3]]  # not Detections

    def close(self) -> None:
        pass


class RegionGarbageDetector:
    """Finds nothing on whole frames; on parts of frames (detect_in) returns garbage."""

    name = "region-garbage"
    model_sha256 = ""

    def detect(self, bgr: np.ndarray) -> Detections:
        return Detections.empty()

    def detect_in(self, bgr: np.ndarray, regions: list[tuple[int, int, int, int]]) -> object:
        return [[1, 2, 3]]  # not Detections

    def close(self) -> None:
        pass


class HangingDetector:
    """Blocks every call until released (a wedged runtime), counting calls."""

    name = "hanging"
    model_sha256 = ""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.calls = 0
        self._lock = threading.Lock()

    def detect(self, bgr: np.ndarray) -> object:
        with self._lock:
            self.calls += 1
        self.release.wait(120)
        raise RuntimeError("released after hanging")

    def close(self) -> None:
        self.release.set()


class EmptyDetector:
    """Works and finds nothing, taking `delay_s` a call (0: at once)."""

    name = "empty"
    model_sha256 = ""

    def __init__(self, name: str | None = None, delay_s: float = 0.0) -> None:
        if name is not None:
            self.name = name
        self.delay_s = delay_s

    def detect(self, bgr: np.ndarray) -> Detections:
        if self.delay_s:
            time.sleep(self.delay_s)
        return Detections.empty()

    def close(self) -> None:
        pass
