"""What operators could use instead, measured in the same run on the same data.

    python -m bench.peers --setup      # create bench/.peers/venv and install deface there

Peers:
- deface (ORB-HD/deface): faces only. Installed with pip into its own virtual
  environment, bench/.peers/venv (git-ignored), so it never enters the
  project's dependencies; onnx and onnxruntime go in beside it, which makes its
  default backend ("auto") ONNX Runtime, the CPU set-up its README recommends.
  Speed: its own command line with default settings on the clip; its start-up
  is timed on the clip's first frame alone and reported apart, so that its
  rate compares with a redactor server that is already running. Recall: bench/deface_masks.py, run by that environment's
  python, runs deface's detector and deface's own mask drawing with its CLI
  defaults on each labelled image and writes the masks (checked against the
  CLI's real output by `check_deface_masks`).
- An OpenCV-only baseline: Haar cascades (haarcascade_frontalface_default and
  haarcascade_russian_plate_number, from cv2.data) with OpenCV's default
  detectMultiScale settings on the equalised grey image, each detection
  blurred with cv2.GaussianBlur. It needs only OpenCV, which the project has.

Scoring is bench.eval's: a labelled box is protected when the union of all
masks on the image covers at least 80% of it; recall overall and by size, with
the share of the image masked.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np
import numpy.typing as npt

from bench.eval_score import coverage, longest_side, recall_table
from redactor.data import LabelledImage

BENCH_DIR = Path(__file__).resolve().parent
PEERS_DIR = BENCH_DIR / ".peers"
VENV = PEERS_DIR / "venv"
DEFACE_MASKS = BENCH_DIR / "deface_masks.py"
# Pinned so that two runs compare the same peer; onnx/onnxruntime as the project pins them.
DEFACE_REQUIREMENTS = ("deface==1.5.0", "onnx==1.23.2", "onnxruntime==1.32.0")
_MARKER = VENV / ".bench-requirements"
INSTALL_TIMEOUT_S = 1200
DEFACE_TIMEOUT_S = 3600

FACE_CASCADE = "haarcascade_frontalface_default.xml"
PLATE_CASCADE = "haarcascade_russian_plate_number.xml"
HAAR_SCALE_FACTOR = 1.1  # OpenCV's defaults for detectMultiScale
HAAR_MIN_NEIGHBORS = 3
BLUR_SIGMA_PER_SIDE = 1 / 6  # GaussianBlur sigma as a share of the box's long side

U8 = npt.NDArray[np.uint8]
Mask = npt.NDArray[np.bool_]


# ------------------------------------------------------------------ the peers' environment


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")


def deface_command() -> Path:
    return VENV / ("Scripts/deface.exe" if sys.platform == "win32" else "bin/deface")


def deface_ready() -> bool:
    """The peers' environment exists with exactly the pinned requirements installed."""
    return (
        _MARKER.is_file()
        and _MARKER.read_text().split() == list(DEFACE_REQUIREMENTS)
        and venv_python().is_file()
        and deface_command().is_file()
    )


def setup_deface(log: Path | None = None) -> None:
    """Creates bench/.peers/venv and installs the pinned deface there (needs PyPI)."""
    if deface_ready():
        return
    out = log.open("a") if log else None
    try:
        if not venv_python().is_file():
            subprocess.run(
                [sys.executable, "-m", "venv", str(VENV)],
                check=True,
                stdout=out,
                stderr=out,
                timeout=INSTALL_TIMEOUT_S,
            )
        subprocess.run(
            [str(venv_python()), "-m", "pip", "install", "-q", *DEFACE_REQUIREMENTS],
            check=True,
            stdout=out,
            stderr=out,
            timeout=INSTALL_TIMEOUT_S,
        )
    except subprocess.CalledProcessError as e:
        raise RuntimeError(
            f"installing {' '.join(DEFACE_REQUIREMENTS)} into {VENV} failed "
            f"(exit {e.returncode}; see {log})"
        ) from e
    finally:
        if out:
            out.close()
    _MARKER.write_text("\n".join(DEFACE_REQUIREMENTS) + "\n")


def peers_versions() -> dict[str, str]:
    """name -> version of everything in the peers' environment (pip freeze)."""
    if not venv_python().is_file():
        return {}
    out = subprocess.run(
        [str(venv_python()), "-m", "pip", "freeze", "--all"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    pairs = (line.split("==", 1) for line in out.stdout.splitlines() if "==" in line)
    return {name: version for name, version in pairs}


# ------------------------------------------------------------------ scoring (bench.eval's rule)


def score(
    items: list[LabelledImage], masks: Iterable[Mask], own: Iterable[Mask] | None, ms: list[float]
) -> dict[str, Any]:
    """The same figures as bench.eval's score_set: recall by size, masked share, ms per image."""
    covered: list[npt.NDArray[np.float64]] = []
    sizes: list[npt.NDArray[np.float32]] = []
    share: list[float] = []
    share_own: list[float] = []
    own_iter = iter(own) if own is not None else None
    for item, mask in zip(items, masks, strict=True):
        if mask.shape != (item.height, item.width):
            raise ValueError(
                f"{item.path}: mask is {mask.shape[1]}x{mask.shape[0]}, "
                f"the labels say {item.width}x{item.height}"
            )
        covered.append(coverage(mask, item.boxes))
        sizes.append(longest_side(item.boxes))
        share.append(float(mask.mean()))
        share_own.append(float(next(own_iter).mean()) if own_iter is not None else share[-1])
    cov = np.concatenate(covered) if covered else np.zeros(0)
    return {
        "images": len(items),
        "boxes": int(len(cov)),
        "recall": recall_table(cov, np.concatenate(sizes) if sizes else np.zeros(0, np.float32)),
        "masked_share": float(np.mean(share)) if share else 0.0,
        "masked_share_own_label": float(np.mean(share_own)) if share_own else 0.0,
        "ms_per_image_median": float(statistics.median(ms)) if ms else 0.0,
    }


# ------------------------------------------------------------------ deface


def deface_images(items: list[LabelledImage], workdir: Path) -> dict[str, Any]:
    """deface's masks on the labelled images, scored; detection ms from deface's own timing."""
    workdir.mkdir(parents=True, exist_ok=True)
    listing = workdir / "images.json"
    listing.write_text(json.dumps([str(it.path) for it in items]))
    out_dir = workdir / "masks"
    with (workdir / "deface_masks.log").open("w") as log:
        subprocess.run(
            [str(venv_python()), str(DEFACE_MASKS), str(listing), str(out_dir)],
            check=True,
            stdout=log,
            stderr=log,
            timeout=DEFACE_TIMEOUT_S,
        )
    info = json.loads((out_dir / "result.json").read_text())

    def masks() -> Iterable[Mask]:
        for i, _ in enumerate(items):
            m = cv2.imread(str(out_dir / f"{i:05d}.png"), cv2.IMREAD_GRAYSCALE)
            if m is None:
                raise RuntimeError(f"deface_masks.py wrote no mask for image {i} ({out_dir})")
            yield m > 0

    result = score(items, masks(), None, info["detect_ms"])
    result.update(
        {
            "deface": info["deface"],
            "backend": info["backend"],
            "settings": info["settings"],
            "model_load_s": info["model_load_s"],
            "errors": info["errors"],
        }
    )
    return result


def check_deface_masks(items: list[LabelledImage], workdir: Path) -> dict[str, Any]:
    """The recovered masks against deface's real CLI output on the same images.

    Each image is written as PNG (lossless), deface's CLI anonymises it with its
    defaults, and every pixel it changed must lie inside the mask that
    deface_masks.py recovers for the same PNG.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    pngs = []
    for i, it in enumerate(items):
        img = cv2.imread(str(it.path), cv2.IMREAD_COLOR)
        if img is None:
            raise RuntimeError(f"cannot read {it.path}")
        pngs.append(workdir / f"{i:05d}.png")
        cv2.imwrite(str(pngs[-1]), img)
    listing = workdir / "images.json"
    listing.write_text(json.dumps([str(p) for p in pngs]))
    with (workdir / "check.log").open("w") as log:
        subprocess.run(
            [str(venv_python()), str(DEFACE_MASKS), str(listing), str(workdir / "masks")],
            check=True,
            stdout=log,
            stderr=log,
            timeout=DEFACE_TIMEOUT_S,
        )
        subprocess.run(
            [str(deface_command()), *map(str, pngs)],
            check=True,
            stdout=log,
            stderr=log,
            timeout=DEFACE_TIMEOUT_S,
        )
    outside = unchanged = masked = 0
    for i, png in enumerate(pngs):
        before = cv2.imread(str(png), cv2.IMREAD_COLOR)
        after = cv2.imread(str(png.with_name(f"{png.stem}_anonymized.png")), cv2.IMREAD_COLOR)
        mask = cv2.imread(str(workdir / "masks" / f"{i:05d}.png"), cv2.IMREAD_GRAYSCALE)
        if before is None or after is None or mask is None:
            raise RuntimeError(
                f"deface check: missing output for {png} (see {workdir / 'check.log'})"
            )
        changed = (before != after).any(axis=2)
        inside = mask > 0
        outside += int((changed & ~inside).sum())
        unchanged += int((inside & ~changed).sum())
        masked += int(inside.sum())
    return {
        "images": len(pngs),
        "changed_pixels_outside_recovered_mask": outside,
        "recovered_mask_pixels": masked,
        "recovered_mask_pixels_left_equal_by_its_blur": unchanged,
    }


def _deface_cli(clip: Path, out: Path, log: Path) -> float:
    """Wall seconds of deface's CLI, default settings, on `clip`."""
    t0 = time.perf_counter()
    with log.open("a") as f:
        subprocess.run(
            [str(deface_command()), str(clip), "-o", str(out)],
            check=True,
            stdout=f,
            stderr=f,
            timeout=DEFACE_TIMEOUT_S,
        )
    if not out.is_file():
        raise RuntimeError(f"deface wrote no output for {clip} (see {log})")
    return time.perf_counter() - t0


def deface_clip(clip: Path, frames: int, workdir: Path) -> dict[str, Any]:
    """deface's CLI on the clip: frames per second of wall time, and after its start-up.

    The start-up (imports, model load, first frame, encoder) is timed on the
    clip's first frame alone; `fps` is the rate after it, comparable with a
    server that is already running. `fps_wall` is what one CLI call achieves.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    log = workdir / "deface_cli.log"
    one = cut(clip, 1, workdir / f"first_frame{clip.suffix}")
    startup = _deface_cli(one, workdir / "deface_first_frame.mp4", log)
    wall = _deface_cli(clip, workdir / "deface_out.mp4", log)
    steady = (frames - 1) / (wall - startup) if frames > 1 and wall > startup else None
    return {
        "frames": frames,
        "seconds": wall,
        "fps_wall": frames / wall,
        "startup_s": startup,
        "fps": steady,
    }


# ------------------------------------------------------------------ OpenCV baseline


class Haar:
    """Haar cascades for faces and plates, as OpenCV ships them."""

    def __init__(self) -> None:
        root = Path(cv2.data.haarcascades)  # type: ignore[attr-defined]
        self.face = cv2.CascadeClassifier(str(root / FACE_CASCADE))
        self.plate = cv2.CascadeClassifier(str(root / PLATE_CASCADE))
        if self.face.empty() or self.plate.empty():
            raise RuntimeError(
                f"OpenCV's Haar cascades {FACE_CASCADE}, {PLATE_CASCADE} not found in {root}"
            )

    def detect(self, bgr: U8) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]:
        """(faces, plates) as (n, 4) x, y, w, h."""
        grey = cv2.equalizeHist(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY))
        faces = self.face.detectMultiScale(grey, HAAR_SCALE_FACTOR, HAAR_MIN_NEIGHBORS)
        plates = self.plate.detectMultiScale(grey, HAAR_SCALE_FACTOR, HAAR_MIN_NEIGHBORS)
        return np.asarray(faces, np.int32).reshape(-1, 4), np.asarray(plates, np.int32).reshape(
            -1, 4
        )


def _raster(rects: npt.NDArray[np.int32], height: int, width: int) -> Mask:
    mask = np.zeros((height, width), bool)
    for x, y, w, h in rects:
        mask[max(0, y) : y + h, max(0, x) : x + w] = True
    return mask


def blur(bgr: U8, rects: npt.NDArray[np.int32]) -> None:
    """cv2.GaussianBlur over each detection, in place."""
    for x, y, w, h in rects:
        roi = bgr[max(0, y) : y + h, max(0, x) : x + w]
        if roi.size:
            cv2.GaussianBlur(roi, (0, 0), max(1.0, max(w, h) * BLUR_SIGMA_PER_SIDE), dst=roi)


def haar_images(items: list[LabelledImage], own: str) -> dict[str, Any]:
    """The baseline's masks (faces and plates together, as the picture gets them), scored."""
    haar = Haar()
    masks: list[Mask] = []
    owns: list[Mask] = []
    ms: list[float] = []
    for item in items:
        read = cv2.imread(str(item.path), cv2.IMREAD_COLOR)
        if read is None:
            raise RuntimeError(f"cannot read {item.path}")
        img = np.ascontiguousarray(read, dtype=np.uint8)
        h, w = img.shape[:2]
        t0 = time.perf_counter()
        faces, plates = haar.detect(img)
        ms.append((time.perf_counter() - t0) * 1000)
        masks.append(_raster(np.concatenate([faces, plates]), h, w))
        owns.append(_raster(faces if own == "face" else plates, h, w))
    return score(items, masks, owns, ms)


def haar_clip(clip: Path, frames: int, workdir: Path) -> dict[str, Any]:
    """The baseline end to end on the clip: decode, detect, blur, encode (MPEG-4), fps of wall time."""
    workdir.mkdir(parents=True, exist_ok=True)
    haar = Haar()
    cap = cv2.VideoCapture(str(clip))
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    writer: cv2.VideoWriter | None = None
    n = 0
    t0 = time.perf_counter()
    try:
        while n < frames:
            ok, read = cap.read()
            if not ok:
                break
            frame = np.ascontiguousarray(read, dtype=np.uint8)
            if writer is None:
                h, w = frame.shape[:2]
                writer = cv2.VideoWriter(
                    str(workdir / "haar_out.mp4"), cv2.VideoWriter.fourcc(*"mp4v"), fps, (w, h)
                )
            faces, plates = haar.detect(frame)
            blur(frame, np.concatenate([faces, plates]))
            writer.write(frame)
            n += 1
    finally:
        cap.release()
        if writer is not None:
            writer.release()
    wall = time.perf_counter() - t0
    return {"frames": n, "seconds": wall, "fps": n / wall if wall else 0.0}


# ------------------------------------------------------------------ the clip


def clip_frames(clip: Path) -> int:
    """Frames in the clip, counted by decoding (container counts can be wrong)."""
    with av.open(str(clip)) as c:
        return sum(1 for _ in c.decode(video=0))


def cut(clip: Path, frames: int, dst: Path) -> Path:
    """The first `frames` packets of `clip` in the same container and codec (no re-encoding)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(clip)) as inp, av.open(str(dst), "w") as out:
        s = inp.streams.video[0]
        o = out.add_stream_from_template(s)
        for i, packet in enumerate(inp.demux(s)):
            if packet.pts is None or i >= frames:
                break
            packet.stream = o
            out.mux(packet)
    return dst


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.peers", description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--setup",
        action="store_true",
        help=f"create {VENV} and install {' '.join(DEFACE_REQUIREMENTS)}",
    )
    args = ap.parse_args(argv)
    if args.setup:
        setup_deface()
        print(
            f"deface ready in {VENV}: "
            + ", ".join(
                f"{k} {v}"
                for k, v in peers_versions().items()
                if k in ("deface", "onnxruntime", "opencv-python")
            )
        )
        return 0
    ap.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
