"""Build-time check of the redactor image (the Dockerfile runs it as the image's user).

Fails the build where the image could not redact: a model file missing or with another
sha256, a system library a detector runtime needs missing from the slim base image
(MediaPipe's libmediapipe.so links libEGL and libGLESv2), or a kernel that does not compile.
Compiling the kernels here also fills Numba's cache ($NUMBA_CACHE_DIR), so a pod's start
loads them instead of compiling them (about 15 s of CPU on 2 cores).

    python deploy/image_check.py
"""

from __future__ import annotations

import sys

import numpy as np

from redactor.config import Config, DetectorConfig, MediaPipeFaceConfig
from redactor.detect.registry import build_detector
from redactor.kernels import warmup
from redactor.models import MODELS, model_path


def main() -> int:
    for name in MODELS:
        print(f"model ok   {model_path(name)}", flush=True)  # ModelMissing names the fix
    # every detector of the embedded profiles, and MediaPipe (a profile may use it)
    configs: list[DetectorConfig] = [MediaPipeFaceConfig()]
    for profile in Config().detect.profiles.values():
        configs += [d for d in profile.detectors if d not in configs]
    frame = np.zeros((96, 128, 3), np.uint8)
    for cfg in configs:
        detector = build_detector(cfg)
        try:
            detector.detect(frame)
        finally:
            detector.close()
        print(f"detector ok {cfg.kind}", flush=True)
    warmup()
    print("kernels ok", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
