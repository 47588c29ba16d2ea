"""Exports, measured: speed as a multiple of real time, and what the look-ahead buys.

    python -m bench.export [--clip videos/opencv_vtest.avi] [--frames N] [--holds 1,2]
                           [--detections D.npz [--reuse]] [--skip-lookahead] [--json OUT.json]

Speed: the clip is put in a temporary archive and exported by the export
service (ExportService.create, then watch until DONE: what CreateExport and
WatchExport do behind gRPC); speed = the clip's duration / the wall time from
request to DONE. It depends mostly on the export profile's detectors, which
are reported. The export's detector is wrapped to keep what it found on each
frame, so the look-ahead measurement below reuses that same run.

Look-ahead: the export profile's boxes (from the run above) are joined by a
denser reference detector's (BlazeFace over 128 px tiles, which magnifies
small faces 1.5x) to form the reference. A reference face counts when its reference track matches a box the
export profile finds on at least one frame ("a face the thorough detector
finds somewhere in the clip"). For each reference face on each frame: is it
covered at least 80% by the masks? Masks are computed three ways from the same
detections and policy: per-frame detections only; a live (forward-only)
tracker; and the export's forward+backward tracking (the look-ahead). Reported:
frames with at least one such face unmasked, face-frames unmasked, and the
share of the image masked (masking everything protects everything and is useless).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt

from bench.eval_score import box_mask, coverage
from redactor.boxes import iou_matrix, suppress
from redactor.config import Config, ExportConfig, MediaPipeFaceConfig, ProfileConfig
from redactor.data import data_dir
from redactor.detect.base import Detector
from redactor.detect.registry import ProfileDetector
from redactor.export.archive import Archive
from redactor.export.jobs import ExportRequest, ExportState
from redactor.export.redact import DetectPass, plan_masks, track
from redactor.export.service import ExportService
from redactor.export.video import read_frames
from redactor.pipeline.masking import masks_for
from redactor.track import TrackerParams, track_clip
from redactor.types import Detections, Label, MaskReason, Masks

COVER = 0.8
MATCH_IOU = 0.3  # a reference box is "found by the export profile" at this IoU
REFERENCE_TILE = 128
REFERENCE_MIN_SCORE = 0.5
RECORDING_NAME = "20240501T080000"
CAMERA = "bench"


@dataclass
class Speed:
    clip: str
    frames: int
    clip_seconds: float
    wall_seconds: float
    cpu_seconds: float  # this process's CPU time over the export (all threads)
    load_average: float  # the machine's 1-minute load average at the end (2 cores shared)
    detect_seconds: float
    times_real_time: float
    profile: str
    detectors: list[str]


@dataclass
class Variant:
    name: str
    unmasked_frames: int  # frames where at least one reference face is unmasked
    unmasked_face_frames: int
    masked_area_share: float


@dataclass
class Lookahead:
    frames: int
    reference_faces: int  # reference tracks that the export profile finds somewhere
    reference_face_frames: int
    variants: list[Variant]


def _archive(tmp: Path, clip: Path, frames: int | None) -> str:
    """Puts the clip (or its first `frames` frames) into a temporary archive; returns its name."""
    dst = tmp / "archive" / CAMERA / f"{RECORDING_NAME}{clip.suffix}"
    dst.parent.mkdir(parents=True)
    if frames is None:
        shutil.copyfile(clip, dst)
    else:
        with av.open(str(clip)) as inp, av.open(str(dst), "w") as out:
            s = inp.streams.video[0]
            o = out.add_stream_from_template(s)
            for i, packet in enumerate(inp.demux(s)):
                if packet.pts is None or i >= frames:
                    break
                packet.stream = o
                out.mux(packet)
    return f"{CAMERA}/{dst.name}"


def _config(tmp: Path) -> Config:
    return Config(
        export=ExportConfig(
            archive_root=tmp / "archive",
            output_dir=tmp / "exports",
            ledger_path=tmp / "ledger.sqlite",
            key_path=tmp / "key.pem",
        )
    )


class Recorder:
    """The export profile's detector, keeping each frame's Detections in order."""

    def __init__(self, inner: ProfileDetector) -> None:
        self.inner = inner
        self.name, self.model_sha256 = inner.name, inner.model_sha256
        self.detectors = inner.detectors
        self.found: list[Detections] = []

    def detect(self, bgr: npt.NDArray[np.uint8]) -> Detections:
        d = self.inner.detect(bgr)
        self.found.append(d)
        return d

    def close(self) -> None:
        self.inner.close()


def measure_speed(tmp: Path, recording: str, clip_name: str) -> tuple[Speed, list[Detections]]:
    config = _config(tmp)
    recorders: list[Recorder] = []

    def factory(profile: str) -> Detector:
        recorders.append(
            Recorder(ProfileDetector(profile, config.detect.profiles[profile], config.models.dir))
        )
        return recorders[-1]

    service = ExportService(config, detector_factory=factory)
    try:
        t0, c0 = time.perf_counter(), time.process_time()
        job = service.create(
            ExportRequest(
                recording=recording,
                recipient="bench",
                officer="bench",
                purpose="speed measurement",
                legal_basis="none (benchmark)",
            ),
            "bench",
        )
        last = list(service.watch(job.id))[-1]
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        if last.state is not ExportState.DONE:
            raise SystemExit(f"export failed: {last.error}")
        doc = json.loads(Path(last.manifest_path).read_text())["manifest"]
    finally:
        service.close()
    frames = doc["output"]["frame_count"]
    seconds = frames / eval_fraction(doc["output"]["frame_rate"])
    speed = Speed(
        clip_name,
        frames,
        round(seconds, 2),
        round(wall, 2),
        round(cpu, 2),
        round(os.getloadavg()[0], 2),
        doc["detection"]["seconds"],
        round(seconds / wall, 3),
        doc["detection"]["profile"],
        [d["name"] for d in doc["detection"]["detectors"]],
    )
    return speed, recorders[0].found


def eval_fraction(text: str) -> float:
    num, _, den = text.partition("/")
    return float(num) / float(den or 1)


def _reference(
    config: Config, recording: str, export_found: list[Detections]
) -> tuple[DetectPass, list[Detections]]:
    """The export run's detections with frame times, and the reference per frame."""
    extra = ProfileDetector(
        "reference",
        ProfileConfig(
            detectors=(
                MediaPipeFaceConfig(
                    model="full", min_score=REFERENCE_MIN_SCORE, tile=REFERENCE_TILE
                ),
            )
        ),
        config.models.dir,
    )
    selection = Archive(config.export.archive_root).select_file(recording)
    found = DetectPass(selection.info.width, selection.info.height)
    reference: list[Detections] = []
    try:
        for f in read_frames(selection.path):
            d = export_found[f.index].clipped(found.width, found.height)
            found.pts.append(f.pts)
            found.t_us.append(f.t_us)
            found.detections.append(d)
            faces = Detections.concat([d.of(Label.FACE), extra.detect(f.bgr).of(Label.FACE)])
            reference.append(suppress(faces, 0.3))
    finally:
        extra.close()
    if len(found) != len(export_found):
        raise SystemExit(f"the export saw {len(export_found)} frames, the reference {len(found)}")
    return found, reference


def reference_faces(
    found: DetectPass, reference: list[Detections], params: TrackerParams
) -> tuple[list[npt.NDArray[np.float32]], int]:
    """Per frame, the reference boxes of faces that the export profile finds somewhere."""
    tracked = track_clip(reference, found.t_us, params)
    qualifying: set[int] = set()
    for tf, export_d in zip(tracked, found.detections, strict=True):
        detected = tf.reasons == int(MaskReason.DETECTED)
        faces = export_d.of(Label.FACE).boxes
        ious = iou_matrix(tf.detections.boxes[detected], faces)
        hit = ious.max(axis=1) >= MATCH_IOU if ious.size else np.zeros(int(detected.sum()), bool)
        qualifying.update(int(t) for t in tf.detections.track_ids[detected][hit])
    per_frame = []
    for tf in tracked:
        keep = (tf.reasons == int(MaskReason.DETECTED)) & np.isin(
            tf.detections.track_ids, list(qualifying)
        )
        per_frame.append(tf.detections.boxes[keep])
    return per_frame, len(qualifying)


def score(
    name: str, masks: list[Masks], ref: list[npt.NDArray[np.float32]], w: int, h: int
) -> Variant:
    unmasked_frames = unmasked = 0
    area = 0.0
    for m, boxes in zip(masks, ref, strict=True):
        cover = box_mask(m.boxes, w, h) if not m.full_frame else np.ones((h, w), bool)
        area += float(cover.mean())
        if len(boxes):
            missed = int((coverage(cover, boxes) < COVER).sum())
            unmasked += missed
            unmasked_frames += int(missed > 0)
    return Variant(name, unmasked_frames, unmasked, round(area / max(len(masks), 1), 4))


def _save(path: Path, found: DetectPass, reference: list[Detections]) -> None:
    """The clip's frame times and both detectors' boxes, to analyse again without detecting."""
    arrays: dict[str, npt.NDArray[np.generic]] = {
        "size": np.array([found.width, found.height]),
        "pts": np.array(found.pts, np.int64),
        "t_us": np.array(found.t_us, np.int64),
    }
    for name, per_frame in (("export", found.detections), ("reference", reference)):
        rows = [
            np.column_stack([np.full(len(d), i), d.boxes, d.scores, d.labels])
            for i, d in enumerate(per_frame)
        ]
        arrays[name] = np.concatenate(rows) if rows else np.zeros((0, 7))
    np.savez_compressed(path, **arrays)  # type: ignore[arg-type]


def _load(path: Path) -> tuple[DetectPass, list[Detections]]:
    z = np.load(path)
    found = DetectPass(int(z["size"][0]), int(z["size"][1]), z["pts"].tolist(), z["t_us"].tolist())
    n = len(found.pts)

    def per_frame(a: npt.NDArray[np.float64]) -> list[Detections]:
        return [
            Detections.create(a[a[:, 0] == i, 1:5], a[a[:, 0] == i, 5], a[a[:, 0] == i, 6])
            for i in range(n)
        ]

    found.detections = per_frame(z["export"])
    return found, per_frame(z["reference"])


def measure_lookahead(
    found: DetectPass, reference: list[Detections], config: Config, holds: list[float]
) -> Lookahead:
    policy = config.policy.policies[config.export.default_policy]
    # the reference tracks are the same whatever hold the masks are made with
    ref, n_faces = reference_faces(
        found, reference, TrackerParams(hold_s=config.export.lookahead_s)
    )
    w, h = found.width, found.height
    detections_only = [masks_for(d, policy, w, h) for d in found.detections]
    variants = [score("detections only (no tracking)", detections_only, ref, w, h)]
    for hold in holds:
        params = TrackerParams(hold_s=hold)
        variants += [
            score(
                f"live tracker, forward only, hold {hold:g} s",
                plan_masks(found, track(found, params, lookahead=False), policy).masks,
                ref,
                w,
                h,
            ),
            score(
                f"export look-ahead, fwd+bwd, hold {hold:g} s",
                plan_masks(found, track(found, params, lookahead=True), policy).masks,
                ref,
                w,
                h,
            ),
        ]
    return Lookahead(len(found), n_faces, int(sum(len(r) for r in ref)), variants)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.export", description=__doc__.split("\n\n")[0])
    p.add_argument("--clip", default="videos/opencv_vtest.avi", help="path inside the shared data")
    p.add_argument("--frames", type=int, help="only the first N frames (default: the whole clip)")
    p.add_argument("--skip-lookahead", action="store_true")
    p.add_argument(
        "--holds",
        default="",
        help="hold/look-ahead seconds to compare, e.g. 1,2 (default: export.lookahead_s)",
    )
    p.add_argument(
        "--detections",
        type=Path,
        help="save both detectors' boxes here (.npz); with --reuse, load them instead "
        "of exporting (no speed figure then)",
    )
    p.add_argument("--reuse", action="store_true")
    p.add_argument("--json", type=Path, help="write the results here too")
    args = p.parse_args(argv)
    config = Config()
    holds = [float(x) for x in args.holds.split(",") if x] or [config.export.lookahead_s]
    results: dict[str, object] = {
        "clip": args.clip,
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    if args.reuse and args.detections and args.detections.is_file():
        found, reference = _load(args.detections)
    else:
        root = data_dir()
        if root is None or not (root / args.clip).is_file():
            print(f"shared data {args.clip} not found (set REDACTOR_DATA)", file=sys.stderr)
            return 2
        with tempfile.TemporaryDirectory(prefix="bench-export-") as d:
            tmp = Path(d)
            recording = _archive(tmp, root / args.clip, args.frames)
            speed, export_found = measure_speed(tmp, recording, args.clip)
            results["speed"] = asdict(speed)
            print(
                f"export of {speed.clip}: {speed.frames} frames ({speed.clip_seconds} s) in "
                f"{speed.wall_seconds} s = {speed.times_real_time}x real time; CPU {speed.cpu_seconds} s, "
                f"load average {speed.load_average} "
                f"(detection {speed.detect_seconds} s; profile {speed.profile}: "
                f"{', '.join(speed.detectors)})",
                flush=True,
            )
            if args.skip_lookahead:
                found, reference = DetectPass(0, 0), []
            else:
                found, reference = _reference(_config(tmp), recording, export_found)
                if args.detections:
                    _save(args.detections, found, reference)
    if len(found):
        la = measure_lookahead(found, reference, config, holds)
        results["lookahead"] = asdict(la)
        print(
            f"look-ahead on {la.frames} frames: {la.reference_faces} reference faces found by the "
            f"export profile somewhere, {la.reference_face_frames} face-frames"
        )
        for v in la.variants:
            print(
                f"  {v.name:42s} frames with an unmasked face: {v.unmasked_frames:4d}   "
                f"face-frames unmasked: {v.unmasked_face_frames:4d}   "
                f"image masked: {100 * v.masked_area_share:.2f}%"
            )
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
