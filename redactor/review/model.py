"""What a review is made of: tracks with a decision, objects a reviewer added, groups, edits.

A track is one object the plan found (a forward track id of redactor.track);
objects a reviewer adds get ids from ADDED_BASE up, so both share one id space.
Every change bumps the review's `version` and the changed track's own; a change
names the version its page saw, and a stale one is refused (Conflict).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

ADDED_BASE = 1_000_000  # reviewer-added objects: ids from here up


class Decision(enum.IntEnum):
    """What happens to a track at release. Values match redactor.v1.TrackDecision."""

    MASK = 1  # the default: masked on every frame the plan covers
    VISIBLE = 2  # left visible: the data subject (or someone the recipient may see)
    FALSE_POSITIVE = 3  # not a face or plate: its mask is dropped


@dataclass(frozen=True, slots=True)
class TrackInfo:
    """A track as the plan found it (fixed once planned)."""

    id: int
    label: int  # redactor.types.Label
    first: int  # frame indices, inclusive
    last: int
    start_us: int
    end_us: int
    score: float  # best detector score; 0 for a reviewer's object
    detected_frames: int
    thumb_frame: int  # the frame of its best detection
    thumb_box: tuple[float, float, float, float]  # full-resolution px

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            "first": self.first,
            "last": self.last,
            "start_us": self.start_us,
            "end_us": self.end_us,
            "score": round(self.score, 4),
            "detected_frames": self.detected_frames,
            "thumb_frame": self.thumb_frame,
            "thumb_box": [round(v, 1) for v in self.thumb_box],
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> TrackInfo:
        return cls(
            id=int(d["id"]),
            label=int(d["label"]),
            first=int(d["first"]),
            last=int(d["last"]),
            start_us=int(d["start_us"]),
            end_us=int(d["end_us"]),
            score=float(d["score"]),
            detected_frames=int(d["detected_frames"]),
            thumb_frame=int(d["thumb_frame"]),
            thumb_box=(
                float(d["thumb_box"][0]),
                float(d["thumb_box"][1]),
                float(d["thumb_box"][2]),
                float(d["thumb_box"][3]),
            ),
        )


@dataclass(slots=True)
class TrackState:
    """A reviewer's decision on one track (or added object)."""

    decision: Decision = Decision.MASK
    reason: str = ""
    version: int = 0
    by: str = ""
    at: str = ""
    group: int = 0  # 0: none; else the id of the group (its smallest track id)


@dataclass(slots=True)
class AddedObject:
    """An object a reviewer drew: keyframe boxes (full-resolution px) and the path followed."""

    id: int
    label: int
    keys: dict[int, tuple[float, float, float, float]]
    first: int  # first frame of `boxes`
    boxes: list[tuple[float, float, float, float]]  # full-resolution px, frames first..
    lost: list[bool]

    def box_at(self, frame: int) -> tuple[float, float, float, float] | None:
        k = frame - self.first
        return self.boxes[k] if 0 <= k < len(self.boxes) else None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "label": self.label,
            "keys": {str(k): list(v) for k, v in sorted(self.keys.items())},
            "first": self.first,
            "boxes": [[round(v, 1) for v in b] for b in self.boxes],
            "lost": self.lost,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> AddedObject:
        return cls(
            id=int(d["id"]),
            label=int(d["label"]),
            keys={int(k): _box(v) for k, v in d["keys"].items()},
            first=int(d["first"]),
            boxes=[_box(b) for b in d["boxes"]],
            lost=[bool(v) for v in d["lost"]],
        )


@dataclass(frozen=True, slots=True)
class Edit:
    """One change, as stored, put on the ledger and listed in the manifest."""

    seq: int
    at: datetime
    actor: str
    action: str  # decide, add_object, correct_object, group, approve, reject
    track_ids: tuple[int, ...]
    reason: str
    detail: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "action": self.action,
            "track_ids": list(self.track_ids),
            "reason": self.reason,
            "detail": self.detail,
        }


@dataclass(slots=True)
class Review:
    """The review of one export: the current decisions and everything that led to them."""

    export_id: str
    version: int = 0
    tracks: dict[int, TrackState] = field(default_factory=dict)
    objects: dict[int, AddedObject] = field(default_factory=dict)
    edits: list[Edit] = field(default_factory=list)

    def state(self, track_id: int) -> TrackState:
        return self.tracks.setdefault(track_id, TrackState())

    def decision(self, track_id: int) -> Decision:
        s = self.tracks.get(track_id)
        return s.decision if s is not None else Decision.MASK

    @property
    def reviewers(self) -> list[str]:
        """Who changed anything (approval must come from someone else)."""
        return sorted({e.actor for e in self.edits if e.action not in ("approve", "reject")})


def _box(v: Any) -> tuple[float, float, float, float]:
    return (float(v[0]), float(v[1]), float(v[2]), float(v[3]))
