"""The case workflow: requests in, holds on their recordings, a clock, two sign-offs, a notice.

    open ──(person in charge signs an outcome: 담당)──▶ signed ──(senior approves: 과장)──▶ decided
      ▲                                                   │
      └────────────(senior sends it back, with why)───────┘          open/signed ──▶ withdrawn

Every step is a ledger row (CASE_OPENED, CASE_SIGNED, CASE_RETURNED, CASE_DECIDED,
CASE_WITHDRAWN) and the CASE_DECIDED row carries every field the register shows, so the
register is read from the ledger alone. Opening a case holds every recording with footage in
its range (redactor.retention keeps them past retention); closing it releases those holds.
A granted or partly granted case names an export made for it through the review console
(for an access request, one with the subject visible and everyone else masked) and released.
Roles and the four-eyes rule come from redactor.review.access; the clock is the export
service's, so tests move it.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from redactor import fields
from redactor.cases.model import (
    FORM_NAMES,
    KIND_NAMES,
    OUTCOME_NAMES,
    REFUSAL_REASONS,
    Case,
    CaseKind,
    CaseRequest,
    CaseState,
    Outcome,
    Proposal,
    check_proposal,
)
from redactor.cases.store import CaseStore
from redactor.config import CasesConfig
from redactor.errors import Conflict, FailedPrecondition, InvalidInput, MissingField, NotFound
from redactor.export.jobs import ExportJob, ExportRequest, ExportState
from redactor.ledger import Event
from redactor.review import access
from redactor.review.service import ReviewService
from redactor.review.users import User

log = logging.getLogger(__name__)

MAX_REASON_CHARS = 1024


class HeldRecording(Protocol):
    @property
    def id(self) -> int: ...


class Holds(Protocol):
    """What a case needs of redactor.retention's holds."""

    def place(
        self, recording: str, reason: str, actor: str, case_id: str = ""
    ) -> HeldRecording: ...

    def release_case(self, case_id: str, actor: str, reason: str) -> Sequence[HeldRecording]: ...

    def of_case(self, case_id: str) -> Sequence[HeldRecording]: ...


@dataclass(frozen=True, slots=True)
class Notice:
    """The answer to the requester, as printed (redactor/console/templates/notice.html)."""

    case: Case
    center: str
    kind: tuple[str, str]  # (Korean, English)
    outcome: tuple[str, str]
    reason: tuple[str, str] | None  # the law's reason, where refused or limited
    reason_text: str
    form: tuple[str, str]
    fee: int
    currency: str
    export_id: str
    decided_at: datetime
    signed_by: str
    decided_by: str


class CaseService:
    """Cases for signed-in users; the console's only way to them."""

    def __init__(self, config: CasesConfig, review: ReviewService, holds: Holds | None) -> None:
        self.cfg = config
        self.review = review
        self.exports = review.exports
        self.ledger = self.exports.ledger
        self.archive = self.exports.archive
        self.holds = holds
        self.store = CaseStore(self.exports.cfg.ledger_path)
        self._lock = threading.RLock()
        self._cases = {c.id: c for c in self.store.load()}

    def now(self) -> datetime:
        return self.exports.clock()

    # ------------------------------------------------------------ reading

    def list_cases(self, user: User) -> list[Case]:
        """The cases the user may see: overdue first, then open by due date, closed last."""
        access.authorize(user, "view_case", requested_by=user.name)
        now = self.now()
        with self._lock:
            cases = [c.snapshot() for c in self._cases.values()]
        seen = [c for c in cases if access.may(user, "view_case", requested_by=c.opened_by)]
        return sorted(
            seen,
            key=lambda c: (
                not c.overdue(now),
                c.state.closed,
                _stamp(c.due_at) if not c.state.closed else -_stamp(c.received_at),
            ),
        )

    def get(self, user: User, case_id: str) -> Case:
        case = self._case(case_id).snapshot()
        access.authorize(user, "view_case", requested_by=case.opened_by)
        return case

    def overdue_count(self) -> int:
        """Open or signed cases past their due date (the metric redactor_cases_overdue)."""
        now = self.now()
        with self._lock:
            return sum(1 for c in self._cases.values() if c.overdue(now))

    def holds_of(self, case_id: str) -> list[HeldRecording]:
        """The holds the case placed (released ones too), for its page."""
        return list(self.holds.of_case(case_id)) if self.holds is not None else []

    def exports_of(self, user: User, case_id: str) -> list[ExportJob]:
        case = self.get(user, case_id)
        out = []
        for eid in case.export_ids:
            try:
                out.append(self.exports.get(eid))
            except NotFound:
                continue
        return out

    # ------------------------------------------------------------ opening

    def open(self, user: User, request: CaseRequest) -> Case:
        """Records a request, starts its clock and holds its recordings."""
        access.authorize(user, "open_case")
        req = request.validate(self.cfg.max_fee)
        recordings = self.archive.overlapping(req.camera_id, req.start, req.end)
        if not recordings:
            raise NotFound(
                f"no recording of camera {req.camera_id!r} has footage between "
                f"{req.start.isoformat()} and {req.end.isoformat()}: check the camera and the "
                "range (a request for footage already destroyed is refused with reason "
                "'destroyed' once opened for a range that was recorded)"
            )
        now = self.now()
        days = (
            self.cfg.access_due_days if req.kind is CaseKind.ACCESS else self.cfg.provision_due_days
        )
        with self._lock:
            case = self._insert(req, user.name, now, now + timedelta(days=days), recordings)
            self.ledger.append(
                Event.CASE_OPENED,
                actor=user.name,
                camera_id=req.camera_id,
                recipient=req.recipient,
                detail={
                    "case_id": case.id,
                    **req.to_json(),
                    "received_at": case.received_at.isoformat(),
                    "due_at": case.due_at.isoformat(),
                    "due_days": days,
                    "recordings": case.recordings,
                },
            )
            if self.holds is not None:
                for rec in case.recordings:
                    hold = self.holds.place(
                        rec, f"{KIND_NAMES[req.kind][1]} {case.id}", user.name, case_id=case.id
                    )
                    case.holds.append(hold.id)
            self.store.save(case)
            return case.snapshot()

    def _insert(
        self, req: CaseRequest, actor: str, now: datetime, due: datetime, recordings: Sequence[Any]
    ) -> Case:
        for _ in range(5):  # another process may take the same number first
            case = Case(
                id=self.store.next_id(now.year),
                request=req,
                opened_by=actor,
                received_at=now,
                due_at=due,
                recordings=[r.relative for r in recordings],
            )
            try:
                self.store.insert(case)
            except sqlite3.IntegrityError:
                continue
            self._cases[case.id] = case
            return case
        raise Conflict("could not number the case: too many cases opened at once; try again")

    # ------------------------------------------------------------ its export

    def create_export(self, user: User, case_id: str, request: ExportRequest) -> ExportJob:
        """An export that answers the case: its camera, within its range, its recipient, purpose
        and legal basis; for an access request, with the subject (the requester) visible."""
        access.authorize(user, "open_case")
        with self._lock:
            case = self._case(case_id)
            access.authorize(user, "view_case", requested_by=case.opened_by)
            if case.state is not CaseState.OPEN:
                raise Conflict(f"case {case_id} is {case.state}; exports are made while it is open")
            req = case.request
            if request.recording:
                raise InvalidInput(
                    "a case's export names its camera and a range inside the case's range, "
                    f"not a recording file (got recording={request.recording!r})"
                )
            start = request.start or req.start
            end = request.end or req.end
            if start < req.start or end > req.end:
                raise InvalidInput(
                    f"the export's range {start.isoformat()}–{end.isoformat()} must lie inside "
                    f"the case's {req.start.isoformat()}–{req.end.isoformat()}"
                )
            if req.kind is CaseKind.ACCESS and request.subject is None:
                raise MissingField(
                    "subject", "an access request's export shows the requester: mark them"
                )
            full = replace(
                request,
                camera_id=req.camera_id,
                start=start,
                end=end,
                recipient=req.recipient,
                officer=request.officer or req.requester,
                purpose=req.purpose,
                legal_basis=req.legal_basis,
                case_id=case.id,
            )
            job = self.exports.create(full, user.name)
            case.export_ids.append(job.id)
            self.store.save(case)
            return job

    # ------------------------------------------------------------ sign-offs

    def sign(
        self,
        user: User,
        case_id: str,
        version: int,
        outcome: str,
        refusal_reason: str = "",
        reason_text: str = "",
        export_id: str = "",
    ) -> Case:
        """The person in charge (담당) proposes the outcome; a senior approver confirms it."""
        with self._lock:
            case = self._case(case_id)
            access.authorize(user, "sign_case", requested_by=case.opened_by)
            self._expect(case, version, CaseState.OPEN)
            out = check_proposal(outcome, refusal_reason, reason_text.strip(), export_id)
            if export_id:
                self._released_for(case, export_id)
            proposal = Proposal(
                out,
                refusal_reason if out is not Outcome.GRANTED else "",
                reason_text.strip(),
                export_id,
                user.name,
                self.now(),
            )
            self.ledger.append(
                Event.CASE_SIGNED,
                actor=user.name,
                camera_id=case.request.camera_id,
                recipient=case.request.recipient,
                detail={"case_id": case.id, "version": case.version, **proposal.to_json()},
            )
            case.proposal = proposal
            case.state = CaseState.SIGNED
            case.version += 1
            self.store.save(case)
            return case.snapshot()

    def decide(self, user: User, case_id: str, version: int) -> Case:
        """The senior approver (과장) confirms the signed outcome: the case closes."""
        with self._lock:
            case = self._case(case_id)
            self._senior(user, case)
            self._expect(case, version, CaseState.SIGNED)
            assert case.proposal is not None
            if case.proposal.export_id:
                self._released_for(case, case.proposal.export_id)
            now = self.now()
            case.state = CaseState.DECIDED
            case.decided_by = user.name
            case.decided_at = now
            case.version += 1
            self.ledger.append(
                Event.CASE_DECIDED,
                actor=user.name,
                camera_id=case.request.camera_id,
                recipient=case.request.recipient,
                detail=self._register_detail(case),
            )
            self.store.save(case)
            self._release_holds(case, user.name, f"case {case.id} decided")
            return case.snapshot()

    def send_back(self, user: User, case_id: str, version: int, reason: str) -> Case:
        """The senior approver returns the proposal to the person in charge, saying why."""
        reason = _reason(reason)
        with self._lock:
            case = self._case(case_id)
            self._senior(user, case)
            self._expect(case, version, CaseState.SIGNED)
            self.ledger.append(
                Event.CASE_RETURNED,
                actor=user.name,
                camera_id=case.request.camera_id,
                recipient=case.request.recipient,
                detail={"case_id": case.id, "reason": reason},
            )
            case.state = CaseState.OPEN
            case.returned = reason
            case.proposal = None
            case.version += 1
            self.store.save(case)
            return case.snapshot()

    def withdraw(self, user: User, case_id: str, version: int, reason: str) -> Case:
        """The requester withdrew: the case closes without an outcome; holds are released."""
        reason = _reason(reason)
        with self._lock:
            case = self._case(case_id)
            access.authorize(user, "open_case")
            access.authorize(user, "view_case", requested_by=case.opened_by)
            if case.state.closed:
                raise Conflict(f"case {case_id} is already {case.state}")
            _check_version(case, version)
            self.ledger.append(
                Event.CASE_WITHDRAWN,
                actor=user.name,
                camera_id=case.request.camera_id,
                recipient=case.request.recipient,
                detail={"case_id": case.id, "reason": reason},
            )
            case.state = CaseState.WITHDRAWN
            case.version += 1
            self.store.save(case)
            self._release_holds(case, user.name, f"case {case.id} withdrawn")
            return case.snapshot()

    # ------------------------------------------------------------ the notice

    def notice(self, user: User, case_id: str) -> Notice:
        case = self.get(user, case_id)
        if case.state is not CaseState.DECIDED or case.proposal is None:
            raise FailedPrecondition(
                f"case {case_id} is {case.state}: its notice is issued once it is decided"
            )
        assert case.decided_at is not None
        p = case.proposal
        return Notice(
            case=case,
            center=self.cfg.center_name,
            kind=KIND_NAMES[case.request.kind],
            outcome=OUTCOME_NAMES[p.outcome],
            reason=REFUSAL_REASONS.get(p.refusal_reason),
            reason_text=p.reason_text,
            form=FORM_NAMES[case.request.form],
            fee=case.request.fee if p.outcome is not Outcome.REFUSED else 0,
            currency=self.cfg.currency,
            export_id=p.export_id,
            decided_at=case.decided_at,
            signed_by=p.signed_by,
            decided_by=case.decided_by,
        )

    # ------------------------------------------------------------ inside

    def _case(self, case_id: str) -> Case:
        case = self._cases.get(case_id)
        if case is None:
            raise NotFound(f"no case {case_id!r}")
        return case

    def _senior(self, user: User, case: Case) -> None:
        signer = case.proposal.signed_by if case.proposal is not None else ""
        access.authorize(
            user, "decide_case", requested_by=case.opened_by, reviewers=[signer] if signer else []
        )

    def _expect(self, case: Case, version: int, state: CaseState) -> None:
        if case.state is not state:
            raise Conflict(f"case {case.id} is {case.state}, not {state}")
        _check_version(case, version)

    def _released_for(self, case: Case, export_id: str) -> ExportJob:
        if export_id not in case.export_ids:
            raise InvalidInput(
                f"export {export_id!r} was not made for case {case.id}; its exports: "
                f"{', '.join(case.export_ids) or 'none yet'}"
            )
        job = self.exports.get(export_id)
        if job.state is not ExportState.DONE:
            raise FailedPrecondition(
                f"export {export_id} is {job.state.name}: a case is answered with a released "
                "export (reviewed, approved and DONE)"
            )
        return job

    def _release_holds(self, case: Case, actor: str, reason: str) -> None:
        if self.holds is not None and case.holds:
            self.holds.release_case(case.id, actor, reason)

    def _register_detail(self, case: Case) -> dict[str, Any]:
        """Everything the register shows of a decided case, in its CASE_DECIDED row."""
        req, p = case.request, case.proposal
        assert p is not None and case.decided_at is not None
        return {
            "case_id": case.id,
            "kind": str(req.kind),
            "requester": req.requester,
            "requester_kind": "person" if req.kind is CaseKind.ACCESS else "agency",
            "recipient": req.recipient,
            "camera_id": req.camera_id,
            "period": [req.start.isoformat(), req.end.isoformat()],
            "recordings": list(case.recordings),
            "purpose": req.purpose,
            "legal_basis": req.legal_basis,
            "form": str(req.form),
            "fee": req.fee,
            "currency": self.cfg.currency,
            "outcome": str(p.outcome),
            "refusal_reason": p.refusal_reason,
            "reason_text": p.reason_text,
            "export_id": p.export_id,
            "in_charge": p.signed_by,
            "approved_by": case.decided_by,
            "opened_by": case.opened_by,
            "received_at": case.received_at.isoformat(),
            "due_at": case.due_at.isoformat(),
            "decided_at": case.decided_at.isoformat(),
            "overdue": case.decided_at > case.due_at,
        }

    def close(self) -> None:
        self.store.close()


def _check_version(case: Case, seen: int) -> None:
    if seen != case.version:
        raise Conflict(
            f"case {case.id} changed since the page was loaded (version {seen}, now "
            f"{case.version}); reload it"
        )


def _reason(reason: str) -> str:
    return fields.text("reason", reason, why="say why", max_chars=MAX_REASON_CHARS)


def _stamp(at: datetime) -> float:
    return at.timestamp()
