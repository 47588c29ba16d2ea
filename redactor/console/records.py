"""The console's record pages: the register (관리대장) with its files and yearly statistics,
the monthly access-log review, and holds with the retention plan.

`/register` (filters as query parameters; `/register.csv` and `/register.xlsx` download the
same rows), `/access-log?month=YYYY-MM`, `/holds`. Rules and roles are the services'
(redactor.cases.records, ReviewService's access log).
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from redactor import errors
from redactor.cases.records import Records
from redactor.console.ui import FormFields, FormSession, PageSession, Ui, status_for
from redactor.ledger.access_log import month_name, parse_month
from redactor.ledger.calendar import CENTER_TZ
from redactor.ledger.register import (
    COLUMNS,
    KINDS,
    RegisterFilter,
    label,
)
from redactor.ledger.register_files import cells, write_csv, write_xlsx
from redactor.review.users import Session

FILTERS = ("kind", "since", "until", "camera_id", "recipient", "case_id")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def register_filter(query: Mapping[str, str]) -> RegisterFilter:
    """The filter a query string asks for; dates are the center's calendar days."""

    def day(name: str) -> datetime | None:
        raw = query.get(name, "").strip()
        if not raw:
            return None
        try:
            at = datetime.fromisoformat(raw)
        except ValueError:
            raise errors.InvalidInput(
                f"{name} must be a date such as 2024-05-01, got {raw[:32]!r}"
            ) from None
        return at if at.tzinfo is not None else at.replace(tzinfo=CENTER_TZ)

    until = day("until")
    if until is not None and len(query.get("until", "").strip()) == 10:
        until += timedelta(days=1)  # a date: through the end of that day
    return RegisterFilter(
        kind=query.get("kind") or None,
        since=day("since"),
        until=until,
        camera_id=query.get("camera_id") or None,
        recipient=query.get("recipient") or None,
        case_id=query.get("case_id") or None,
    )


def record_pages(ui: Ui, records: Records) -> APIRouter:
    r = APIRouter()
    review = ui.review

    @r.get("/register", response_class=HTMLResponse)
    def register_page(request: Request, session: PageSession) -> Response:
        query = {k: v for k, v in request.query_params.items() if k in (*FILTERS, "year")}
        now = review.exports.clock().astimezone(CENTER_TZ)
        try:
            year = int(query.get("year") or now.year)
        except ValueError:
            year = now.year
        error = ""
        try:
            flt: RegisterFilter | None = register_filter(query)
        except errors.InvalidInput as e:
            flt, error = None, str(e)
        rows, stats = records.register_and_stats(session.user, flt, year)
        return ui.render(
            "register.html",
            request,
            session,
            400 if error else 200,
            rows=[cells(row, "en") for row in rows],
            columns=COLUMNS,
            kinds=KINDS,
            query=query,
            qs=str(request.url.query),
            error=error,
            stats=stats,
            year=year,
            label=label,
        )

    def download(request: Request, session: Session, kind: str) -> Response:
        query = dict(request.query_params)
        flt = register_filter(query)
        lang = query.get("lang", "both")
        out = io.BytesIO()
        stamp = datetime.now(UTC).strftime("%Y%m%d")
        if kind == "csv":
            write_csv(records.register(session.user, flt), out, lang)
            media, name = "text/csv; charset=utf-8", f"register-{stamp}.csv"
        else:
            rows, stats = records.register_and_stats(session.user, flt, None)
            write_xlsx(rows, stats, out, lang)
            media, name = XLSX, f"register-{stamp}.xlsx"
        return Response(
            out.getvalue(),
            media_type=media,
            headers={"content-disposition": f'attachment; filename="{name}"'},
        )

    @r.get("/register.csv")
    def register_csv(request: Request, session: PageSession) -> Response:
        return download(request, session, "csv")

    @r.get("/register.xlsx")
    def register_xlsx(request: Request, session: PageSession) -> Response:
        return download(request, session, "xlsx")

    def access_page(
        request: Request, session: Session, month: str, error: str = "", status: int = 200
    ) -> Response:
        if month:
            year, mon = parse_month(month)
        else:
            now = review.exports.clock().astimezone(CENTER_TZ)
            year, mon = (now.year, now.month - 1) if now.month > 1 else (now.year - 1, 12)
        report = review.access_report(session.user, year, mon)
        prev = (year, mon - 1) if mon > 1 else (year - 1, 12)
        nxt = (year, mon + 1) if mon < 12 else (year + 1, 1)
        return ui.render(
            "access_log.html",
            request,
            session,
            status,
            report=report,
            month=month_name(year, mon),
            prev=month_name(*prev),
            next=month_name(*nxt),
            error=error,
        )

    @r.get("/access-log", response_class=HTMLResponse)
    def access_log(request: Request, session: PageSession, month: str = "") -> Response:
        return access_page(request, session, month)

    @r.post("/access-log/reviewed")
    def reviewed(request: Request, session: FormSession, fields: FormFields) -> Response:
        month = fields.get("month", "")
        try:
            year, mon = parse_month(month)
            review.mark_access_reviewed(session.user, year, mon, fields.get("note", ""))
        except errors.RedactorError as e:
            if isinstance(e, errors.Unauthenticated):
                raise
            return access_page(request, session, month, str(e), status_for(e))
        return RedirectResponse(f"/access-log?month={month}", 303)

    def holds_page(
        request: Request,
        session: Session,
        error: str = "",
        status: int = 200,
        values: Mapping[str, str] | None = None,
    ) -> Response:
        return ui.render(
            "holds.html",
            request,
            session,
            status,
            holds=records.holds(session.user, include_released=True),
            plan=records.retention_plan(session.user),
            error=error,
            values=values or {},
            now=review.exports.clock(),
        )

    @r.get("/holds", response_class=HTMLResponse)
    def holds(request: Request, session: PageSession) -> Response:
        return holds_page(request, session)

    def hold_action(
        request: Request, session: Session, fields: Mapping[str, str], do: Any
    ) -> Response:
        try:
            do()
        except errors.RedactorError as e:
            if isinstance(e, errors.Unauthenticated):
                raise
            return holds_page(request, session, str(e), status_for(e), fields)
        return RedirectResponse("/holds", 303)

    @r.post("/holds")
    def place(request: Request, session: FormSession, fields: FormFields) -> Response:
        return hold_action(
            request,
            session,
            fields,
            lambda: records.place_hold(
                session.user, fields.get("recording", ""), fields.get("reason", "")
            ),
        )

    @r.post("/holds/{hold_id:int}/release")
    def release(
        request: Request, hold_id: int, session: FormSession, fields: FormFields
    ) -> Response:
        return hold_action(
            request,
            session,
            fields,
            lambda: records.release_hold(session.user, hold_id, fields.get("reason", "")),
        )

    return r
