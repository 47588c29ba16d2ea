"""An export's plan kept on disk while it waits for review: detections, tracks, track list.

`<output_dir>/<id>.review/plan.npz` holds every frame's Detections (pass 1) and
TrackedFrame (the plan's tracks) as flat arrays with per-frame counts, and
`plan.json` the rest (sizes, times, failed frames, detectors, the tracks'
summary, the source's sha256). Loaded with allow_pickle off: the file is data.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from redactor.errors import FailedPrecondition
from redactor.export.redact import DetectPass
from redactor.review.model import TrackInfo
from redactor.track import TrackedFrame
from redactor.types import Detections, MaskReason

_ARRAYS = "plan.npz"
_META = "plan.json"


@dataclass(slots=True)
class Bundle:
    found: DetectPass
    tracked: list[TrackedFrame]
    detectors: list[dict[str, str]]
    tracks: list[TrackInfo]
    source_sha256: str


def save(folder: Path, bundle: Bundle) -> None:
    """Writes the bundle (files renamed into place when complete)."""
    folder.mkdir(parents=True, exist_ok=True)
    found, tracked = bundle.found, bundle.tracked
    arrays: dict[str, npt.NDArray[Any]] = {}
    arrays.update(_pack("det", found.detections))
    arrays.update(_pack("trk", [t.detections for t in tracked]))
    arrays["trk_reasons"] = (
        np.concatenate([t.reasons for t in tracked]) if tracked else np.zeros(0, np.int8)
    )
    arrays["looks"] = np.asarray(found.looks, np.int8)
    tmp = folder / (_ARRAYS + ".partial.npz")
    np.savez(tmp, **arrays)  # type: ignore[arg-type]
    os.replace(tmp, folder / _ARRAYS)
    meta = {
        "width": found.width,
        "height": found.height,
        "pts": found.pts,
        "t_us": found.t_us,
        "failed": {str(k): v for k, v in found.failed.items()},
        "seconds": found.seconds,
        "detectors": bundle.detectors,
        "tracks": [t.to_json() for t in bundle.tracks],
        "source_sha256": bundle.source_sha256,
    }
    tmp_meta = folder / (_META + ".partial")
    tmp_meta.write_text(json.dumps(meta))
    os.replace(tmp_meta, folder / _META)


def load(folder: Path) -> Bundle:
    try:
        meta = json.loads((folder / _META).read_text())
        with np.load(folder / _ARRAYS, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except (OSError, ValueError) as e:
        raise FailedPrecondition(f"the review data in {folder} cannot be read: {e}") from e
    found = DetectPass(
        int(meta["width"]),
        int(meta["height"]),
        pts=[int(v) for v in meta["pts"]],
        t_us=[int(v) for v in meta["t_us"]],
        detections=_unpack("det", arrays),
        looks=[int(v) for v in arrays["looks"]],
        failed={int(k): str(v) for k, v in meta["failed"].items()},
        seconds=float(meta["seconds"]),
    )
    dets = _unpack("trk", arrays)
    reasons = arrays["trk_reasons"].astype(np.int8)
    tracked, at = [], 0
    for d in dets:
        n = len(d)
        tracked.append(TrackedFrame(d, reasons[at : at + n].copy(), np.full(n, -1, np.intp)))
        at += n
    return Bundle(
        found,
        tracked,
        list(meta["detectors"]),
        [TrackInfo.from_json(t) for t in meta["tracks"]],
        str(meta["source_sha256"]),
    )


def summarize(found: DetectPass, tracked: Sequence[TrackedFrame]) -> list[TrackInfo]:
    """One TrackInfo per track id of the plan, in order of first appearance."""
    acc: dict[int, dict[str, Any]] = {}
    for i, tf in enumerate(tracked):
        d = tf.detections
        for row in range(len(d)):
            tid = int(d.track_ids[row])
            detected = int(tf.reasons[row]) == int(MaskReason.DETECTED)
            score = float(d.scores[row]) if detected else 0.0
            a = acc.get(tid)
            if a is None:
                a = acc[tid] = {
                    "first": i,
                    "labels": {},
                    "score": -1.0,
                    "detected": 0,
                    "thumb": (i, tuple(float(v) for v in d.boxes[row])),
                }
            a["last"] = i
            lab = int(d.labels[row])
            a["labels"][lab] = a["labels"].get(lab, 0) + 1
            if detected:
                a["detected"] += 1
            if score > a["score"]:
                a["score"] = score
                a["thumb"] = (i, tuple(float(v) for v in d.boxes[row]))
    out = []
    for tid, a in acc.items():
        label = max(a["labels"].items(), key=lambda kv: kv[1])[0]
        frame, box = a["thumb"]
        out.append(
            TrackInfo(
                id=tid,
                label=label,
                first=a["first"],
                last=a["last"],
                start_us=found.t_us[a["first"]],
                end_us=found.t_us[a["last"]],
                score=max(a["score"], 0.0),
                detected_frames=a["detected"],
                thumb_frame=frame,
                thumb_box=box,
            )
        )
    return out


def _pack(prefix: str, frames: Sequence[Detections]) -> dict[str, npt.NDArray[Any]]:
    counts = np.array([len(d) for d in frames], np.int64)
    ids = [
        d.track_ids if len(d.track_ids) == len(d) else np.zeros(len(d), np.int64) for d in frames
    ]
    cat = len(frames) > 0
    return {
        f"{prefix}_counts": counts,
        f"{prefix}_boxes": np.concatenate([d.boxes for d in frames])
        if cat
        else np.zeros((0, 4), np.float32),
        f"{prefix}_scores": np.concatenate([d.scores for d in frames])
        if cat
        else np.zeros(0, np.float32),
        f"{prefix}_labels": np.concatenate([d.labels for d in frames])
        if cat
        else np.zeros(0, np.int8),
        f"{prefix}_ids": np.concatenate(ids) if cat else np.zeros(0, np.int64),
    }


def _unpack(prefix: str, a: dict[str, npt.NDArray[Any]]) -> list[Detections]:
    out, at = [], 0
    for n in a[f"{prefix}_counts"].tolist():
        sl = slice(at, at + n)
        out.append(
            Detections(
                a[f"{prefix}_boxes"][sl].astype(np.float32).reshape(-1, 4),
                a[f"{prefix}_scores"][sl].astype(np.float32),
                a[f"{prefix}_labels"][sl].astype(np.int8),
                a[f"{prefix}_ids"][sl].astype(np.int64),
            )
        )
        at += n
    return out
