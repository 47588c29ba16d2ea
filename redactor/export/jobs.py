"""Export requests and jobs (domain types), their validation, and the job table.

Jobs are kept in a table of the ledger's SQLite file (separate from the
hash-chained ledger table, since a job's state changes), so the expiry thread
still finds every export after a restart.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import math
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from redactor.errors import InvalidInput, MissingField
from redactor.sqlite import open_db

# Fields the law needs on every export (what to look for when a court asks).
REQUIRED_FIELDS = ("recipient", "officer", "purpose", "legal_basis")
MAX_FIELD_CHARS = 1024


class ExportState(enum.IntEnum):
    """Values match redactor.v1.ExportState."""

    QUEUED = 1
    RUNNING = 2
    DONE = 3
    FAILED = 4
    EXPIRED = 5
    IN_REVIEW = 6  # planned; waits for a reviewer and an approver (redactor.review)
    APPROVED = 7  # approved; being rendered
    REJECTED = 8

    @property
    def terminal(self) -> bool:
        return self in (
            ExportState.DONE,
            ExportState.FAILED,
            ExportState.EXPIRED,
            ExportState.REJECTED,
        )


@dataclass(frozen=True, slots=True)
class Subject:
    """Subject access: the track through `box` (x0, y0, x1, y1 px) at `timestamp_us` stays visible."""

    timestamp_us: int
    box: tuple[float, float, float, float]


@dataclass(frozen=True, slots=True)
class ExportRequest:
    """What an auditor asks for. Either camera_id with start and end, or recording."""

    camera_id: str = ""
    start: datetime | None = None
    end: datetime | None = None
    recording: str = ""
    recipient: str = ""
    officer: str = ""
    purpose: str = ""
    legal_basis: str = ""
    policy: str = ""
    expiry_days: int = 0  # 0 = the configured default
    subject: Subject | None = None
    case_id: str = ""  # the provision or access request (redactor.cases) this export answers

    def validate(self, max_expiry_days: int) -> None:
        """Raises MissingField naming the first missing field, InvalidInput for bad values."""
        for name in REQUIRED_FIELDS:
            value = getattr(self, name)
            if not value.strip():
                raise MissingField(name, "the law requires it on every export")
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, str) and len(value) > MAX_FIELD_CHARS:
                raise InvalidInput(
                    f"{f.name} may hold at most {MAX_FIELD_CHARS} characters, got {len(value)}"
                )
        if self.recording:
            if self.camera_id or self.start is not None or self.end is not None:
                raise InvalidInput(
                    "give either recording, or camera_id with start and end; got both "
                    f"(recording={self.recording!r}, camera_id={self.camera_id!r})"
                )
        else:
            if not self.camera_id:
                raise MissingField("camera_id", "give camera_id with start and end, or recording")
            if self.start is None:
                raise MissingField("start", f"camera {self.camera_id!r} needs a time range")
            if self.end is None:
                raise MissingField("end", f"camera {self.camera_id!r} needs a time range")
        if not 0 <= self.expiry_days <= max_expiry_days:
            raise InvalidInput(
                f"expiry_days must be in [0, {max_expiry_days}], got {self.expiry_days}"
            )
        if self.subject is not None:
            x0, y0, x1, y1 = self.subject.box
            if not all(math.isfinite(v) for v in self.subject.box) or x1 <= x0 or y1 <= y0:
                raise InvalidInput(
                    f"subject.box must be finite with x1 > x0 and y1 > y0, got {self.subject.box}"
                )
            if self.subject.timestamp_us < 0:
                raise InvalidInput(
                    f"subject.timestamp_us must be >= 0, got {self.subject.timestamp_us}"
                )

    def to_json(self, clip: bool = False) -> dict[str, Any]:
        """For the ledger, the manifest and the job table.

        `clip`: long strings are cut to MAX_FIELD_CHARS (a refused request is
        recorded before validation, and must not be able to bloat the ledger).
        """
        d = self._json()
        if clip:
            for k, v in d.items():
                if isinstance(v, str) and len(v) > MAX_FIELD_CHARS:
                    d[k] = v[:MAX_FIELD_CHARS] + f"…[{len(v)} chars]"
        return d

    def _json(self) -> dict[str, Any]:
        return {
            "camera_id": self.camera_id,
            "start": self.start.isoformat() if self.start else None,
            "end": self.end.isoformat() if self.end else None,
            "recording": self.recording,
            "recipient": self.recipient,
            "officer": self.officer,
            "purpose": self.purpose,
            "legal_basis": self.legal_basis,
            "policy": self.policy,
            "expiry_days": self.expiry_days,
            "subject": None
            if self.subject is None
            else {"timestamp_us": self.subject.timestamp_us, "box": list(self.subject.box)},
            "case_id": self.case_id,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ExportRequest:
        s = d.get("subject")
        return cls(
            camera_id=d["camera_id"],
            start=datetime.fromisoformat(d["start"]) if d.get("start") else None,
            end=datetime.fromisoformat(d["end"]) if d.get("end") else None,
            recording=d["recording"],
            recipient=d["recipient"],
            officer=d["officer"],
            purpose=d["purpose"],
            legal_basis=d["legal_basis"],
            policy=d["policy"],
            expiry_days=int(d["expiry_days"]),
            subject=None if s is None else Subject(int(s["timestamp_us"]), tuple(s["box"])),
            case_id=str(d.get("case_id", "")),
        )


@dataclass(slots=True)
class ExportJob:
    """One export and where it stands. Snapshots handed out are copies."""

    id: str
    request: ExportRequest
    requested_by: str
    created_at: datetime
    expires_at: datetime
    camera_id: str  # resolved (from the recording's folder when the request names a file)
    source: str  # recording path relative to the archive root
    policy: str  # resolved policy name
    state: ExportState = ExportState.QUEUED
    frames_done: int = 0
    frames_detected: int = 0
    frames_total: int = 0
    segments_total: int = 0  # the export is cut into these at keyframes (export.segment_s)
    segments_detected: int = 0
    segments_planned: int = 0  # masks planned over the whole clip, ready to encode
    segments_encoded: int = 0
    error: str = ""
    output_sha256: str = ""
    video_path: str = ""
    manifest_path: str = ""
    review_required: bool = False  # set when planned: the policy requires a person's review
    approved_by: str = ""  # or rejected by, where REJECTED
    version: int = field(default=0, compare=False)  # bumped on every change (WatchExport)

    @property
    def progress(self) -> float:
        """Both passes (detect, then mask and encode) count half each."""
        if self.state is ExportState.DONE:
            return 1.0
        if self.frames_total <= 0:
            return 0.0
        return min(1.0, (self.frames_detected + self.frames_done) / (2 * self.frames_total))

    def snapshot(self) -> ExportJob:
        return dataclasses.replace(self)

    def to_json(self) -> dict[str, Any]:
        d = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "version"}
        d["request"] = self.request.to_json()
        d["created_at"] = self.created_at.isoformat()
        d["expires_at"] = self.expires_at.isoformat()
        d["state"] = self.state.name
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> ExportJob:
        d = dict(d)
        d["request"] = ExportRequest.from_json(d["request"])
        d["created_at"] = datetime.fromisoformat(d["created_at"])
        d["expires_at"] = datetime.fromisoformat(d["expires_at"])
        d["state"] = ExportState[d["state"]]
        return cls(**d)


_SCHEMA = """
CREATE TABLE IF NOT EXISTS exports (
    id          TEXT PRIMARY KEY,
    state       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    camera_id   TEXT NOT NULL,
    recipient   TEXT NOT NULL,
    doc         TEXT NOT NULL
);
"""


class JobStore:
    """The exports table: one JSON document per job, rewritten on each state change."""

    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        self._db = open_db(Path(path), _SCHEMA)

    def save(self, job: ExportJob) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO exports (id, state, created_at, expires_at, camera_id, recipient, doc) "
                "VALUES (?,?,?,?,?,?,?)",
                (
                    job.id,
                    job.state.name,
                    job.created_at.isoformat(),
                    job.expires_at.isoformat(),
                    job.camera_id,
                    job.request.recipient,
                    json.dumps(job.to_json(), sort_keys=True),
                ),
            )

    def load(self) -> list[ExportJob]:
        with self._lock:
            rows = self._db.execute("SELECT doc FROM exports ORDER BY created_at").fetchall()
        return [ExportJob.from_json(json.loads(r[0])) for r in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()
