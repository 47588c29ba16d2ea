"""The review tables, in the ledger's SQLite file beside the job table.

`reviews` holds each export's current review as one JSON document (decisions,
added objects, version); `review_edits` every change in order. A change writes
both in one transaction, so the current state and its history never disagree.
The ledger row of each change is written by the service right after.
"""

from __future__ import annotations

import json
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

from redactor.review.model import AddedObject, Decision, Edit, Review, TrackState
from redactor.sqlite import open_db

_SCHEMA = """
CREATE TABLE IF NOT EXISTS reviews (
    export_id  TEXT PRIMARY KEY,
    version    INTEGER NOT NULL,
    doc        TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS review_edits (
    export_id  TEXT NOT NULL,
    seq        INTEGER NOT NULL,
    at         TEXT NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    track_ids  TEXT NOT NULL,
    reason     TEXT NOT NULL,
    detail     TEXT NOT NULL,
    PRIMARY KEY (export_id, seq)
);
"""


class ReviewStore:
    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        self._db = open_db(Path(path), _SCHEMA)

    def load(self, export_id: str, edits: bool = True) -> Review:
        """The review as it stands; `edits=False` leaves out its history (a frame's view
        needs only the decisions, and the history grows with every change)."""
        with self._lock:
            row = self._db.execute(
                "SELECT version, doc FROM reviews WHERE export_id = ?", (export_id,)
            ).fetchone()
            history = (
                self._db.execute(
                    "SELECT seq, at, actor, action, track_ids, reason, detail FROM review_edits "
                    "WHERE export_id = ? ORDER BY seq",
                    (export_id,),
                ).fetchall()
                if edits
                else []
            )
        review = Review(export_id)
        if row is not None:
            review.version = int(row[0])
            doc = json.loads(row[1])
            review.tracks = {int(k): _state(v) for k, v in doc["tracks"].items()}
            review.objects = {int(k): AddedObject.from_json(v) for k, v in doc["objects"].items()}
        review.edits = [
            Edit(
                seq=int(e[0]),
                at=datetime.fromisoformat(e[1]),
                actor=e[2],
                action=e[3],
                track_ids=tuple(int(v) for v in json.loads(e[4])),
                reason=e[5],
                detail=json.loads(e[6]),
            )
            for e in history
        ]
        return review

    def save(self, review: Review, edit: Edit) -> None:
        """Stores the review as changed by `edit` (its seq the next one)."""
        doc = {
            "tracks": {str(k): _state_json(v) for k, v in review.tracks.items()},
            "objects": {str(k): v.to_json() for k, v in review.objects.items()},
        }
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.execute(
                    "INSERT OR REPLACE INTO reviews (export_id, version, doc) VALUES (?,?,?)",
                    (review.export_id, review.version, json.dumps(doc)),
                )
                self._db.execute(
                    "INSERT INTO review_edits VALUES (?,?,?,?,?,?,?,?)",
                    (
                        review.export_id,
                        edit.seq,
                        edit.at.isoformat(),
                        edit.actor,
                        edit.action,
                        json.dumps(list(edit.track_ids)),
                        edit.reason,
                        json.dumps(edit.detail, sort_keys=True),
                    ),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _state(d: dict[str, Any]) -> TrackState:
    return TrackState(
        decision=Decision[d["decision"]],
        reason=d["reason"],
        version=int(d["version"]),
        by=d["by"],
        at=d["at"],
        group=int(d["group"]),
    )


def _state_json(s: TrackState) -> dict[str, Any]:
    return {
        "decision": s.decision.name,
        "reason": s.reason,
        "version": s.version,
        "by": s.by,
        "at": s.at,
        "group": s.group,
    }
