"""Detection, measured on real labelled photos: recall, masked share, speed.

    python -m bench.eval [--profile realtime|thorough] [--limit N]
                         [--faces CSV] [--plates CSV] [--policy NAME] [--config TOML]
                         [--masks-out DIR] [--json OUT.json] [--no-frames]

Runs the real pipeline on every image of the shared data's faces/ and plates/
(or any folder in that format): the profile's detectors, the masks the policy
really applies (its enlargement, ellipses where it asks for them, drawn by the
masking kernels), then scores the labelled boxes. A box counts as protected
when the union of all masks covers at least 80% of it (faces are scored
against plate masks too: that is what the picture gets). Prints Markdown
tables of recall overall and by size, the masked share of the image, median
ms per image, and median ms per 720p and 1080p frame (real photos resized,
after a warm-up), wall clock and CPU time. `--masks-out` writes one PNG per image (255 where masked)
under DIR/<faces|plates>/<the image's path in its folder>.png.

`run_eval(profile, limit)` returns the same figures as a dict.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import numpy.typing as npt

from bench import korean_plates
from bench.eval_score import (
    COVERED,
    PLATE_WIDTH_BUCKETS,
    SIZE_BUCKETS,
    coverage,
    longest_side,
    plate_lines,
    recall_by,
    recall_table,
)
from redactor.config import Config, PolicyConfig, load_config
from redactor.data import LabelledImage, data_dir, faces_csv, load_labels, plates_csv
from redactor.detect.registry import ProfileDetector
from redactor.pipeline.masking import apply_masks, masks_for
from redactor.types import Detections, Frame, Label

FRAME_SIZES = {"720p": (1280, 720), "1080p": (1920, 1080)}
FRAME_SOURCES = 3  # real photos resized to each frame size
FRAME_WARMUP = 2  # runs per frame before timing (first-call allocations, caches)
FRAME_REPEATS = 3  # timed passes over the frames
_WHITE = (255, 255, 255)
SKIP = Path("-")  # --faces - / --plates - / --korean -: leave that set out
# The synthetic Korean plates (bench/korean_plates.py), made once from seed 0, git-ignored.
KOREAN_DIR = Path(__file__).resolve().parent / "results" / "korean_plates"
KOREAN_COUNT = 400


def policy_for(cfg: Config, profile: str, name: str | None) -> tuple[str, PolicyConfig]:
    """The named policy, else the policy that uses `profile` (the default policy first)."""
    policies = cfg.policy.policies
    if name is not None:
        if name not in policies:
            raise SystemExit(f"policy {name!r} is not defined; defined: {sorted(policies)}")
        return name, policies[name]
    order = [cfg.policy.default_policy, *policies]
    for candidate in order:
        if policies[candidate].profile == profile:
            return candidate, policies[candidate]
    # No policy uses the profile: the default policy's masking, with this profile.
    base = policies[cfg.policy.default_policy]
    return f"{cfg.policy.default_policy}+{profile}", base.model_copy(update={"profile": profile})


def _read(path: Path) -> npt.NDArray[np.uint8]:
    img = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if img is None:
        raise SystemExit(f"cannot read {path}")
    return np.asarray(img, np.uint8)


def mask_raster(
    found: Detections, policy: PolicyConfig, width: int, height: int
) -> npt.NDArray[np.bool_]:
    """The pixels the policy masks for these detections, drawn by the real kernels.

    A blank frame is masked with style `fill` in white: whatever is white
    afterwards is what the policy's masks cover (enlargement, ellipse, clipping).
    """
    masks = masks_for(found, policy, width, height)
    frame = Frame.from_bgr(np.zeros((height, width, 3), np.uint8))
    apply_masks(frame, masks, policy.model_copy(update={"style": "fill", "fill_color": _WHITE}))
    return frame.planes[0][:, :, 0] > 0


def score_set(
    detector: ProfileDetector,
    policy: PolicyConfig,
    items: list[LabelledImage],
    label: Label,
    masks_out: Path | None,
    base: Path,
    progress: bool,
) -> dict[str, Any]:
    covered: list[npt.NDArray[np.float64]] = []
    sizes: list[npt.NDArray[np.float32]] = []
    widths: list[npt.NDArray[np.float32]] = []
    tags: list[str] = []
    share: list[float] = []
    share_own: list[float] = []
    ms: list[float] = []
    for i, item in enumerate(items):
        img = _read(item.path)
        h, w = img.shape[:2]
        if (w, h) != (item.width, item.height):
            raise SystemExit(
                f"{item.path}: labels say {item.width}x{item.height}, the file is {w}x{h}"
            )
        t0 = time.perf_counter()
        found = detector.detect(img)
        ms.append((time.perf_counter() - t0) * 1000)
        mask = mask_raster(found, policy, w, h)
        own = mask_raster(found.of(label), policy, w, h)
        covered.append(coverage(mask, item.boxes))
        sizes.append(longest_side(item.boxes))
        widths.append(item.boxes[:, 2] - item.boxes[:, 0])
        tags.extend(item.tags)
        share.append(float(mask.mean()))
        share_own.append(float(own.mean()))
        if masks_out is not None:
            out = masks_out / item.path.relative_to(base).with_suffix(".png")
            out.parent.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(out), mask.astype(np.uint8) * 255)
        if progress and (i + 1) % 50 == 0:
            print(f"  {i + 1}/{len(items)}", file=sys.stderr, flush=True)
    cov = np.concatenate(covered) if covered else np.zeros(0)
    table = recall_table(cov, np.concatenate(sizes) if sizes else np.zeros(0, np.float32))
    figures: dict[str, Any] = {
        "images": len(items),
        "boxes": int(len(cov)),
        "recall": table,
        "masked_share": float(np.mean(share)) if share else 0.0,
        "masked_share_own_label": float(np.mean(share_own)) if share_own else 0.0,
        "ms_per_image_median": float(statistics.median(ms)) if ms else 0.0,
    }
    if label is Label.PLATE:
        w = np.concatenate(widths) if widths else np.zeros(0, np.float32)
        figures["recall_by_width"] = recall_table(cov, w, PLATE_WIDTH_BUCKETS)
        figures["recall_by_lines"] = recall_by(cov, [plate_lines(t) for t in tags])
        figures["recall_by_label"] = recall_by(cov, tags)
    return figures


def frame_timing(
    detector: ProfileDetector, sources: list[Path]
) -> dict[str, dict[str, dict[str, float]]]:
    """Median ms per frame, wall clock and CPU (all threads), of the whole profile
    and of each detector alone, per frame size.

    On a shared machine the wall clock includes waiting for a core; the CPU
    time is what the work itself costs.
    """
    out: dict[str, dict[str, dict[str, float]]] = {}
    images = [_read(p) for p in sources]
    for name, (w, h) in FRAME_SIZES.items():
        frames = [
            np.asarray(cv2.resize(im, (w, h), interpolation=cv2.INTER_AREA), np.uint8)
            for im in images
        ]
        if not frames:
            continue
        row: dict[str, dict[str, float]] = {}
        runners = [("profile", detector.detect)] + [(d.name, d.detect) for d in detector.detectors]
        for what, run in runners:
            for f in frames[:FRAME_WARMUP]:
                run(f)
            wall, cpu = [], []
            for _ in range(FRAME_REPEATS):
                for f in frames:
                    t0, c0 = time.perf_counter(), time.process_time()
                    run(f)
                    wall.append((time.perf_counter() - t0) * 1000)
                    cpu.append((time.process_time() - c0) * 1000)
            row[what] = {
                "wall": float(statistics.median(wall)),
                "cpu": float(statistics.median(cpu)),
            }
        out[name] = row
    return out


def run_eval(
    profile: str,
    limit: int | None = None,
    *,
    faces: Path | None = None,
    plates: Path | None = None,
    korean: Path | None = None,
    policy: str | None = None,
    config: Path | None = None,
    masks_out: Path | None = None,
    frames: bool = True,
    progress: bool = False,
) -> dict[str, Any]:
    """Scores `profile` on the labelled faces and plates; the figures as a dict.

    CSVs default to the shared data's faces/faces.csv and plates/plates.csv and
    the synthetic Korean plates (made from seed 0 where absent, see korean_set);
    Path("-") leaves a set out; `limit` takes the first N images of each.
    """
    cfg = load_config(config)
    if profile not in cfg.detect.profiles:
        raise SystemExit(
            f"profile {profile!r} is not defined; defined: {sorted(cfg.detect.profiles)}"
        )
    faces = None if faces == SKIP else faces or faces_csv()
    plates = None if plates == SKIP else plates or plates_csv()
    korean = None if korean == SKIP else korean or korean_set(progress)
    if faces is None and plates is None and korean is None:
        raise SystemExit(
            f"no labelled data: set REDACTOR_DATA or pass --faces/--plates (looked in {data_dir()})"
        )
    policy_name, pol = policy_for(cfg, profile, policy)
    detector = ProfileDetector(
        profile, cfg.detect.profiles[profile], cfg.models.dir, threads=cfg.detect.threads
    )
    result: dict[str, Any] = {
        "profile": profile,
        "policy": policy_name,
        "enlarge": pol.enlarge,
        "ellipse": pol.ellipse,
        "detectors": [d.name for d in detector.detectors],
        "parallel": cfg.detect.profiles[profile].parallel,
        "threads": cfg.detect.threads,
        "covered_at": COVERED,
        "limit": limit,
        "cpus": os.cpu_count(),
        "load_before": os.getloadavg()[0],
    }
    try:
        plate_sources: list[Path] = []
        for kind, csv_path, label in (
            ("faces", faces, Label.FACE),
            ("plates", plates, Label.PLATE),
            ("korean_plates", korean, Label.PLATE),
        ):
            if csv_path is None:
                continue
            items = load_labels(csv_path)[:limit] if limit else load_labels(csv_path)
            if kind == "plates":
                plate_sources = [it.path for it in items if it.width * 9 == it.height * 16][
                    :FRAME_SOURCES
                ]
            if progress:
                print(f"{kind}: {len(items)} images", file=sys.stderr, flush=True)
            out_dir = masks_out / kind if masks_out else None
            result[kind] = score_set(
                detector, pol, items, label, out_dir, csv_path.parent, progress
            )
            result[kind]["csv"] = str(csv_path)
        if frames:
            sources = plate_sources
            if not sources and faces is not None:
                sources = [it.path for it in load_labels(faces)[:FRAME_SOURCES]]
            result["frame_ms"] = frame_timing(detector, sources)
        result["load_after"] = os.getloadavg()[0]
    finally:
        detector.close()
    return result


def korean_set(progress: bool = False) -> Path | None:
    """The synthetic Korean plates' CSV, generated (seed 0, KOREAN_COUNT) where absent;
    None, said on stderr, where the shared data or the Korean font is missing."""
    csv_path = KOREAN_DIR / "plates.csv"
    if csv_path.is_file():
        return csv_path
    try:
        if progress:
            print(f"making the synthetic Korean plates in {KOREAN_DIR}", file=sys.stderr)
        return korean_plates.generate(KOREAN_DIR, KOREAN_COUNT, seed=0)
    except RuntimeError as e:
        print(f"korean plates left out: {e}", file=sys.stderr)
        return None


def _recall_cells(table: dict[str, dict[str, float]], names: list[str]) -> list[str]:
    return [
        f"{table[n]['recall']:.3f} ({table[n]['n']})" if table.get(n, {}).get("n") else "-"
        for n in names
    ]


def plate_markdown(result: dict[str, Any]) -> list[str]:
    """Plate recall by width and by layout, one row per plate set."""
    sets = [k for k in ("plates", "korean_plates") if k in result]
    if not sets:
        return []
    widths = [b[0] for b in PLATE_WIDTH_BUCKETS]
    layouts = sorted({k for s in sets for k in result[s]["recall_by_lines"]})
    lines = [
        "",
        "| plates | recall | width "
        + " | ".join(widths)
        + " | "
        + " | ".join(layouts)
        + " | masked share |",
        "|---|---|" + "---|" * (len(widths) + len(layouts)) + "---|",
    ]
    for s in sets:
        r = result[s]
        lines.append(
            f"| {s} | **{r['recall']['all']['recall']:.3f}** | "
            + " | ".join(_recall_cells(r["recall_by_width"], widths))
            + " | "
            + " | ".join(_recall_cells(r["recall_by_lines"], layouts))
            + f" | {100 * r['masked_share']:.2f}% |"
        )
    labels = result.get("korean_plates", {}).get("recall_by_label", {})
    if labels:
        lines += [
            "",
            "Korean kinds: "
            + ", ".join(f"`{k}` {v['recall']:.3f} ({v['n']})" for k, v in labels.items()),
        ]
    return lines


def markdown(result: dict[str, Any]) -> str:
    """The result as Markdown tables."""
    lines = [
        f"### profile `{result['profile']}` (policy `{result['policy']}`: enlarge {result['enlarge']}"
        f"{', ellipse' if result['ellipse'] else ''}); detectors: {', '.join(result['detectors'])}"
        f"{' (in parallel)' if result['parallel'] else ''}; {result['threads']} thread(s) each",
        "",
        f"Recall = share of labelled boxes with >= {result['covered_at']:.0%} of their pixels masked. "
        f"Masked share = mean share of the image under any mask (own label only in brackets).",
        "",
        "| set | images | boxes | recall | "
        + " | ".join(b[0] for b in SIZE_BUCKETS)
        + " | masked share | ms per image (median) |",
        "|---|---|---|---|" + "---|" * len(SIZE_BUCKETS) + "---|---|",
    ]
    for kind in ("faces", "plates", "korean_plates"):
        if kind not in result:
            continue
        r = result[kind]
        rec = r["recall"]
        cells = [
            f"{rec[b[0]]['recall']:.3f} ({rec[b[0]]['n']})" if rec[b[0]]["n"] else "-"
            for b in SIZE_BUCKETS
        ]
        lines.append(
            f"| {kind} | {r['images']} | {r['boxes']} | **{rec['all']['recall']:.3f}** | "
            + " | ".join(cells)
            + f" | {100 * r['masked_share']:.1f}% ({100 * r['masked_share_own_label']:.1f}%) "
            f"| {r['ms_per_image_median']:.0f} |"
        )
    lines += plate_markdown(result)
    if "frame_ms" in result:
        names = list(next(iter(result["frame_ms"].values())).keys())
        lines += [
            "",
            "| frame, ms wall / CPU | " + " | ".join(f"`{n}`" for n in names) + " |",
            "|---|" + "---|" * len(names),
        ]
        for size, row in result["frame_ms"].items():
            lines.append(
                f"| {size} | "
                + " | ".join(f"{row[n]['wall']:.0f} / {row[n]['cpu']:.0f}" for n in names)
                + " |"
            )
    machine = (
        f"Machine: {result['cpus']} CPUs, shared; 1-min load {result['load_before']:.1f} before, "
        f"{result.get('load_after', float('nan')):.1f} after."
    )
    if "frame_ms" in result:
        machine += (
            f" Frame times: median of {FRAME_REPEATS} passes over {FRAME_SOURCES} real photos resized, after "
            f"{FRAME_WARMUP} warm-up runs; CPU = process time of all threads (detectors may run in parallel)."
        )
    lines += ["", machine]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.eval", description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--profile", default="realtime", help="detection profile (default: %(default)s)"
    )
    ap.add_argument("--limit", type=int, default=None, help="first N images of each set")
    ap.add_argument(
        "--faces",
        type=Path,
        default=None,
        help="faces CSV (default: shared data faces/faces.csv; '-' skips faces)",
    )
    ap.add_argument(
        "--plates",
        type=Path,
        default=None,
        help="plates CSV (default: shared data plates/plates.csv; '-' skips plates)",
    )
    ap.add_argument(
        "--korean",
        type=Path,
        default=None,
        help=f"Korean plates CSV (default: {KOREAN_DIR}/plates.csv, made from seed 0 "
        "by bench.korean_plates where absent; '-' skips them)",
    )
    ap.add_argument(
        "--policy", default=None, help="masking policy (default: the one that uses the profile)"
    )
    ap.add_argument(
        "--config", type=Path, default=None, help="TOML configuration (default: embedded)"
    )
    ap.add_argument(
        "--masks-out", type=Path, default=None, help="write one mask PNG per image under DIR"
    )
    ap.add_argument("--json", type=Path, default=None, help="also write the figures as JSON")
    ap.add_argument("--no-frames", action="store_true", help="skip the 720p/1080p frame timing")
    args = ap.parse_args(argv)
    result = run_eval(
        args.profile,
        args.limit,
        faces=args.faces,
        plates=args.plates,
        korean=args.korean,
        policy=args.policy,
        config=args.config,
        masks_out=args.masks_out,
        frames=not args.no_frames,
        progress=True,
    )
    print(markdown(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
