"""Provision and access requests (cases): their kinds, states, outcomes and the law's reasons.

A case is what the law calls a request: an agency asking for footage (provision, 제공) or a
person asking to see footage of themselves (access, 열람 청구). It has a clock (the due date
from the law's deadline), puts a hold on its recordings while open, and closes with an
outcome that the person in charge proposes (담당) and a senior approver confirms (과장).
Domain types only: validation here, storage in store.py, the workflow in service.py.
"""

from __future__ import annotations

import dataclasses
import enum
import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from redactor import fields
from redactor.errors import InvalidInput, MissingField

_E = TypeVar("_E", bound=enum.StrEnum)


class CaseKind(enum.StrEnum):
    PROVISION = "provision"  # an agency asks (제공)
    ACCESS = "access"  # a data subject asks to see footage of themselves (열람)


class CaseState(enum.StrEnum):
    OPEN = "open"  # received; the clock runs; its recordings are held
    SIGNED = "signed"  # the person in charge proposed an outcome; waits for the senior approver
    DECIDED = "decided"  # confirmed; the notice can be issued; holds released
    WITHDRAWN = "withdrawn"  # the requester withdrew; holds released

    @property
    def closed(self) -> bool:
        return self in (CaseState.DECIDED, CaseState.WITHDRAWN)


class Outcome(enum.StrEnum):
    GRANTED = "granted"
    PARTLY_GRANTED = "partly_granted"
    REFUSED = "refused"


class Form(enum.StrEnum):
    """How the footage is given: a copy, or viewing at the center."""

    COPY = "copy"
    VIEW_ON_SITE = "view_on_site"


# The reasons the law allows for refusing or limiting access (PIPA art. 35(4), and the
# commission's guideline for video devices), as (Korean, English) for notices and the register.
REFUSAL_REASONS: dict[str, tuple[str, str]] = {
    "investigation": (
        "범죄의 수사, 공소의 제기 및 유지, 재판에 중대한 지장을 줄 우려가 있음",
        "it would seriously hinder a criminal investigation, a prosecution or a trial",
    ),
    "destroyed": (
        "영상정보가 보관기간 경과로 이미 파기됨",
        "the footage has already been destroyed at the end of its retention period",
    ),
    "others_privacy": (
        "다른 정보주체의 사생활 침해를 방지할 수 없음",
        "the privacy of other people in the footage cannot be protected",
    ),
    "law": (
        "법률에 따라 열람이 금지되거나 제한됨",
        "a law forbids or limits access to it",
    ),
    "harm": (
        "다른 사람의 생명·신체를 해할 우려가 있거나 재산과 그 밖의 이익을 부당하게 침해할 우려가 있음",
        "it may harm another person's life or body, or unjustly infringe their property or "
        "other interests",
    ),
}

OUTCOME_NAMES: dict[Outcome, tuple[str, str]] = {
    Outcome.GRANTED: ("열람·제공 결정", "granted"),
    Outcome.PARTLY_GRANTED: ("일부 열람·제공 결정", "partly granted"),
    Outcome.REFUSED: ("열람·제공 거부", "refused"),
}
KIND_NAMES: dict[CaseKind, tuple[str, str]] = {
    CaseKind.PROVISION: ("제공 요청", "provision request"),
    CaseKind.ACCESS: ("열람 청구", "access request"),
}
FORM_NAMES: dict[Form, tuple[str, str]] = {
    Form.COPY: ("사본 제공", "a copy"),
    Form.VIEW_ON_SITE: ("현장 열람", "viewing on site"),
}


def _text(name: str, value: str, required: bool = True) -> str:
    return fields.text(name, value, why="the law requires it on every request", required=required)


@dataclass(frozen=True, slots=True)
class CaseRequest:
    """What the center received. Validated by `validate` before anything is recorded."""

    kind: CaseKind
    requester: str  # the agency (and officer) or the person
    camera_id: str
    start: datetime
    end: datetime
    purpose: str
    legal_basis: str
    form: Form = Form.COPY
    fee: int = 0  # the actual cost the requester pays, in cases.currency
    recipient: str = ""  # provision: the agency that receives it; access: the person
    contact: str = ""  # how the notice reaches the requester
    description: str = ""  # access: how to find the person (clothes, time, place)

    def validate(self, max_fee: int) -> CaseRequest:
        """The request cleaned (texts stripped); MissingField/InvalidInput naming the field."""
        kind = _enum(CaseKind, self.kind, "kind")
        form = _enum(Form, self.form, "form")
        requester = _text("requester", self.requester)
        camera = _text("camera_id", self.camera_id)
        purpose = _text("purpose", self.purpose)
        legal_basis = _text("legal_basis", self.legal_basis)
        for name, at in (("start", self.start), ("end", self.end)):
            if not isinstance(at, datetime) or at.tzinfo is None:
                raise InvalidInput(f"{name} must be a timezone-aware date and time, got {at!r}")
        if self.end <= self.start:
            raise InvalidInput(
                f"end ({self.end.isoformat()}) must be after start ({self.start.isoformat()})"
            )
        if isinstance(self.fee, bool) or not isinstance(self.fee, int):
            raise InvalidInput(f"fee must be a whole number, got {self.fee!r}")
        if not 0 <= self.fee <= max_fee:
            raise InvalidInput(f"fee must be in [0, {max_fee}] (cases.max_fee), got {self.fee}")
        recipient = _text("recipient", self.recipient, required=False) or requester
        return dataclasses.replace(
            self,
            kind=kind,
            form=form,
            requester=requester,
            camera_id=camera,
            purpose=purpose,
            legal_basis=legal_basis,
            recipient=recipient,
            contact=_text("contact", self.contact, required=False),
            description=_text("description", self.description, required=False),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": str(self.kind),
            "requester": self.requester,
            "camera_id": self.camera_id,
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "purpose": self.purpose,
            "legal_basis": self.legal_basis,
            "form": str(self.form),
            "fee": self.fee,
            "recipient": self.recipient,
            "contact": self.contact,
            "description": self.description,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> CaseRequest:
        return cls(
            kind=CaseKind(d["kind"]),
            requester=d["requester"],
            camera_id=d["camera_id"],
            start=datetime.fromisoformat(d["start"]),
            end=datetime.fromisoformat(d["end"]),
            purpose=d["purpose"],
            legal_basis=d["legal_basis"],
            form=Form(d["form"]),
            fee=int(d["fee"]),
            recipient=d["recipient"],
            contact=d.get("contact", ""),
            description=d.get("description", ""),
        )


@dataclass(frozen=True, slots=True)
class Proposal:
    """The outcome the person in charge signed (담당)."""

    outcome: Outcome
    refusal_reason: str  # a key of REFUSAL_REASONS; "" where granted in full
    reason_text: str
    export_id: str  # the released export that answers the case; "" where refused
    signed_by: str
    signed_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "outcome": str(self.outcome),
            "refusal_reason": self.refusal_reason,
            "reason_text": self.reason_text,
            "export_id": self.export_id,
            "signed_by": self.signed_by,
            "signed_at": self.signed_at.isoformat(),
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Proposal:
        return cls(
            Outcome(d["outcome"]),
            d["refusal_reason"],
            d["reason_text"],
            d["export_id"],
            d["signed_by"],
            datetime.fromisoformat(d["signed_at"]),
        )


def check_proposal(outcome: str, refusal_reason: str, reason_text: str, export_id: str) -> Outcome:
    """The proposal's outcome, or InvalidInput/MissingField saying what it lacks."""
    out = _enum(Outcome, outcome, "outcome")
    _text("reason_text", reason_text, required=False)
    if out is Outcome.GRANTED:
        if not export_id:
            raise MissingField("export_id", "a granted request names the export that answers it")
        return out
    if refusal_reason not in REFUSAL_REASONS:
        raise InvalidInput(
            f"refusal_reason must be one of the law's reasons ({', '.join(REFUSAL_REASONS)}) "
            f"where the outcome is {out}, got {refusal_reason!r}"
        )
    if out is Outcome.PARTLY_GRANTED:
        if not export_id:
            raise MissingField("export_id", "a partly granted request names the export given")
        if not reason_text.strip():
            raise MissingField("reason_text", "say what was withheld and why")
    elif export_id:
        raise InvalidInput(f"a refused request gives no export, got export_id {export_id!r}")
    return out


@dataclass(slots=True)
class Case:
    """One request and where it stands. Snapshots handed out are copies."""

    id: str  # e.g. 2026-0007: the year it was received and its number in that year
    request: CaseRequest
    opened_by: str
    received_at: datetime
    due_at: datetime
    state: CaseState = CaseState.OPEN
    export_ids: list[str] = field(default_factory=list)  # exports made for it
    holds: list[int] = field(default_factory=list)  # hold ids on its recordings
    recordings: list[str] = field(default_factory=list)  # relative paths it covers
    proposal: Proposal | None = None
    decided_by: str = ""
    decided_at: datetime | None = None
    returned: str = ""  # why the senior approver sent it back, the last time
    version: int = 1

    def snapshot(self) -> Case:
        return dataclasses.replace(
            self,
            export_ids=list(self.export_ids),
            holds=list(self.holds),
            recordings=list(self.recordings),
        )

    def days_left(self, now: datetime) -> int:
        """Whole days to the due date, rounded up (0 on the due day's last hours, < 0 after)."""
        return math.ceil((self.due_at - now) / timedelta(days=1))

    def overdue(self, now: datetime) -> bool:
        return self.state in (CaseState.OPEN, CaseState.SIGNED) and now > self.due_at

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "request": self.request.to_json(),
            "opened_by": self.opened_by,
            "received_at": self.received_at.isoformat(),
            "due_at": self.due_at.isoformat(),
            "state": str(self.state),
            "export_ids": list(self.export_ids),
            "holds": list(self.holds),
            "recordings": list(self.recordings),
            "proposal": None if self.proposal is None else self.proposal.to_json(),
            "decided_by": self.decided_by,
            "decided_at": None if self.decided_at is None else self.decided_at.isoformat(),
            "returned": self.returned,
            "version": self.version,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Case:
        p = d.get("proposal")
        at = d.get("decided_at")
        return cls(
            id=d["id"],
            request=CaseRequest.from_json(d["request"]),
            opened_by=d["opened_by"],
            received_at=datetime.fromisoformat(d["received_at"]),
            due_at=datetime.fromisoformat(d["due_at"]),
            state=CaseState(d["state"]),
            export_ids=list(d.get("export_ids", [])),
            holds=[int(h) for h in d.get("holds", [])],
            recordings=list(d.get("recordings", [])),
            proposal=None if p is None else Proposal.from_json(p),
            decided_by=d.get("decided_by", ""),
            decided_at=None if at is None else datetime.fromisoformat(at),
            returned=d.get("returned", ""),
            version=int(d.get("version", 1)),
        )


def _enum(cls: type[_E], value: object, name: str) -> _E:
    try:
        return cls(str(value))
    except ValueError:
        raise InvalidInput(
            f"{name} must be one of {', '.join(str(v) for v in cls)}, got {value!r}"
        ) from None
