"""Finds recordings under the archive root, and refuses anything outside it.

Layout (the embedded default, a local folder):

    <archive_root>/<camera_id>/<YYYYmmddTHHMMSS>.<ext>

one file per recording, named by the UTC time of its first frame, e.g.
`var/archive/gate-3/20240501T081500.mp4`. A time-range export picks the one
recording that covers the whole range (the latest one starting at or before
the range's start); a range that spans two recordings is refused for now
(FailedPrecondition naming both), since an export is made from one file.

Paths: a recording named in a request is relative to the root. Absolute
paths, `..`, and anything that resolves outside the root (symlinks included)
are refused with InvalidInput (INVALID_ARGUMENT): the request is malformed
whoever sends it, and the message does not reveal what exists outside the root.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path, PurePosixPath

import av

from redactor.errors import FailedPrecondition, InvalidInput, NotFound

VIDEO_EXTENSIONS = (".mp4", ".mkv", ".avi", ".mov", ".ts", ".h264")
NAME_TIME_FORMAT = "%Y%m%dT%H%M%S"
_NAME_RE = re.compile(r"^(\d{8}T\d{6})$")
_CAMERA_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
_US = 1_000_000


@dataclass(frozen=True, slots=True)
class SourceInfo:
    """What an export needs to know about a recording before decoding it."""

    frames: int  # from the container; 0 where it does not say (counted while decoding)
    time_base: Fraction
    rate: Fraction  # average frame rate
    width: int
    height: int
    duration_us: int
    has_audio: bool


@dataclass(frozen=True, slots=True)
class Selection:
    """The recording an export reads, and which part of it (microseconds from its start)."""

    path: Path  # resolved, inside the root
    relative: str  # POSIX path relative to the root, for manifests and the ledger
    camera_id: str
    recording_start: datetime | None  # from the file name; None where the name carries none
    start_us: int | None  # first timestamp taken (inclusive); None = from the start
    end_us: int | None  # first timestamp not taken (exclusive); None = to the end
    info: SourceInfo


def probe(path: Path) -> SourceInfo:
    """Reads a recording's header: frame rate, time base, size, duration."""
    try:
        with av.open(str(path)) as c:
            if not c.streams.video:
                raise InvalidInput(f"recording {path.name} has no video stream")
            s = c.streams.video[0]
            if s.time_base is None:
                raise InvalidInput(f"recording {path.name} has no time base")
            rate = s.average_rate or s.guessed_rate
            if not rate:
                raise InvalidInput(f"recording {path.name} states no frame rate")
            if s.duration is not None:
                duration_us = int(s.duration * s.time_base * _US)
            elif c.duration is not None:
                duration_us = int(c.duration)  # container duration is in AV_TIME_BASE (us)
            else:
                duration_us = 0
            return SourceInfo(
                frames=int(s.frames or 0),
                time_base=Fraction(s.time_base),
                rate=Fraction(rate),
                width=int(s.codec_context.width),
                height=int(s.codec_context.height),
                duration_us=duration_us,
                has_audio=bool(c.streams.audio),
            )
    except av.FFmpegError as e:
        raise InvalidInput(f"recording {path.name} cannot be read as video: {e}") from e


@dataclass(frozen=True, slots=True)
class Recording:
    """One recording file of the archive, as retention and holds see it."""

    camera_id: str
    relative: str  # POSIX path relative to the root: the name rows and holds use
    path: Path
    start: datetime  # from the file name (UTC)
    end: datetime  # start + the container's duration (start where it states none)
    bytes: int


class Archive:
    """The recordings under one root folder."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _resolved_root(self) -> Path:
        root = self.root.resolve()
        if not root.is_dir():
            raise FailedPrecondition(f"archive root {self.root} is not a folder")
        return root

    def resolve(self, relative: str) -> Path:
        """A file named relative to the root; refused if it could point outside it."""
        if not relative or "\x00" in relative:
            raise InvalidInput("recording must be a non-empty path relative to the archive root")
        pure = PurePosixPath(relative.replace("\\", "/"))
        if (
            pure.is_absolute()
            or relative.startswith(("/", "~"))
            or re.match(r"^[A-Za-z]:", relative)
        ):
            raise InvalidInput(f"recording must be relative to the archive root, got {relative!r}")
        if any(part == ".." for part in pure.parts):
            raise InvalidInput(f"recording may not contain '..', got {relative!r}")
        root = self._resolved_root()
        path = (root / Path(*pure.parts)).resolve()  # follows symlinks
        if not path.is_relative_to(root):
            raise InvalidInput(f"recording {relative!r} resolves outside the archive root")
        if not path.is_file():
            raise NotFound(f"no recording {relative!r} in the archive")
        return path

    def select_file(self, relative: str) -> Selection:
        """The whole of one recording file named in a request."""
        path = self.resolve(relative)
        root = self._resolved_root()
        rel = path.relative_to(root).as_posix()
        parts = PurePosixPath(rel).parts
        camera = parts[0] if len(parts) > 1 else ""
        return Selection(path, rel, camera, _name_time(path), None, None, probe(path))

    def recordings(self, camera_id: str | None = None) -> list[Recording]:
        """Every recording named by its start time (of one camera, or all), oldest first.

        Files whose name carries no time are not listed: retention cannot date them.
        A file that cannot be probed ends where it starts (so it is never kept by mistake
        for lack of a duration)."""
        root = self._resolved_root()
        if camera_id is not None:
            _check_camera(camera_id)
            folders = [root / camera_id] if (root / camera_id).is_dir() else []
        else:
            folders = sorted(p for p in root.iterdir() if p.is_dir())
        out: list[Recording] = []
        for folder in folders:
            for p in folder.iterdir():
                t = _name_time(p)
                if t is None or p.suffix.lower() not in VIDEO_EXTENSIONS or not p.is_file():
                    continue
                resolved = p.resolve()
                if not resolved.is_relative_to(root):
                    continue  # a link out of the archive is not the archive's to list or destroy
                try:
                    duration = probe(resolved).duration_us
                except InvalidInput:
                    duration = 0
                out.append(
                    Recording(
                        folder.name,
                        p.relative_to(root).as_posix(),
                        p,
                        t,
                        t + timedelta(microseconds=duration),
                        p.stat().st_size,
                    )
                )
        return sorted(out, key=lambda r: (r.start, r.relative))

    def overlapping(self, camera_id: str, start: datetime, end: datetime) -> list[Recording]:
        """The recordings of `camera_id` with footage in [start, end)."""
        return [r for r in self.recordings(camera_id) if r.start < end and start < r.end]

    def select_range(self, camera_id: str, start: datetime, end: datetime) -> Selection:
        """The recording of `camera_id` that covers [start, end), and the offsets within it."""
        _check_camera(camera_id)
        if start.tzinfo is None or end.tzinfo is None:
            raise InvalidInput("start and end must be timezone-aware")
        if end <= start:
            raise InvalidInput(f"end ({end.isoformat()}) must be after start ({start.isoformat()})")
        root = self._resolved_root()
        folder = (root / camera_id).resolve()
        if not folder.is_relative_to(root):
            raise InvalidInput(f"camera folder {camera_id!r} resolves outside the archive root")
        if not folder.is_dir():
            raise NotFound(f"no recordings for camera {camera_id!r} in the archive")
        recordings = sorted(
            (t, p)
            for p in folder.iterdir()
            if p.suffix.lower() in VIDEO_EXTENSIONS and (t := _name_time(p)) is not None
        )
        before = [(t, p) for t, p in recordings if t <= start]
        if not before:
            raise NotFound(
                f"no recording of camera {camera_id!r} starts at or before {start.isoformat()}"
            )
        rec_start, path = before[-1]
        resolved = path.resolve()
        if not resolved.is_relative_to(root) or not resolved.is_file():
            raise InvalidInput(
                f"recording {path.name} of camera {camera_id!r} resolves outside the archive root"
            )
        info = probe(resolved)
        rec_end = rec_start + timedelta(microseconds=info.duration_us)
        if start >= rec_end:
            raise NotFound(
                f"camera {camera_id!r} has no recording at {start.isoformat()} "
                f"(the last one before it, {path.name}, ends at {rec_end.isoformat()})"
            )
        if end > rec_end:
            after = [p.name for t, p in recordings if rec_start < t < end]
            more = f"; it continues in {', '.join(after)}" if after else ""
            raise FailedPrecondition(
                f"the range ends at {end.isoformat()} but recording {path.name} ends at "
                f"{rec_end.isoformat()}{more}: an export covers one recording, split the range"
            )
        return Selection(
            resolved,
            resolved.relative_to(root).as_posix(),
            camera_id,
            rec_start,
            _us_between(rec_start, start),
            _us_between(rec_start, end),
            info,
        )


def _check_camera(camera_id: str) -> None:
    if not _CAMERA_RE.match(camera_id) or camera_id in (".", ".."):
        raise InvalidInput(
            f"camera_id must be letters, digits, '_', '.', '-' (no path), got {camera_id!r}"
        )


def _us_between(a: datetime, b: datetime) -> int:
    d = b - a
    return (d.days * 86400 + d.seconds) * _US + d.microseconds


def _name_time(path: Path) -> datetime | None:
    """The start time a recording's name carries, in UTC; None where it carries none."""
    m = _NAME_RE.match(path.stem)
    if not m:
        return None
    try:
        return datetime.strptime(m.group(1), NAME_TIME_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None
