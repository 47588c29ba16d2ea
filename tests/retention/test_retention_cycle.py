"""The retention cycle: recordings past their period are destroyed with a ledger row,
held ones are kept until released, groups keep their own periods, a dry run changes
nothing, and an interrupted destruction is still recorded."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from retention_helpers import CLIP_S, T0, Clock, Env

from redactor.errors import FailedPrecondition, NotFound
from redactor.ledger.ledger import Event
from redactor.retention import RetentionService, destroy_file


def test_past_retention_without_a_hold_is_destroyed_with_its_row(
    env: Env, clock: Clock, svc: RetentionService
) -> None:
    old = env.put("cam-1")  # default group, 30 days
    new = env.put("cam-1", T0.replace(day=20))
    size = (env.archive / old).stat().st_size
    clock.advance(days=30)  # old ends at T0 + 1 s: due at T0 + 30 d + 1 s; now T0 + 30 d + 1 h

    report = svc.retention.run()

    assert not env.exists(old) and env.exists(new)
    assert [d.recording.relative for d in report.destroyed] == [old]
    assert report.not_due == 1 and not report.kept and not report.failed
    rows = svc.ledger.entries(event=Event.DESTROYED)
    assert len(rows) == 1 and rows == list(report.rows)
    row = rows[0]
    assert row.actor == "retention" and row.camera_id == "cam-1"
    assert row.detail["file"] == old and row.detail["bytes"] == size
    assert row.detail["retention_days"] == 30 and row.detail["group"] == "default"
    assert row.detail["cycle"] is True and row.detail["overwritten"] is True
    assert row.detail["start"] == T0.isoformat()
    assert row.detail["end"] == T0.replace(second=CLIP_S).isoformat()
    assert row.detail["due_at"] == T0.replace(month=5, day=31, second=CLIP_S).isoformat()

    again = svc.retention.run()  # nothing left to do: no second row
    assert not again.destroyed and len(svc.ledger.entries(event=Event.DESTROYED)) == 1


def test_a_held_recording_survives_until_its_hold_is_released(
    env: Env, clock: Clock, svc: RetentionService
) -> None:
    rec = env.put("cam-2")
    hold = svc.holds.place(rec, "hit-and-run investigation", "Kim", case_id="C-7")
    clock.advance(days=60)

    report = svc.retention.run()
    assert env.exists(rec)
    assert [(d.recording.relative, [h.id for h in d.holds]) for d in report.kept] == [
        (rec, [hold.id])
    ]
    assert not svc.ledger.entries(event=Event.DESTROYED)

    svc.holds.release(hold.id, "Lee", "case C-7 closed")
    report = svc.retention.run()
    assert not env.exists(rec) and [d.recording.relative for d in report.destroyed] == [rec]
    events = [e.event for e in svc.ledger.entries()]
    assert events == [Event.HOLD_PLACED, Event.HOLD_RELEASED, Event.DESTROYED]


def test_two_holds_keep_a_recording_until_both_are_released(
    env: Env, clock: Clock, svc: RetentionService
) -> None:
    rec = env.put("cam-2")
    first = svc.holds.place(rec, "case", "Kim", case_id="C-1")
    svc.holds.place(rec, "another case", "Kim", case_id="C-2")
    clock.advance(days=60)
    svc.holds.release(first.id, "Lee", "closed")
    assert svc.retention.run().kept and env.exists(rec)
    assert [h.id for h in svc.holds.release_case("C-2", "Lee", "closed")] == [2]
    assert svc.retention.run().destroyed and not env.exists(rec)


def test_groups_keep_their_own_periods(env: Env, clock: Clock, svc: RetentionService) -> None:
    r = svc.retention
    assert r.days_for("gate-3") == ("gates", 7)
    assert r.days_for("hall-b") == ("lobby", 14)
    assert r.days_for("hall-bb") == ("default", 30)  # '?' is one character
    assert r.days_for("lobby") == ("lobby", 14)
    assert r.days_for("GATE-3") == ("default", 30)  # patterns are case-sensitive
    gate, hall, other = env.put("gate-3"), env.put("hall-b"), env.put("cam-9")

    clock.advance(days=7)
    assert [d.recording.relative for d in r.run().destroyed] == [gate]
    clock.advance(days=7)
    assert [d.recording.relative for d in r.run().destroyed] == [hall]
    assert env.exists(other)
    clock.advance(days=16)
    assert [d.recording.relative for d in r.run().destroyed] == [other]
    groups = [(e.detail["group"], e.detail["retention_days"]) for e in svc.ledger.entries()]
    assert groups == [("gates", 7), ("lobby", 14), ("default", 30)]


def test_a_dry_run_destroys_nothing_and_writes_nothing(
    env: Env, clock: Clock, svc: RetentionService
) -> None:
    gone, held = env.put("gate-1"), env.put("gate-2")
    svc.holds.place(held, "kept for a case", "Kim")
    head = svc.ledger.head()
    clock.advance(days=8)

    report = svc.retention.run(dry_run=True)

    assert report.dry_run and [d.recording.relative for d in report.destroyed] == [gone]
    assert [d.recording.relative for d in report.kept] == [held]
    assert not report.rows and env.exists(gone) and env.exists(held)
    assert svc.ledger.head() == head
    assert not svc.store.pending_destructions()


def test_a_person_destroys_one_recording_before_its_time_unless_held(
    env: Env, svc: RetentionService
) -> None:
    rec, held = env.put("cam-1"), env.put("cam-2")
    svc.holds.place(held, "case", "Kim")

    row = svc.retention.destroy(rec, "Park", "purpose met: the incident was closed")

    assert not env.exists(rec)
    assert row.actor == "Park" and row.detail["cycle"] is False
    assert row.detail["reason"] == "purpose met: the incident was closed"
    with pytest.raises(FailedPrecondition, match="held"):
        svc.retention.destroy(held, "Park", "no longer needed")
    assert env.exists(held)
    with pytest.raises(NotFound, match="cam-1"):
        svc.retention.destroy(rec, "Park", "again")
    assert len(svc.ledger.entries(event=Event.DESTROYED)) == 1


def test_a_deletion_whose_row_was_not_written_is_recorded_by_the_next_cycle(
    env: Env, clock: Clock, svc: RetentionService
) -> None:
    """The process died after deleting the file and before writing its row."""
    rec = env.put("gate-1")
    clock.advance(days=8)
    mark = svc.store.begin_destruction(
        rec, "gate-1", "retention", {"file": rec}, clock(), exists=lambda: True
    )
    assert mark is not None
    with pytest.raises(FailedPrecondition, match="being destroyed"):
        svc.holds.place(rec, "too late", "Kim")  # the cycle has it: a hold now would keep nothing
    destroy_file(env.archive / rec)
    with pytest.raises(NotFound, match=rec):
        svc.holds.place(rec, "too late", "Kim")

    report = svc.retention.run()

    assert not report.destroyed
    (late,) = report.recorded_late
    assert late.event == Event.DESTROYED and late.detail["file"] == rec
    assert late.detail["recorded_late"] is True and late.detail["destruction_id"] == mark
    assert not svc.store.pending_destructions()
    assert not svc.retention.run().recorded_late  # recorded once
    assert len(svc.ledger.entries(event=Event.DESTROYED)) == 1


def test_a_mark_whose_file_was_never_deleted_is_taken_back(
    env: Env, clock: Clock, svc: RetentionService
) -> None:
    rec = env.put("gate-1")
    svc.store.begin_destruction(rec, "gate-1", "retention", {}, clock(), exists=lambda: True)
    report = svc.retention.run()  # not due yet: the mark goes, the recording stays
    assert env.exists(rec) and not report.recorded_late and not report.destroyed
    assert not svc.store.pending_destructions()
    svc.holds.place(rec, "now possible again", "Kim")


def test_destroy_file_overwrites_the_bytes_before_unlinking(tmp_path: Path) -> None:
    path = tmp_path / "rec.mp4"
    path.write_bytes(b"\x01" * 3_000_000)
    with path.open("rb") as still_open:  # sees the same inode after the unlink
        assert destroy_file(path) is True
        assert not path.exists()
        assert still_open.read() == bytes(3_000_000)


def test_destroy_file_does_not_write_through_links(tmp_path: Path) -> None:
    target = tmp_path / "other.mp4"
    target.write_bytes(b"keep me")
    link = tmp_path / "link.mp4"
    link.symlink_to(target)
    hard = tmp_path / "hard.mp4"
    os.link(target, hard)
    assert destroy_file(link) is False and destroy_file(hard) is False
    assert target.read_bytes() == b"keep me" and not link.exists() and not hard.exists()
