"""Holds: placed on recordings that exist, with a reason; released once; each a ledger row;
a bad request changes nothing."""

from __future__ import annotations

import pytest
from retention_helpers import Env

from redactor.errors import Conflict, InvalidInput, MissingField, NotFound
from redactor.ledger.ledger import Event
from redactor.retention import RetentionService


def test_placing_and_releasing_a_hold_are_ledger_rows(env: Env, svc: RetentionService) -> None:
    rec = env.put("gate-1")
    hold = svc.holds.place(f"./{rec}", " investigation 2024-117 ", "Kim", case_id="C-1")
    assert (hold.recording, hold.camera_id, hold.reason, hold.active) == (
        rec,
        "gate-1",
        "investigation 2024-117",
        True,
    )
    assert svc.holds.active(rec) == [hold] and svc.holds.active("gate-1/other.mp4") == []

    released = svc.holds.release(hold.id, "Lee", "case closed")
    assert not released.active and released.released_by == "Lee"
    assert svc.holds.active() == [] and svc.holds.all() == [released]
    placed, freed = svc.ledger.entries()
    assert (placed.event, placed.actor, placed.camera_id) == (Event.HOLD_PLACED, "Kim", "gate-1")
    assert placed.detail == {
        "hold_id": hold.id,
        "recording": rec,
        "case_id": "C-1",
        "reason": "investigation 2024-117",
    }
    assert (freed.event, freed.actor) == (Event.HOLD_RELEASED, "Lee")
    assert freed.detail["hold_id"] == hold.id and freed.detail["reason"] == "case closed"


@pytest.mark.parametrize(
    ("recording", "error", "words"),
    [
        ("gate-1/20200101T000000.mp4", NotFound, "gate-1/20200101T000000.mp4"),
        ("nocamera/20240501T080000.mp4", NotFound, "nocamera/20240501T080000.mp4"),
        ("../ledger.sqlite", InvalidInput, "'..'"),
        ("/etc/passwd", InvalidInput, "relative"),
        ("gate-1/notes.txt", InvalidInput, "not a recording"),
        ("", InvalidInput, "non-empty"),
    ],
)
def test_a_hold_on_a_recording_that_does_not_exist_is_refused_and_not_recorded(
    env: Env, svc: RetentionService, recording: str, error: type[Exception], words: str
) -> None:
    env.put("gate-1")
    (env.archive / "gate-1" / "notes.txt").write_text("not a recording")
    with pytest.raises(error, match=words):
        svc.holds.place(recording, "investigation", "Kim")
    assert svc.holds.all() == [] and svc.ledger.entries() == []


@pytest.mark.parametrize(
    ("reason", "actor", "field"),
    [("", "Kim", "reason"), ("  ", "Kim", "reason"), ("x", "", "actor")],
)
def test_a_hold_needs_a_reason_and_a_person(
    env: Env, svc: RetentionService, reason: str, actor: str, field: str
) -> None:
    rec = env.put("gate-1")
    with pytest.raises(MissingField, match=f"{field} is required"):
        svc.holds.place(rec, reason, actor)
    assert svc.holds.all() == [] and svc.ledger.entries() == []


def test_releasing_twice_is_a_conflict_and_changes_nothing(env: Env, svc: RetentionService) -> None:
    hold = svc.holds.place(env.put("gate-1"), "investigation", "Kim")
    first = svc.holds.release(hold.id, "Lee", "closed")
    with pytest.raises(Conflict, match=f"hold {hold.id} .* already released .* by 'Lee'"):
        svc.holds.release(hold.id, "Park", "closed again")
    assert svc.holds.get(hold.id) == first
    assert len(svc.ledger.entries(event=Event.HOLD_RELEASED)) == 1
    with pytest.raises(NotFound, match="no hold with id 99"):
        svc.holds.release(99, "Lee", "closed")
    with pytest.raises(MissingField, match="reason"):
        svc.holds.release(hold.id, "Lee", "")


def test_releasing_a_case_releases_its_holds_only(env: Env, svc: RetentionService) -> None:
    a, b = env.put("gate-1"), env.put("gate-2")
    h1 = svc.holds.place(a, "case", "Kim", case_id="C-1")
    h2 = svc.holds.place(b, "case", "Kim", case_id="C-1")
    other = svc.holds.place(b, "other case", "Kim", case_id="C-2")
    released = svc.holds.release_case("C-1", "Lee", "case closed")
    assert [h.id for h in released] == [h1.id, h2.id]
    assert svc.holds.active() == [other]
    assert svc.holds.release_case("C-1", "Lee", "again") == []
    assert [h.id for h in svc.holds.of_case("C-1")] == [h1.id, h2.id]


def test_holds_survive_a_restart(env: Env, clock: object, svc: RetentionService) -> None:
    hold = svc.holds.place(env.put("gate-1"), "investigation", "Kim")
    with RetentionService.open(env.config()) as again:
        assert again.holds.active() == [hold]
