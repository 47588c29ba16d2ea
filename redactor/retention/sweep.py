"""Retention: recordings past their period are destroyed unless held, each with a ledger row.

A recording is due `days` after it ends, `days` from the first camera group whose
pattern matches its camera (else retention.default_days). A cycle destroys every
recording past due without an active hold: its bytes are overwritten with zeros and
synced, the file is unlinked, and a DESTROYED row is written.

Order, so that no deletion goes unrecorded: the recording is first marked in the
`destructions` table (in one transaction with the hold check, see holds.py), then
deleted, then its row is written and the mark closed. A process that dies between the
deletion and the row leaves the mark; the next cycle finds it, sees the file gone and
writes the row then (detail.recorded_late), or sees the file still there and takes the
mark back. The mark's id is in the row (detail.destruction_id), so a row written just
before a crash is not written twice.
"""

from __future__ import annotations

import fnmatch
import logging
import os
import stat
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Any

from redactor import fields
from redactor.config import RetentionConfig
from redactor.errors import FailedPrecondition, InvalidInput
from redactor.export.archive import Archive, Recording
from redactor.ledger.ledger import Entry, Event, Ledger
from redactor.retention.holds import Hold, Holds, PendingDestruction

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
CYCLE_ACTOR = "retention"  # the actor of rows the automatic cycle writes
DEFAULT_GROUP = "default"
_ZEROS = bytes(1 << 20)


@dataclass(frozen=True, slots=True)
class Due:
    """One recording, when it is due, and what keeps it."""

    recording: Recording
    group: str
    days: int
    due_at: datetime
    past_due: bool
    holds: tuple[Hold, ...]  # active holds

    @property
    def destroy(self) -> bool:
        """Past due and not held: the next cycle destroys it."""
        return self.past_due and not self.holds


@dataclass(frozen=True, slots=True)
class RetentionReport:
    """What one cycle did (or, in a dry run, would do)."""

    at: datetime
    actor: str
    dry_run: bool
    destroyed: tuple[Due, ...]  # destroyed (dry run: would be)
    rows: tuple[Entry, ...]  # their DESTROYED rows (none in a dry run)
    kept: tuple[Due, ...]  # past due, kept by holds
    failed: tuple[tuple[Due, str], ...]  # could not be deleted (why); tried again next cycle
    recorded_late: tuple[Entry, ...]  # rows for deletions an interrupted cycle did not record
    not_due: int  # recordings still within retention


def destroy_file(path: Path) -> bool:
    """Overwrites a regular file's bytes with zeros, syncs, and unlinks it.

    The overwrite is best effort (True where done): a link is unlinked without writing
    through it (its target is not this recording), and a file with other hard links is
    not overwritten. Unlinking errors raise OSError. On SSDs and copy-on-write file
    systems the old blocks may survive the overwrite (docs/retention.md)."""
    overwritten = False
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NOFOLLOW)
    except OSError:
        fd = -1
    if fd >= 0:
        try:
            st = os.fstat(fd)
            if stat.S_ISREG(st.st_mode) and st.st_nlink == 1:
                left = st.st_size
                while left > 0:
                    left -= os.write(fd, _ZEROS[: min(left, len(_ZEROS))])
                os.fsync(fd)
                overwritten = True
        except OSError as e:
            log.warning("could not overwrite %s before deleting it: %s", path, e)
        finally:
            os.close(fd)
    path.unlink()
    try:
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)  # the unlink itself survives a power cut
        finally:
            os.close(dfd)
    except OSError:
        pass
    return overwritten


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Retention:
    """Plans and runs retention cycles over one archive; optionally every period_s."""

    def __init__(
        self,
        config: RetentionConfig,
        archive: Archive,
        ledger: Ledger,
        holds: Holds,
        clock: Clock = _utc_now,
    ) -> None:
        self.config = config
        self.archive = archive
        self.ledger = ledger
        self.holds = holds
        self.clock = clock
        self.last_report: RetentionReport | None = None
        self._run_lock = threading.Lock()  # one cycle at a time in this process
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------ planning

    def days_for(self, camera_id: str) -> tuple[str, int]:
        """(group name, days) for a camera: the first group with a matching pattern."""
        for group in self.config.groups:
            if any(fnmatch.fnmatchcase(camera_id, p) for p in group.cameras):
                return group.name, group.days
        return DEFAULT_GROUP, self.config.default_days

    def plan(self, now: datetime | None = None) -> list[Due]:
        """Every recording with its due time and active holds, soonest due first."""
        now = self.clock() if now is None else now
        held: dict[str, list[Hold]] = {}
        for h in self.holds.active():
            held.setdefault(h.recording, []).append(h)
        out = []
        for rec in self.archive.recordings():
            group, days = self.days_for(rec.camera_id)
            due_at = rec.end + timedelta(days=days)
            out.append(
                Due(rec, group, days, due_at, now >= due_at, tuple(held.get(rec.relative, ())))
            )
        return sorted(out, key=lambda d: (d.due_at, d.recording.relative))

    # ------------------------------------------------------------ destroying

    def run(self, actor: str = CYCLE_ACTOR, dry_run: bool = False) -> RetentionReport:
        """Destroys every recording past due and not held (`dry_run`: only lists them,
        writes nothing). A recording that cannot be deleted is reported and left for the
        next cycle; the others go ahead."""
        actor = _text("actor", actor)
        with self._run_lock:
            now = self.clock()
            late = () if dry_run else tuple(self._settle_pending())
            destroyed: list[Due] = []
            rows: list[Entry] = []
            kept: list[Due] = []
            failed: list[tuple[Due, str]] = []
            plan = self.plan(now)
            for due in plan:
                if not due.past_due:
                    continue
                if due.holds:
                    kept.append(due)
                    continue
                if dry_run:
                    destroyed.append(due)
                    continue
                try:
                    entry = self._destroy(due, actor, cycle=actor == CYCLE_ACTOR, now=now)
                except OSError as e:
                    log.warning("retention: could not delete %s: %s", due.recording.relative, e)
                    failed.append((due, str(e)))
                    continue
                if entry is None:  # held, or taken by another process, since the plan
                    holds = tuple(self.holds.active(due.recording.relative))
                    if holds:
                        kept.append(_with_holds(due, holds))
                    continue
                destroyed.append(due)
                rows.append(entry)
            report = RetentionReport(
                now,
                actor,
                dry_run,
                tuple(destroyed),
                tuple(rows),
                tuple(kept),
                tuple(failed),
                late,
                sum(1 for d in plan if not d.past_due),
            )
            if not dry_run:
                self.last_report = report
            return report

    def destroy(self, recording: str, actor: str, reason: str) -> Entry:
        """A person destroys one recording before its time (its purpose is met).
        Refused (FailedPrecondition) while a hold keeps it."""
        actor = _text("actor", actor)
        reason = _text("reason", reason)
        self.archive.resolve(recording)  # InvalidInput outside the root, NotFound if absent
        rel = PurePosixPath(recording.replace("\\", "/")).as_posix()
        with self._run_lock:
            now = self.clock()
            due = next((d for d in self.plan(now) if d.recording.relative == rel), None)
            if due is None:
                raise InvalidInput(
                    f"{recording!r} is not a recording retention can date: expected "
                    "<camera>/<YYYYmmddTHHMMSS>.<ext> under the archive root"
                )
            if due.holds:
                raise FailedPrecondition(
                    f"recording {rel!r} is held ({_describe(due.holds)}); release the "
                    "hold first. Nothing was destroyed"
                )
            entry = self._destroy(due, actor, cycle=False, now=now, reason=reason)
            if entry is None:
                raise FailedPrecondition(
                    f"recording {rel!r} was held or taken by a retention cycle meanwhile; "
                    "nothing was destroyed"
                )
            return entry

    def _destroy(
        self, due: Due, actor: str, *, cycle: bool, now: datetime, reason: str = ""
    ) -> Entry | None:
        rec = due.recording
        detail: dict[str, Any] = {
            "file": rec.relative,
            "start": rec.start.isoformat(),
            "end": rec.end.isoformat(),
            "bytes": rec.bytes,
            "retention_days": due.days,
            "group": due.group,
            "due_at": due.due_at.isoformat(),
            "cycle": cycle,
        }
        if reason:
            detail["reason"] = reason
        store = self.holds.store
        mark = store.begin_destruction(
            rec.relative,
            rec.camera_id,
            actor,
            detail,
            now,
            exists=lambda: os.path.lexists(rec.path),
        )
        if mark is None:
            return None
        try:
            overwritten = destroy_file(rec.path)
        except FileNotFoundError:
            overwritten = False  # gone already (someone else deleted it): still record it
        except OSError:
            store.finish_destruction(mark, None)  # still there: nothing to record
            raise
        entry = self.ledger.append(
            Event.DESTROYED,
            actor=actor,
            camera_id=rec.camera_id,
            detail={**detail, "overwritten": overwritten, "destruction_id": mark},
        )
        store.finish_destruction(mark, entry.seq)
        log.info("retention: destroyed %s (ledger row %d)", rec.relative, entry.seq)
        return entry

    def _settle_pending(self) -> list[Entry]:
        """Closes marks an interrupted cycle left: writes the row of a file that is gone."""
        store = self.holds.store
        late: list[Entry] = []
        for p in store.pending_destructions():
            written = self._row_of(p)
            if written is not None:
                store.finish_destruction(p.id, written.seq)
                continue
            try:
                gone = not os.path.lexists(
                    self.archive.root / Path(*PurePosixPath(p.recording).parts)
                )
            except OSError:
                continue
            if not gone:
                store.finish_destruction(p.id, None)  # never deleted: the plan decides again
                continue
            entry = self.ledger.append(
                Event.DESTROYED,
                actor=p.actor,
                camera_id=p.camera_id,
                detail={**p.detail, "destruction_id": p.id, "recorded_late": True},
            )
            store.finish_destruction(p.id, entry.seq)
            log.warning("retention: recorded the destruction of %s late", p.recording)
            late.append(entry)
        return late

    def _row_of(self, p: PendingDestruction) -> Entry | None:
        # not filtered by time: the ledger's clock need not be this one's
        for e in self.ledger.entries(event=Event.DESTROYED, camera_id=p.camera_id):
            if e.detail.get("destruction_id") == p.id and e.detail.get("file") == p.recording:
                return e
        return None

    # ------------------------------------------------------------ the periodic cycle

    def start(self) -> None:
        """Runs a cycle every period_s, the first one period from now (starting a server
        never destroys at once). A failed cycle is logged and tried again next period."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="retention", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.config.period_s):
            try:
                r = self.run()
            except Exception:
                log.exception(
                    "retention cycle failed; trying again in %.0f s", self.config.period_s
                )
                continue
            if r.destroyed or r.failed or r.recorded_late:
                log.info(
                    "retention cycle: %d destroyed, %d kept by holds, %d failed",
                    len(r.destroyed),
                    len(r.kept),
                    len(r.failed),
                )

    def close(self) -> None:
        """Stops the periodic cycle (waits for a running one to finish)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None


def _with_holds(due: Due, holds: tuple[Hold, ...]) -> Due:
    return Due(due.recording, due.group, due.days, due.due_at, due.past_due, holds)


def _describe(holds: tuple[Hold, ...]) -> str:
    return "; ".join(
        f"hold {h.id}" + (f" for case {h.case_id}" if h.case_id else "") + f": {h.reason}"
        for h in holds
    )


def _text(name: str, value: str) -> str:
    return fields.text(name, value, why="it is recorded on the ledger")
