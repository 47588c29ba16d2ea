"""The console's case pages: provision and access requests, their clocks, sign-offs and notices.

Pages: `/cases` (overdue first, days left), `/cases/new`, `/cases/{id}` (the request, its
holds and exports, the export form for it, the sign-offs), `/cases/{id}/notice` (printable).
Every rule is redactor.cases.service's; a refused form shows the service's message and keeps
what was typed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from redactor import errors
from redactor.cases.model import (
    FORM_NAMES,
    KIND_NAMES,
    OUTCOME_NAMES,
    REFUSAL_REASONS,
    CaseRequest,
    CaseState,
    Form,
    Outcome,
)
from redactor.cases.service import CaseService
from redactor.console.ui import FormFields, FormSession, PageSession, Ui, status_for
from redactor.export.jobs import ExportRequest, ExportState
from redactor.review.users import Session

CASE_FIELDS = (
    "kind",
    "requester",
    "recipient",
    "contact",
    "camera_id",
    "start",
    "end",
    "purpose",
    "legal_basis",
    "form",
    "fee",
    "description",
)
ReadExport = Callable[[Mapping[str, Any]], tuple[ExportRequest, list[str]]]


def case_request(values: Mapping[str, str]) -> CaseRequest:
    """The request a form makes; InvalidInput naming a field that could not be read."""

    def text(name: str) -> str:
        return values.get(name, "").strip()

    def instant(name: str) -> datetime:
        raw = text(name)
        if not raw:
            raise errors.MissingField(name, "the footage's time range")
        try:
            at = datetime.fromisoformat(raw)
        except ValueError:
            raise errors.InvalidInput(
                f"{name} must be a date and time (ISO 8601, e.g. 2024-05-01T08:00:00Z), "
                f"got {raw[:64]!r}"
            ) from None
        return at if at.tzinfo is not None else at.replace(tzinfo=UTC)

    fee_raw = text("fee") or "0"
    try:
        fee = int(fee_raw)
    except ValueError:
        raise errors.InvalidInput(f"fee must be a whole number, got {fee_raw[:32]!r}") from None
    return CaseRequest(
        kind=text("kind"),  # type: ignore[arg-type]  # validated by CaseRequest.validate
        requester=text("requester"),
        camera_id=text("camera_id"),
        start=instant("start"),
        end=instant("end"),
        purpose=text("purpose"),
        legal_basis=text("legal_basis"),
        form=text("form") or Form.COPY,  # type: ignore[arg-type]
        fee=fee,
        recipient=text("recipient"),
        contact=text("contact"),
        description=text("description"),
    )


def case_pages(ui: Ui, cases: CaseService, read_export: ReadExport) -> APIRouter:
    r = APIRouter()

    def render_case(
        request: Request,
        session: Session,
        case_id: str,
        error: str = "",
        status: int = 200,
        values: Mapping[str, str] | None = None,
    ) -> Response:
        case = cases.get(session.user, case_id)
        now = cases.now()
        return ui.render(
            "case.html",
            request,
            session,
            status,
            case=case,
            now=now,
            exports=cases.exports_of(session.user, case_id),
            holds=cases.holds_of(case_id),
            error=error,
            values=values or {},
            reasons=REFUSAL_REASONS,
            outcomes=OUTCOME_NAMES,
            kinds=KIND_NAMES,
            forms=FORM_NAMES,
            State=CaseState,
            ExportState=ExportState,
            Outcome=Outcome,
            policies=sorted(cases.exports.config.policy.policies),
        )

    @r.get("/cases", response_class=HTMLResponse)
    def list_page(request: Request, session: PageSession) -> Response:
        listed = cases.list_cases(session.user)
        return ui.render(
            "cases.html",
            request,
            session,
            cases=listed,
            now=cases.now(),
            overdue=sum(1 for c in listed if c.overdue(cases.now())),
            kinds=KIND_NAMES,
            State=CaseState,
        )

    def new_form(
        request: Request,
        session: Session,
        values: Mapping[str, str] | None = None,
        error: errors.RedactorError | None = None,
    ) -> Response:
        invalid = error.field if isinstance(error, errors.MissingField) else ""
        if isinstance(error, errors.InvalidInput) and not invalid:
            invalid = next((f for f in CASE_FIELDS if str(error).startswith(f + " ")), "")
        return ui.render(
            "case_new.html",
            request,
            session,
            status_for(error) if error else 200,
            values={f: (values or {}).get(f, "") for f in CASE_FIELDS},
            error=str(error) if error else "",
            invalid=invalid,
            kinds=KIND_NAMES,
            forms=FORM_NAMES,
            due={
                "access": cases.cfg.access_due_days,
                "provision": cases.cfg.provision_due_days,
            },
            currency=cases.cfg.currency,
        )

    @r.get("/cases/new", response_class=HTMLResponse)
    def new_page(request: Request, session: PageSession, kind: str = "access") -> Response:
        return new_form(request, session, {"kind": kind, "form": "copy", "fee": "0"})

    @r.post("/cases/new")
    def open_case(request: Request, session: FormSession, fields: FormFields) -> Response:
        try:
            case = cases.open(session.user, case_request(fields))
        except errors.RedactorError as e:
            if isinstance(e, errors.Unauthenticated):
                raise
            return new_form(request, session, fields, e)
        return RedirectResponse(f"/cases/{quote(case.id)}", 303)

    @r.get("/cases/{case_id}", response_class=HTMLResponse)
    def case_page(request: Request, case_id: str, session: PageSession) -> Response:
        return render_case(request, session, case_id)

    def act(
        request: Request,
        session: Session,
        case_id: str,
        fields: Mapping[str, str],
        do: Callable[[int], object],
    ) -> Response:
        try:
            version = int(fields.get("version", ""))
        except ValueError:
            return render_case(
                request, session, case_id, "the form carried no case version: reload the page", 400
            )
        try:
            do(version)
        except errors.RedactorError as e:
            if isinstance(e, errors.Unauthenticated | errors.NotFound):
                raise
            return render_case(request, session, case_id, str(e), status_for(e), fields)
        return RedirectResponse(f"/cases/{quote(case_id)}", 303)

    @r.post("/cases/{case_id}/export")
    def make_export(
        request: Request, case_id: str, session: FormSession, fields: FormFields
    ) -> Response:
        def go(_version: int) -> object:
            req, problems = read_export(fields)
            if problems:
                raise errors.InvalidInput("; ".join(problems))
            return cases.create_export(session.user, case_id, req)

        return act(request, session, case_id, {**fields, "version": "0"}, go)

    @r.post("/cases/{case_id}/sign")
    def sign(request: Request, case_id: str, session: FormSession, fields: FormFields) -> Response:
        return act(
            request,
            session,
            case_id,
            fields,
            lambda v: cases.sign(
                session.user,
                case_id,
                v,
                fields.get("outcome", ""),
                fields.get("refusal_reason", ""),
                fields.get("reason_text", ""),
                fields.get("export_id", ""),
            ),
        )

    @r.post("/cases/{case_id}/decide")
    def decide(
        request: Request, case_id: str, session: FormSession, fields: FormFields
    ) -> Response:
        return act(
            request, session, case_id, fields, lambda v: cases.decide(session.user, case_id, v)
        )

    @r.post("/cases/{case_id}/return")
    def send_back(
        request: Request, case_id: str, session: FormSession, fields: FormFields
    ) -> Response:
        return act(
            request,
            session,
            case_id,
            fields,
            lambda v: cases.send_back(session.user, case_id, v, fields.get("reason", "")),
        )

    @r.post("/cases/{case_id}/withdraw")
    def withdraw(
        request: Request, case_id: str, session: FormSession, fields: FormFields
    ) -> Response:
        return act(
            request,
            session,
            case_id,
            fields,
            lambda v: cases.withdraw(session.user, case_id, v, fields.get("reason", "")),
        )

    @r.get("/cases/{case_id}/notice", response_class=HTMLResponse)
    def notice(request: Request, case_id: str, session: PageSession) -> Response:
        return ui.render(
            "notice.html", request, session, notice=cases.notice(session.user, case_id)
        )

    return r
