"""Runs inside the peers' virtual environment (never the project's): deface's masks on images.

    bench/.peers/venv/bin/python bench/deface_masks.py LIST.json OUT_DIR

LIST.json is a JSON list of image paths. For each image, deface's own code runs
with its command line's defaults (read from its own argument parser, so a new
deface version's defaults are the ones used): the image is read as its CLI
reads images (imageio), its CenterFace detector runs with the default
threshold, and its own `anonymize_frame` draws the default masks (blur,
ellipse, mask scale) -- on a checkerboard canvas of the image's size instead of
the image, so that every pixel its filter touches changes. OUT_DIR/NNNNN.png is
255 where deface masked, 0 elsewhere; OUT_DIR/result.json holds the detection
time per image, the settings and the versions. A face too small for deface's
blur kernel (under 2 px after scaling) is left unchanged by deface and so
counts as not masked, as in its real output.

Imports only deface and its dependencies: nothing from redactor.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import imageio.v2 as iio
import numpy as np
from deface import __version__ as deface_version
from deface import deface as deface_cli
from deface.centerface import CenterFace


def cli_defaults() -> object:
    """deface's own parsed defaults (its parser reads sys.argv)."""
    saved = sys.argv
    sys.argv = ["deface", "placeholder-input"]
    try:
        return deface_cli.parse_cli_args()
    finally:
        sys.argv = saved


def checkerboard(height: int, width: int) -> np.ndarray:
    """0/255 alternating pixels: any blur, mosaic or fill changes every pixel it covers."""
    yy, xx = np.indices((height, width))
    board = ((yy + xx) % 2 * 255).astype(np.uint8)
    return np.repeat(board[:, :, None], 3, axis=2)


def main(argv: list[str]) -> int:
    listing, out_dir = Path(argv[0]), Path(argv[1])
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = json.loads(listing.read_text())
    a = cli_defaults()
    scale = getattr(a, "scale", None)
    in_shape = tuple(int(v) for v in scale.split("x")) if scale else None
    t0 = time.perf_counter()
    centerface = CenterFace(
        in_shape=in_shape,
        backend=a.backend,  # type: ignore[attr-defined]
        override_execution_provider=getattr(a, "execution_provider", None),
    )
    load_s = time.perf_counter() - t0
    ms: list[float] = []
    errors: list[str] = []
    for i, path in enumerate(paths):
        frame = iio.imread(path)
        if frame.ndim == 2:
            frame = np.repeat(frame[:, :, None], 3, axis=2)
        frame = np.ascontiguousarray(frame[:, :, :3])
        t = time.perf_counter()
        dets, _ = centerface(frame, threshold=a.thresh)  # type: ignore[attr-defined]
        ms.append((time.perf_counter() - t) * 1000)
        canvas = checkerboard(*frame.shape[:2])
        before = canvas.copy()
        try:
            deface_cli.anonymize_frame(
                dets,
                canvas,
                mask_scale=a.mask_scale,  # type: ignore[attr-defined]
                replacewith=a.replacewith,  # type: ignore[attr-defined]
                ellipse=not a.boxes,  # type: ignore[attr-defined]
                draw_scores=False,
                replaceimg=None,
                mosaicsize=a.mosaicsize,  # type: ignore[attr-defined]
            )
        except Exception as e:  # noqa: BLE001 - deface's CLI would stop here; this image gets no mask
            errors.append(f"{path}: {type(e).__name__}: {e}")
            canvas = before
        mask = (canvas != before).any(axis=2).astype(np.uint8) * 255
        iio.imwrite(out_dir / f"{i:05d}.png", mask)
    settings = {
        k: getattr(a, k, None)
        for k in ("thresh", "mask_scale", "replacewith", "boxes", "scale", "backend")
    }
    (out_dir / "result.json").write_text(
        json.dumps(
            {
                "deface": deface_version,
                "backend": centerface.backend,
                "settings": settings,
                "model_load_s": load_s,
                "detect_ms": ms,
                "errors": errors,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
