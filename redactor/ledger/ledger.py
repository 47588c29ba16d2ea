"""The provision ledger: an append-only, hash-chained SQLite table.

Every export request, approval or refusal, download, expiry and deletion is one
row. Each row stores the SHA-256 of its own canonical content, which includes
the previous row's hash, so an edited, deleted or reordered row breaks the
chain at that row; `verify` walks it and names the first broken row. Where the
ledger is opened with the service's Ed25519 key, each row's hash is also
signed, so rewriting the whole chain after an edit needs that key too.

What a hash chain cannot show by itself is a cut tail (the last rows deleted):
`verify` reports the head (last seq and hash) so an auditor can note it and
later check it is still there (`verify(expect_head=...)`).

SQLite runs in WAL mode; appends take an immediate transaction so several
processes (the service and an auditor's CLI) can share the file safely.
"""

from __future__ import annotations

import enum
import hashlib
import json
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from redactor.errors import FailedPrecondition, InvalidInput
from redactor.sqlite import open_db

GENESIS_HASH = "0" * 64

_SCHEMA = """
CREATE TABLE IF NOT EXISTS ledger (
    seq        INTEGER PRIMARY KEY,
    at         TEXT NOT NULL,
    event      TEXT NOT NULL,
    export_id  TEXT NOT NULL,
    actor      TEXT NOT NULL,
    camera_id  TEXT NOT NULL,
    recipient  TEXT NOT NULL,
    detail     TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL,
    sig        TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ledger_camera ON ledger (camera_id);
CREATE INDEX IF NOT EXISTS ledger_recipient ON ledger (recipient);
"""
_COLUMNS = "seq, at, event, export_id, actor, camera_id, recipient, detail, prev_hash, hash, sig"


class Event(enum.StrEnum):
    """What a row records."""

    REQUESTED = "requested"  # an export was asked for (whatever happens next)
    APPROVED = "approved"  # the request passed role, field and source checks; a job exists
    REFUSED = "refused"  # the request was refused; detail.reason says why
    COMPLETED = "completed"  # the redacted copy and its manifest exist; detail has their hashes
    FAILED = "failed"  # the job failed; nothing was kept
    DOWNLOADED = "downloaded"  # an artifact was sent to a caller
    DOWNLOAD_REFUSED = "download_refused"  # a download was refused; detail.reason says why
    EXPIRED = "expired"  # an export reached its expiry
    DELETED = "deleted"  # an export's files were deleted; detail lists them
    PLANNED = "planned"  # detections and tracks are ready; the export waits for review
    REVIEW_CHANGED = "review_changed"  # a reviewer changed a track; detail says what and why
    REVIEW_APPROVED = "review_approved"  # a second person approved the review at a version
    REVIEW_REJECTED = "review_rejected"  # an approver rejected the export; detail.reason
    # The law's paperwork (redactor.cases, redactor.retention, redactor.ledger.access_log);
    # case rows carry detail.case_id (the export_id column stays the export's).
    CASE_OPENED = "case_opened"  # a provision or access request was received; detail: the case
    CASE_SIGNED = "case_signed"  # the person in charge proposed an outcome (담당)
    CASE_DECIDED = "case_decided"  # a senior approver confirmed it (과장); the case closed
    CASE_RETURNED = "case_returned"  # the senior approver sent it back to the person in charge
    CASE_WITHDRAWN = "case_withdrawn"  # the requester withdrew; the case closed without outcome
    HOLD_PLACED = "hold_placed"  # a recording is kept past retention (a case, an investigation)
    HOLD_RELEASED = "hold_released"
    DESTROYED = "destroyed"  # a recording was destroyed (retention, or by a person); detail.file
    VIEWED = "viewed"  # a person viewed footage (the access log); detail.action, detail.client
    ACCESS_LOG_REVIEWED = "access_log_reviewed"  # the monthly review of the access log was done


@dataclass(frozen=True, slots=True)
class Entry:
    """One ledger row. `detail` is free-form but canonical JSON in storage."""

    seq: int
    at: datetime
    event: Event
    export_id: str
    actor: str
    camera_id: str
    recipient: str
    detail: Mapping[str, Any]
    prev_hash: str
    hash: str
    sig: str = ""


@dataclass(frozen=True, slots=True)
class VerifyResult:
    ok: bool
    rows: int  # rows checked (up to and including the first broken one)
    broken_seq: int | None = None  # the first broken row, None where the chain holds
    reason: str = ""
    head_seq: int = 0
    head_hash: str = GENESIS_HASH


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no spaces: one text per value, for hashing and signing."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _iso(at: datetime) -> str:
    if at.tzinfo is None:
        raise InvalidInput(f"ledger times must be timezone-aware, got naive {at!r}")
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def row_hash(
    seq: int,
    at: str,
    event: str,
    export_id: str,
    actor: str,
    camera_id: str,
    recipient: str,
    detail: str,
    prev_hash: str,
) -> str:
    """SHA-256 over the row's stored text (detail already canonical JSON)."""
    body = canonical_json(
        [seq, at, event, export_id, actor, camera_id, recipient, detail, prev_hash]
    )
    return hashlib.sha256(body.encode()).hexdigest()


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Ledger:
    """The provision ledger in one SQLite file. Thread-safe; one connection per instance."""

    def __init__(
        self,
        path: Path,
        signing_key: Ed25519PrivateKey | None = None,
        clock: Callable[[], datetime] = _utc_now,
        create: bool = True,
    ) -> None:
        self.path = Path(path)
        if not create and not self.path.is_file():
            raise FailedPrecondition(f"no ledger at {self.path}: expected an existing SQLite file")
        self._key = signing_key
        self._clock = clock
        self._lock = threading.Lock()
        # transactions are explicit (BEGIN IMMEDIATE in append)
        self._db = open_db(self.path, _SCHEMA)
        self._db.execute("PRAGMA synchronous=FULL")  # a provision is on disk once append returns

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ writing

    def append(
        self,
        event: Event,
        *,
        export_id: str = "",
        actor: str = "",
        camera_id: str = "",
        recipient: str = "",
        detail: Mapping[str, Any] | None = None,
    ) -> Entry:
        """Adds one row chained to the current head, durably, and returns it."""
        at = _iso(self._clock())
        detail_json = canonical_json(dict(detail or {}))
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                last = self._db.execute(
                    "SELECT seq, hash FROM ledger ORDER BY seq DESC LIMIT 1"
                ).fetchone()
                seq, prev = (1, GENESIS_HASH) if last is None else (int(last[0]) + 1, str(last[1]))
                h = row_hash(
                    seq, at, str(event), export_id, actor, camera_id, recipient, detail_json, prev
                )
                sig = self._key.sign(bytes.fromhex(h)).hex() if self._key is not None else ""
                self._db.execute(
                    f"INSERT INTO ledger ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        seq,
                        at,
                        str(event),
                        export_id,
                        actor,
                        camera_id,
                        recipient,
                        detail_json,
                        prev,
                        h,
                        sig,
                    ),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return Entry(
            seq,
            datetime.fromisoformat(at),
            event,
            export_id,
            actor,
            camera_id,
            recipient,
            json.loads(detail_json),
            prev,
            h,
            sig,
        )

    # ------------------------------------------------------------ reading

    def _rows(self, where: str = "", args: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM ledger {where} ORDER BY seq", args
            ).fetchall()
        yield from rows

    def entries(
        self,
        *,
        camera_id: str | None = None,
        recipient: str | None = None,
        export_id: str | None = None,
        event: Event | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[Entry]:
        """Rows matching every given filter, oldest first. `until` is exclusive."""
        conds: list[str] = []
        args: list[Any] = []
        for col, val in (
            ("camera_id", camera_id),
            ("recipient", recipient),
            ("export_id", export_id),
            ("event", event),
        ):
            if val is not None:
                conds.append(f"{col} = ?")
                args.append(str(val))
        if since is not None:
            conds.append("at >= ?")
            args.append(_iso(since))
        if until is not None:
            conds.append("at < ?")
            args.append(_iso(until))
        where = ("WHERE " + " AND ".join(conds)) if conds else ""
        return [_entry(r) for r in self._rows(where, tuple(args))]

    def head(self) -> tuple[int, str]:
        """(seq, hash) of the last row; (0, GENESIS_HASH) for an empty ledger."""
        with self._lock:
            last = self._db.execute(
                "SELECT seq, hash FROM ledger ORDER BY seq DESC LIMIT 1"
            ).fetchone()
        return (0, GENESIS_HASH) if last is None else (int(last[0]), str(last[1]))

    def verify(
        self,
        public_key: Ed25519PublicKey | None = None,
        expect_head: tuple[int, str] | None = None,
    ) -> VerifyResult:
        """Walks the chain from the first row; stops at the first broken one.

        A row is broken when its seq is not the next number, its prev_hash is not
        the previous row's hash, its own hash does not match its content, or
        (with `public_key`) its signature does not verify. `expect_head` is a
        (seq, hash) noted earlier: it must still be in the chain.
        """
        prev_seq, prev_hash, n = 0, GENESIS_HASH, 0
        seen_head = expect_head is None
        for r in self._rows():
            n += 1
            seq, at, event, export_id, actor, camera_id, recipient, detail, stored_prev, h, sig = r
            problem = ""
            if seq != prev_seq + 1:
                problem = (
                    f"expected seq {prev_seq + 1} after {prev_seq}, found {seq}: "
                    "a row was deleted or rows were reordered"
                )
            elif stored_prev != prev_hash:
                problem = (
                    f"prev_hash {str(stored_prev)[:12]}… does not match row {prev_seq}'s "
                    f"hash {prev_hash[:12]}…: a row before it was deleted, edited or moved"
                )
            elif (
                row_hash(
                    seq, at, event, export_id, actor, camera_id, recipient, detail, stored_prev
                )
                != h
            ):
                problem = "its content does not match its hash: the row was edited"
            elif public_key is not None:
                try:
                    public_key.verify(bytes.fromhex(sig), bytes.fromhex(h))
                except (InvalidSignature, ValueError):
                    problem = "its signature does not verify with the service key: the chain was rewritten"
            if problem:
                return VerifyResult(
                    False, n, int(seq), f"row {seq}: {problem}", prev_seq, prev_hash
                )
            if expect_head is not None and (seq, h) == tuple(expect_head):
                seen_head = True
            prev_seq, prev_hash = int(seq), str(h)
        if not seen_head:
            assert expect_head is not None
            return VerifyResult(
                False,
                n,
                int(expect_head[0]),
                f"row {expect_head[0]} with hash {expect_head[1][:12]}… noted earlier is no longer "
                f"in the chain (head is now row {prev_seq}): rows were cut from the end",
                prev_seq,
                prev_hash,
            )
        return VerifyResult(True, n, None, "", prev_seq, prev_hash)


def _entry(r: tuple[Any, ...]) -> Entry:
    seq, at, event, export_id, actor, camera_id, recipient, detail, prev, h, sig = r
    # An edited row still lists (verify is what names it), so parse leniently here.
    try:
        ev = Event(event)
    except ValueError:
        ev = event
    try:
        when = datetime.fromisoformat(at)
    except (TypeError, ValueError):
        when = datetime.min.replace(tzinfo=UTC)
    try:
        info = json.loads(detail)
    except (TypeError, ValueError):
        info = {"unparseable": str(detail)}
    return Entry(int(seq), when, ev, export_id, actor, camera_id, recipient, info, prev, h, sig)
