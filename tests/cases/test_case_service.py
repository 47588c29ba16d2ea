"""Cases against the real services: a real export service with review, a real SQLite ledger
and holds table, a real clip, and a clock the test moves (issue 23)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from support.cases import ACCESS, PROVISION, RECEIVED, RECORDED, Center
from support.clips import cut_clip, source_video
from support.review import CAMERA, RECORDING, wait_state

from redactor.cases.model import CaseState, Outcome
from redactor.cases.service import CaseService
from redactor.errors import (
    Conflict,
    FailedPrecondition,
    InvalidInput,
    MissingField,
    NotFound,
    PolicyDenied,
)
from redactor.export.jobs import ExportRequest, ExportState
from redactor.ledger import Event
from redactor.ledger.register import register_rows
from redactor.metrics import Metrics

pytestmark = [pytest.mark.data]


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("clip") / "clip.avi"
    cut_clip(source_video(), path, 2.0)
    return path


@pytest.fixture(scope="module")
def center(tmp_path_factory: pytest.TempPathFactory, clip: Path) -> Iterator[Center]:
    c = Center(tmp_path_factory.mktemp("center"), clip)
    try:
        yield c
    finally:
        c.close()


def test_an_access_request_runs_its_clock_and_becomes_overdue(center: Center) -> None:
    p = center.world.people
    center.clock.at = RECEIVED
    case = center.cases.open(p["rob"], ACCESS)
    assert case.state is CaseState.OPEN and case.id.startswith("2024-")
    assert case.due_at == RECEIVED + timedelta(days=10)
    assert case.days_left(center.clock()) == 10
    assert case.recordings == [RECORDING] and len(case.holds) == 1
    assert [h.recording for h in center.holds.active(RECORDING) if h.case_id == case.id] == [
        RECORDING
    ]
    metrics = Metrics()  # as the server wires it: the gauge reads the service at each scrape
    metrics.cases_overdue.set_function(center.cases.overdue_count)

    def gauge() -> float | None:
        return metrics.registry.get_sample_value("redactor_cases_overdue")

    before = center.cases.overdue_count()
    assert gauge() == before
    center.clock.advance(days=9, hours=23)
    assert not center.cases.get(p["rob"], case.id).overdue(center.clock())
    center.clock.advance(hours=2)  # 10 days and 1 hour after it was received
    listed = center.cases.list_cases(p["aud"])
    assert listed[0].id == case.id and listed[0].overdue(center.clock())
    assert center.cases.overdue_count() == before + 1 and gauge() == before + 1
    opened = center.world.exports.ledger.entries(event=Event.CASE_OPENED)
    assert opened[-1].detail["case_id"] == case.id and opened[-1].actor == "rob"
    center.cases.withdraw(p["rob"], case.id, case.version, "the requester withdrew by phone")
    assert center.cases.overdue_count() == before
    assert not [h for h in center.holds.active(RECORDING) if h.case_id == case.id]
    center.clock.at = RECEIVED


def test_a_granted_access_request_shows_the_subject_and_closes_with_two_signatures(
    center: Center,
) -> None:
    p = center.world.people
    subject = center.subject()
    case = center.cases.open(p["rob"], ACCESS)
    with pytest.raises(MissingField, match="subject"):
        center.cases.create_export(p["rob"], case.id, ExportRequest(camera_id=CAMERA))
    job = center.cases.create_export(p["rob"], case.id, ExportRequest(subject=subject))
    assert job.request.case_id == case.id and job.request.recipient == ACCESS.requester
    job = wait_state(center.world, job.id, ExportState.IN_REVIEW)
    with pytest.raises(FailedPrecondition, match="released export"):
        center.cases.sign(p["rob"], case.id, case.version, "granted", export_id=job.id)
    version = center.world.review.sign_off(p["rob"], job.id, 0, "the requester is visible")
    center.world.review.approve(p["ann"], job.id, version)
    done = wait_state(center.world, job.id, ExportState.DONE)
    assert done.state is ExportState.DONE

    signed = center.cases.sign(p["both"], case.id, case.version, "granted", export_id=job.id)
    assert signed.state is CaseState.SIGNED and signed.proposal is not None
    with pytest.raises(PolicyDenied, match="different person"):
        center.cases.decide(p["both"], case.id, signed.version)  # an approver, but the signer
    with pytest.raises(PolicyDenied):
        center.cases.decide(p["rob"], case.id, signed.version)  # the signer is no approver
    decided = center.cases.decide(p["ann"], case.id, signed.version)
    assert decided.state is CaseState.DECIDED and decided.decided_by == "ann"
    assert not [h for h in center.holds.active(RECORDING) if h.case_id == case.id]

    row = center.world.exports.ledger.entries(event=Event.CASE_DECIDED)[-1]
    for field in (
        "case_id",
        "kind",
        "requester",
        "recipient",
        "camera_id",
        "period",
        "recordings",
        "purpose",
        "legal_basis",
        "form",
        "fee",
        "outcome",
        "export_id",
        "in_charge",
        "approved_by",
        "received_at",
        "due_at",
    ):
        assert row.detail[field] not in ("", None, []), field
    assert row.detail["outcome"] == "granted" and row.detail["in_charge"] == "both"
    completed = center.world.exports.ledger.entries(export_id=job.id, event=Event.COMPLETED)
    assert completed[0].detail["subject_tracks"], "the requester's track is visible"
    notice = center.cases.notice(p["aud"], case.id)
    assert notice.outcome[1] == "granted" and notice.fee == 5000 and notice.reason is None
    assert center.world.exports.ledger.verify(center.world.exports.key.public_key()).ok


def test_a_refusal_needs_the_laws_reason_and_issues_a_notice(center: Center) -> None:
    p = center.world.people
    case = center.cases.open(p["rita"], PROVISION)
    assert case.due_at - case.received_at == timedelta(days=10)
    rows = len(center.world.exports.ledger.entries())
    with pytest.raises(InvalidInput, match="law's reasons"):
        center.cases.sign(p["rob"], case.id, case.version, "refused", "because", "no")
    with pytest.raises(InvalidInput, match="outcome must be one of"):
        center.cases.sign(p["rob"], case.id, case.version, "maybe")
    assert len(center.world.exports.ledger.entries()) == rows  # nothing recorded
    assert center.cases.get(p["rob"], case.id).state is CaseState.OPEN
    with pytest.raises(FailedPrecondition, match="decided"):
        center.cases.notice(p["rob"], case.id)
    signed = center.cases.sign(
        p["rob"], case.id, case.version, "refused", "investigation", "case 2024-123 is open"
    )
    back = center.cases.send_back(p["ann"], case.id, signed.version, "cite the case number")
    assert back.state is CaseState.OPEN and back.returned == "cite the case number"
    signed = center.cases.sign(
        p["rob"], case.id, back.version, "refused", "investigation", "Seoul case 2024-123"
    )
    with pytest.raises(Conflict, match="changed since"):
        center.cases.decide(p["ann"], case.id, back.version)
    decided = center.cases.decide(p["ann"], case.id, signed.version)
    assert decided.proposal is not None and decided.proposal.outcome is Outcome.REFUSED
    notice = center.cases.notice(p["rita"], case.id)  # the requester's own case
    assert notice.reason is not None and "investigation" in notice.reason[1]
    assert notice.reason_text == "Seoul case 2024-123" and notice.fee == 0
    with pytest.raises(PolicyDenied):
        center.cases.get(p["rex"], case.id)  # another requester's case


def test_bad_requests_are_refused_and_change_nothing(center: Center) -> None:
    p = center.world.people
    ledger = center.world.exports.ledger
    rows = len(ledger.entries())
    known = len(center.cases.list_cases(p["aud"]))
    for bad, error, match in (
        (replace(ACCESS, requester=" "), MissingField, "requester is required"),
        (replace(ACCESS, purpose=""), MissingField, "purpose is required"),
        (replace(ACCESS, legal_basis=""), MissingField, "legal_basis is required"),
        (
            replace(ACCESS, start=RECORDED - timedelta(days=3), end=RECORDED - timedelta(days=2)),
            NotFound,
            "no recording of camera",
        ),
        (replace(ACCESS, camera_id="cam-9"), NotFound, "no recording of camera"),
        (replace(ACCESS, end=ACCESS.start), InvalidInput, "must be after start"),
        (replace(ACCESS, fee=-1), InvalidInput, "fee must be in"),
        (replace(ACCESS, form="fax"), InvalidInput, "form must be one of"),  # type: ignore[arg-type]
    ):
        with pytest.raises(error, match=match):
            center.cases.open(p["rob"], bad)
    with pytest.raises(PolicyDenied, match="open_case needs role"):
        center.cases.open(p["ann"], ACCESS)
    with pytest.raises(NotFound, match="no case"):
        center.cases.sign(p["rob"], "2024-9999", 1, "refused", "destroyed")
    assert len(ledger.entries()) == rows
    assert len(center.cases.list_cases(p["aud"])) == known


def test_cases_survive_a_restart(center: Center) -> None:
    p = center.world.people
    case = center.cases.open(p["rob"], PROVISION)
    again = CaseService(center.world.config.cases, center.world.review, center.holds)
    try:
        back = again.get(p["rob"], case.id)
        assert back == case
    finally:
        again.close()


def test_a_case_hold_outlives_retention_and_the_unheld_recording_goes(
    tmp_path: Path, clip: Path
) -> None:
    """Two recordings past retention: the one under an open case's hold survives the cycle,
    the other is destroyed with its ledger row (and register row); once the case closes,
    the next cycle destroys the first too."""
    center = Center(tmp_path, clip)
    try:
        p = center.world.people
        archive = center.world.config.export.archive_root
        other = archive / "cam-2" / "20240501T080000.avi"
        other.parent.mkdir(parents=True)
        shutil.copy(clip, other)
        case = center.cases.open(p["rob"], ACCESS)
        center.clock.advance(days=31)
        report = center.retention.retention.run()
        assert not other.exists() and (archive / RECORDING).exists()
        assert [d.recording.relative for d in report.destroyed] == ["cam-2/20240501T080000.avi"]
        rows = center.world.exports.ledger.entries(event=Event.DESTROYED)
        assert [r.detail["file"] for r in rows] == ["cam-2/20240501T080000.avi"]
        kinds = [r.kind for r in register_rows(center.world.exports.ledger.entries())]
        assert kinds.count("destruction") == 1

        center.cases.withdraw(p["rob"], case.id, case.version, "withdrawn in writing")
        center.retention.retention.run()
        assert not (archive / RECORDING).exists()
        destroyed = center.world.exports.ledger.entries(event=Event.DESTROYED)
        assert [r.detail["file"] for r in destroyed][-1] == RECORDING
        assert center.world.exports.ledger.verify(center.world.exports.key.public_key()).ok
    finally:
        center.close()
