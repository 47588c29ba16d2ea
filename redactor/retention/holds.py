"""Holds: recordings kept past their retention (an open case, an investigation).

The `holds` table lives in the ledger's SQLite file beside the ledger table (a hold
changes when it is released, so it cannot be a ledger row); every placement and
release is also a ledger row. The same file has the `destructions` table, where the
retention cycle marks a recording it is about to destroy: the hold check and that mark
are one transaction, so a hold placed by another process (the CLI) either lands
before the cycle looks, and the recording is kept, or is refused.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any, Self

from redactor import fields
from redactor.errors import (
    Conflict,
    FailedPrecondition,
    InvalidInput,
    NotFound,
)
from redactor.export.archive import Archive
from redactor.ledger.ledger import Event, Ledger
from redactor.sqlite import open_db

Clock = Callable[[], datetime]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS holds (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    recording      TEXT NOT NULL,
    camera_id      TEXT NOT NULL,
    case_id        TEXT NOT NULL,
    reason         TEXT NOT NULL,
    placed_by      TEXT NOT NULL,
    placed_at      TEXT NOT NULL,
    released_at    TEXT,
    released_by    TEXT NOT NULL DEFAULT '',
    release_reason TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS holds_recording ON holds (recording);
CREATE INDEX IF NOT EXISTS holds_case ON holds (case_id);
CREATE TABLE IF NOT EXISTS destructions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    recording   TEXT NOT NULL,
    camera_id   TEXT NOT NULL,
    actor       TEXT NOT NULL,
    detail      TEXT NOT NULL,
    started_at  TEXT NOT NULL,
    state       TEXT NOT NULL,  -- 'pending' (file being deleted), 'recorded' (ledger row written)
    ledger_seq  INTEGER
);
CREATE INDEX IF NOT EXISTS destructions_recording ON destructions (recording, state);
"""
_HOLD_COLUMNS = (
    "id, recording, camera_id, case_id, reason, placed_by, placed_at, "
    "released_at, released_by, release_reason"
)


@dataclass(frozen=True, slots=True)
class Hold:
    """One hold on one recording (a recording may have several)."""

    id: int
    recording: str  # relative to the archive root, as Archive.recordings names it
    camera_id: str
    case_id: str  # the case (redactor.cases) that asked for it; "" for none
    reason: str
    placed_by: str
    placed_at: datetime
    released_at: datetime | None = None
    released_by: str = ""
    release_reason: str = ""

    @property
    def active(self) -> bool:
        return self.released_at is None


@dataclass(frozen=True, slots=True)
class PendingDestruction:
    """A recording the retention cycle marked before deleting it (see Retention.run)."""

    id: int
    recording: str
    camera_id: str
    actor: str
    detail: Mapping[str, Any]
    started_at: datetime


def _iso(at: datetime) -> str:
    if at.tzinfo is None:
        raise InvalidInput(f"times must be timezone-aware, got naive {at!r}")
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def _hold(r: tuple[Any, ...]) -> Hold:
    hid, rec, cam, case, reason, by, at, rel_at, rel_by, rel_reason = r
    return Hold(
        int(hid),
        rec,
        cam,
        case,
        reason,
        by,
        datetime.fromisoformat(at),
        datetime.fromisoformat(rel_at) if rel_at else None,
        rel_by,
        rel_reason,
    )


class HoldStore:
    """The `holds` and `destructions` tables. Thread-safe; one connection per instance."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._db = open_db(self.path, _SCHEMA)
        self._db.execute("PRAGMA synchronous=FULL")  # a hold is on disk once place returns

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _write(self, fn: Callable[[], Any]) -> Any:
        """Runs `fn` in one immediate transaction (serialised with other processes)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                out = fn()
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            return out

    # ------------------------------------------------------------ holds

    def insert(
        self,
        recording: str,
        camera_id: str,
        case_id: str,
        reason: str,
        placed_by: str,
        placed_at: datetime,
        exists: Callable[[], bool],
    ) -> Hold:
        """Adds a hold, unless the recording is being destroyed or is gone (`exists`,
        checked inside the transaction, after the destruction mark is looked at)."""

        def go() -> Hold:
            busy = self._db.execute(
                "SELECT started_at FROM destructions WHERE recording = ? AND state = 'pending'",
                (recording,),
            ).fetchone()
            if busy is not None:
                raise FailedPrecondition(
                    f"recording {recording!r} is being destroyed by a retention cycle "
                    f"(since {busy[0]}); no hold was placed. If no cycle is running, "
                    "`redactor retention run` settles it"
                )
            if not exists():
                raise NotFound(f"no recording {recording!r} in the archive; no hold was placed")
            cur = self._db.execute(
                "INSERT INTO holds (recording, camera_id, case_id, reason, placed_by, placed_at) "
                "VALUES (?,?,?,?,?,?)",
                (recording, camera_id, case_id, reason, placed_by, _iso(placed_at)),
            )
            assert cur.lastrowid is not None
            return Hold(
                int(cur.lastrowid), recording, camera_id, case_id, reason, placed_by, placed_at
            )

        hold: Hold = self._write(go)
        return hold

    def remove(self, hold_id: int) -> None:
        """Takes back a hold whose ledger row could not be written (place failed)."""
        self._write(lambda: self._db.execute("DELETE FROM holds WHERE id = ?", (hold_id,)))

    def get(self, hold_id: int) -> Hold:
        with self._lock:
            r = self._db.execute(
                f"SELECT {_HOLD_COLUMNS} FROM holds WHERE id = ?", (hold_id,)
            ).fetchone()
        if r is None:
            raise NotFound(f"no hold with id {hold_id}")
        return _hold(r)

    def mark_released(self, hold_id: int, at: datetime, by: str, reason: str) -> Hold:
        """Releases an active hold; Conflict where it was released already."""

        def go() -> Hold:
            r = self._db.execute(
                f"SELECT {_HOLD_COLUMNS} FROM holds WHERE id = ?", (hold_id,)
            ).fetchone()
            if r is None:
                raise NotFound(f"no hold with id {hold_id}")
            hold = _hold(r)
            if hold.released_at is not None:
                raise Conflict(
                    f"hold {hold_id} on {hold.recording!r} was already released at "
                    f"{hold.released_at.isoformat()} by {hold.released_by!r}; nothing was changed"
                )
            self._db.execute(
                "UPDATE holds SET released_at = ?, released_by = ?, release_reason = ? "
                "WHERE id = ?",
                (_iso(at), by, reason, hold_id),
            )
            return _hold((*r[:7], _iso(at), by, reason))

        hold: Hold = self._write(go)
        return hold

    def unrelease(self, hold_id: int) -> None:
        """Puts back a release whose ledger row could not be written (release failed)."""
        self._write(
            lambda: self._db.execute(
                "UPDATE holds SET released_at = NULL, released_by = '', release_reason = '' "
                "WHERE id = ?",
                (hold_id,),
            )
        )

    def find(
        self, *, recording: str | None = None, case_id: str | None = None, active: bool = True
    ) -> list[Hold]:
        conds, args = [], []
        if active:
            conds.append("released_at IS NULL")
        if recording is not None:
            conds.append("recording = ?")
            args.append(recording)
        if case_id is not None:
            conds.append("case_id = ?")
            args.append(case_id)
        where = ("WHERE " + " AND ".join(conds)) if conds else ""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_HOLD_COLUMNS} FROM holds {where} ORDER BY id", tuple(args)
            ).fetchall()
        return [_hold(r) for r in rows]

    # ------------------------------------------------------------ destructions

    def begin_destruction(
        self,
        recording: str,
        camera_id: str,
        actor: str,
        detail: Mapping[str, Any],
        at: datetime,
        exists: Callable[[], bool],
    ) -> int | None:
        """Marks `recording` as being destroyed, in one transaction with the hold check.

        None (nothing marked) where it has an active hold, another cycle has marked it,
        or it is gone already (`exists`, checked after the mark is looked at)."""

        def go() -> int | None:
            held = self._db.execute(
                "SELECT 1 FROM holds WHERE recording = ? AND released_at IS NULL LIMIT 1",
                (recording,),
            ).fetchone()
            busy = self._db.execute(
                "SELECT 1 FROM destructions WHERE recording = ? AND state = 'pending'",
                (recording,),
            ).fetchone()
            if held is not None or busy is not None or not exists():
                return None
            cur = self._db.execute(
                "INSERT INTO destructions (recording, camera_id, actor, detail, started_at, state) "
                "VALUES (?,?,?,?,?,'pending')",
                (recording, camera_id, actor, json.dumps(dict(detail)), _iso(at)),
            )
            assert cur.lastrowid is not None
            return int(cur.lastrowid)

        mark: int | None = self._write(go)
        return mark

    def finish_destruction(self, mark: int, ledger_seq: int | None) -> None:
        """The ledger row is written (`ledger_seq`), or, with None, the file was not deleted
        and the mark is taken back."""
        if ledger_seq is None:
            self._write(lambda: self._db.execute("DELETE FROM destructions WHERE id = ?", (mark,)))
        else:
            self._write(
                lambda: self._db.execute(
                    "UPDATE destructions SET state = 'recorded', ledger_seq = ? WHERE id = ?",
                    (ledger_seq, mark),
                )
            )

    def pending_destructions(self) -> list[PendingDestruction]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, recording, camera_id, actor, detail, started_at FROM destructions "
                "WHERE state = 'pending' ORDER BY id"
            ).fetchall()
        return [
            PendingDestruction(
                int(i), rec, cam, actor, json.loads(detail), datetime.fromisoformat(at)
            )
            for i, rec, cam, actor, detail, at in rows
        ]


def _text(name: str, value: str, required: bool = True) -> str:
    return fields.text(
        name, value, why="it is recorded with the hold on the ledger", required=required
    )


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Holds:
    """Places and releases holds; each change is a ledger row."""

    def __init__(
        self, store: HoldStore, ledger: Ledger, archive: Archive, clock: Clock = _utc_now
    ) -> None:
        self.store = store
        self.ledger = ledger
        self.archive = archive
        self.clock = clock

    def _recording(self, recording: str) -> tuple[str, str, Path]:
        """(relative name as Archive.recordings gives it, camera, path) of an existing recording."""
        path = self.archive.resolve(recording)  # InvalidInput outside the root, NotFound if absent
        rel = PurePosixPath(recording.replace("\\", "/")).as_posix()
        camera = PurePosixPath(rel).parts[0] if len(PurePosixPath(rel).parts) == 2 else ""
        listed = {r.relative for r in self.archive.recordings(camera)} if camera else set()
        if rel not in listed:
            raise InvalidInput(
                f"{recording!r} is not a recording retention can date: expected "
                "<camera>/<YYYYmmddTHHMMSS>.<ext> under the archive root"
            )
        return rel, camera, path

    def place(self, recording: str, reason: str, actor: str, case_id: str = "") -> Hold:
        """Keeps `recording` (relative to the archive root) until the hold is released."""
        reason = _text("reason", reason)
        actor = _text("actor", actor)
        case_id = _text("case_id", case_id, required=False)
        rel, camera, path = self._recording(recording)
        hold = self.store.insert(
            rel, camera, case_id, reason, actor, self.clock(), exists=path.is_file
        )
        try:
            self.ledger.append(
                Event.HOLD_PLACED,
                actor=actor,
                camera_id=camera,
                detail={
                    "hold_id": hold.id,
                    "recording": rel,
                    "case_id": case_id,
                    "reason": reason,
                },
            )
        except BaseException:
            self.store.remove(hold.id)  # a hold without its row would be unaccountable
            raise
        return hold

    def release(self, hold_id: int, actor: str, reason: str) -> Hold:
        """Ends a hold; the recording is destroyed at the next cycle if past retention and
        no other hold keeps it."""
        reason = _text("reason", reason)
        actor = _text("actor", actor)
        hold = self.store.mark_released(hold_id, self.clock(), actor, reason)
        try:
            self.ledger.append(
                Event.HOLD_RELEASED,
                actor=actor,
                camera_id=hold.camera_id,
                detail={
                    "hold_id": hold.id,
                    "recording": hold.recording,
                    "case_id": hold.case_id,
                    "reason": reason,
                },
            )
        except BaseException:
            self.store.unrelease(hold.id)
            raise
        return hold

    def release_case(self, case_id: str, actor: str, reason: str) -> list[Hold]:
        """Releases every active hold of one case (it closed); [] where it has none."""
        case_id = _text("case_id", case_id)
        reason = _text("reason", reason)
        actor = _text("actor", actor)
        out = []
        for hold in self.store.find(case_id=case_id):
            try:
                out.append(self.release(hold.id, actor, reason))
            except Conflict:
                continue  # released meanwhile by someone else
        return out

    def active(self, recording: str | None = None) -> list[Hold]:
        """Active holds (of one recording, named as Archive.recordings names it)."""
        rel = None if recording is None else PurePosixPath(recording.replace("\\", "/")).as_posix()
        return self.store.find(recording=rel)

    def of_case(self, case_id: str) -> list[Hold]:
        """Every hold of one case, released ones included."""
        return self.store.find(case_id=case_id, active=False)

    def get(self, hold_id: int) -> Hold:
        return self.store.get(hold_id)

    def all(self) -> list[Hold]:
        """Every hold, released ones included, oldest first."""
        return self.store.find(active=False)
