"""Where the shared evaluation data lives, and its label files.

The data sits beside the project (`<repo>/../shared/data`), never inside it;
`REDACTOR_DATA` overrides the folder. On a user's machine it is absent, and
`data_dir()` says so by returning None (tests skip, benches stop with a reason).
Read when called, never at import time.
"""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

DATA_ENV = "REDACTOR_DATA"

# The label columns every CSV of the shared data has (see its README.md).
_COLUMNS = ("image", "width", "height", "xmin", "ymin", "xmax", "ymax")


def repo_root() -> Path:
    return Path(__file__).resolve().parent.parent


def data_dir() -> Path | None:
    """The shared data folder: $REDACTOR_DATA, else <repo>/../shared/data; None where absent."""
    env = os.environ.get(DATA_ENV)
    path = Path(env).expanduser() if env else repo_root().parent / "shared" / "data"
    return path if path.is_dir() else None


@dataclass(frozen=True, slots=True)
class LabelledImage:
    """One image and the boxes labelled on it, (n, 4) float32 xyxy in pixels."""

    path: Path
    width: int
    height: int
    boxes: npt.NDArray[np.float32]
    tags: tuple[str, ...]  # the CSV's `label` per box ("" where the CSV has none)


def load_labels(csv_path: Path) -> list[LabelledImage]:
    """Images of one CSV in the shared data's format, in order of first appearance.

    Image paths are relative to the CSV's folder. Rows with `ignore` = 1 are left
    out (faces_smoke marks faces too hard to count that way).
    """
    with csv_path.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        missing = [c for c in _COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ValueError(f"{csv_path}: expected columns {list(_COLUMNS)}, missing {missing}")
        grouped: dict[str, tuple[int, int, list[list[float]], list[str]]] = {}
        for row in reader:
            entry = grouped.setdefault(
                row["image"], (int(row["width"]), int(row["height"]), [], [])
            )
            if row.get("ignore", "0").strip() == "1":
                continue
            entry[2].append([float(row[k]) for k in ("xmin", "ymin", "xmax", "ymax")])
            entry[3].append(row.get("label", "") or "")
    base = csv_path.parent
    return [
        LabelledImage(base / name, w, h, np.asarray(b, np.float32).reshape(-1, 4), tuple(t))
        for name, (w, h, b, t) in grouped.items()
    ]


def faces_csv(root: Path | None = None, smoke: bool = False) -> Path | None:
    """faces/faces.csv (or faces_smoke/faces.csv) of the shared data; None where absent."""
    root = root or data_dir()
    if root is None:
        return None
    path = root / ("faces_smoke" if smoke else "faces") / "faces.csv"
    return path if path.is_file() else None


def plates_csv(root: Path | None = None) -> Path | None:
    """plates/plates.csv of the shared data; None where absent."""
    root = root or data_dir()
    if root is None:
        return None
    path = root / "plates" / "plates.csv"
    return path if path.is_file() else None


def load_faces(smoke: bool = False, root: Path | None = None) -> list[LabelledImage]:
    """The labelled face images; [] where the data is absent."""
    path = faces_csv(root, smoke)
    return load_labels(path) if path else []


def load_plates(root: Path | None = None) -> list[LabelledImage]:
    """The labelled plate images (one annotated plate each); [] where the data is absent."""
    path = plates_csv(root)
    return load_labels(path) if path else []
