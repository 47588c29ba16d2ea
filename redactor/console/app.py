"""The review console: a web application over redactor.review.service.ReviewService.

It holds no rules of its own. Every page and every call authenticates the
session cookie (ReviewService.session), then calls one ReviewService method
with the session's user; the service checks the role, the versions and the
bounds, and its errors map once to HTTP statuses (`status_for`). What the
console decides by itself is only which buttons to show (redactor.review.access.may).

Pages: `/login`, `/` (the exports), `/exports/new` (a requester asks for an export),
`/exports/{id}` (review), `/exports/{id}/approve` (approval, outcome and downloads),
`/exports/{id}/ledger`. The review page's script talks to the JSON API under `/api/`,
where scripts also ask for exports (`POST /api/exports`). Every POST carries the
session's CSRF token (form field `csrf` or header `X-CSRF-Token`); every response says
`no-store`, may not be framed and runs only this origin's scripts.
"""

from __future__ import annotations

import hmac
import logging
import math
import secrets
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, NoReturn
from urllib.parse import quote

from fastapi import APIRouter, FastAPI, Form, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from redactor import errors
from redactor.cases.records import Records
from redactor.cases.service import CaseService
from redactor.console.cases import case_pages
from redactor.console.records import record_pages
from redactor.console.ui import (
    COOKIE,
    HERE,
    LOGIN_COOKIE,
    FormFields,
    FormSession,
    PageSession,
    PostSession,
    SecurityHeaders,
    Ui,
    client_address,
    download_response,
    input_time,
    may_do,
    pretty_json,
    safe_next,
    status_for,
    when,
)
from redactor.export.jobs import MAX_FIELD_CHARS, ExportJob, ExportRequest, ExportState, Subject
from redactor.ledger import Entry, Event
from redactor.review import access
from redactor.review.model import Decision
from redactor.review.service import ExportReview, FrameView, ReviewService, TrackView
from redactor.review.users import Session, User
from redactor.types import Label

log = logging.getLogger(__name__)

FIRST_ADMIN = "redactor users add admin --role administrator"
LABELS = ("FACE", "PLATE")  # what a reviewer may draw


# ------------------------------------------------------------------ API bodies


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DecisionBody(_Body):
    decision: Literal["MASK", "VISIBLE", "FALSE_POSITIVE"]
    reason: str
    version: int = Field(description="the track's version as the page saw it")


class ObjectBody(_Body):
    frame: int
    box: tuple[float, float, float, float] = Field(description="x0, y0, x1, y1 full-res px")
    label: Literal["FACE", "PLATE"]
    reason: str
    object_id: int = Field(0, description="a reviewer-drawn object to correct; 0 = a new one")
    version: int = Field(0, description="that object's version as the page saw it")


class GroupBody(_Body):
    track_ids: list[int]
    reason: str
    version: int = Field(description="the review's version as the page saw it")


class ConcludeBody(_Body):
    version: int = Field(description="the review's version as the page saw it")
    reason: str = ""


class ExportBody(_Body):
    """An export request, by the names of the console's form (ExportRequest judges it)."""

    recording: str = Field("", description="one recording, relative to the archive root")
    camera_id: str = Field("", description="or a camera, with start and end")
    start: str = Field("", description="ISO 8601; without an offset, UTC")
    end: str = Field("", description="ISO 8601, the instant after the last; without an offset, UTC")
    recipient: str = ""
    officer: str = ""
    purpose: str = ""
    legal_basis: str = ""
    policy: str = Field("", description="a policy of policy.policies; empty = the default")
    expiry_days: int = Field(0, description="0 = export.expiry_days")
    subject_t: float | None = Field(
        None, description="subject access: s from the recording's start"
    )
    subject_x0: float | None = Field(None, description="subject access: the face's box, px")
    subject_y0: float | None = None
    subject_x1: float | None = None
    subject_y1: float | None = None


EXPORT_FIELDS = tuple(ExportBody.model_fields)
SUBJECT_FIELDS = ("subject_t", "subject_x0", "subject_y0", "subject_x1", "subject_y1")


# ------------------------------------------------------------------ the app


def create_app(
    review: ReviewService,
    *,
    secure_cookies: bool,
    cases: CaseService | None = None,
    records: Records | None = None,
) -> FastAPI:
    """The console over `review`, and where given the center's `cases` and `records` (the
    register, the access log, holds); `secure_cookies` when it is served over TLS."""
    app = FastAPI(title="redactor review console", docs_url=None, redoc_url=None, openapi_url=None)
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = when
    env.filters["json"] = pretty_json
    env.filters["what"] = edit_summary
    env.filters["input_time"] = input_time
    ui = Ui(review, env, secure_cookies, cases=cases, records=records)
    app.state.console = ui

    app.add_middleware(SecurityHeaders)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(_pages(ui))
    app.include_router(_api(ui), prefix="/api")
    if cases is not None:
        app.include_router(case_pages(ui, cases, export_request))
    if records is not None:
        app.include_router(record_pages(ui, records))

    @app.exception_handler(errors.RedactorError)
    async def _on_error(request: Request, exc: Exception) -> Response:
        return await run_in_threadpool(ui.error_response, request, exc)

    @app.exception_handler(RequestValidationError)
    async def _on_invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e.get('loc', ()))}: {e.get('msg', '')}"
            for e in exc.errors()
        )
        return await run_in_threadpool(
            ui.error_response, request, errors.InvalidInput(f"invalid request: {problems}")
        )

    return app


def edit_summary(edit: Mapping[str, Any]) -> str:
    """What an edit (as JSON) did, in a few words, beside its action."""
    d = edit.get("detail") or {}
    action = edit.get("action", "")
    if action == "decide":
        return f"→ {d.get('decision', '?')}"
    if action in ("add_object", "correct_object"):
        followed = d.get("followed")
        span = f", followed over frames {followed[0]}–{followed[1]}" if followed else ""
        return f"{str(d.get('label', '')).lower()} box on frame {d.get('frame', '?')}{span}"
    if action == "group":
        return f"as person {d.get('group', '?')}"
    if action in ("approve", "reject"):
        return f"version {d.get('version', '?')}"
    return ""


# ------------------------------------------------------------------ export requests

Value = str | int | float | None


def export_request(values: Mapping[str, Value]) -> tuple[ExportRequest, list[str]]:
    """The request that the form's (or the API's) `values` make, and what could not be read.

    Only the reading is done here (a time that is no time, a number that is none); whether the
    request is complete and allowed is ExportRequest.validate's and the service's to say. A
    value that could not be read is left out of the request, which is then only recorded.
    """
    problems: list[str] = []

    def text(name: str) -> str:
        v = values.get(name)
        return v.strip() if isinstance(v, str) else ""

    def instant(name: str) -> datetime | None:
        raw = text(name)
        if not raw:
            return None
        try:
            at = datetime.fromisoformat(raw)
        except ValueError:
            problems.append(
                f"{name} must be a date and time (ISO 8601, e.g. 2024-05-01T08:00:00Z), "
                f"got {_clip(raw)!r}"
            )
            return None
        return at if at.tzinfo is not None else at.replace(tzinfo=UTC)

    def number(name: str, integer: bool = False) -> float | None:
        v = values.get(name)
        if not _given(v):
            return None
        n: float | None = None
        if isinstance(v, str):
            try:
                n = int(v.strip()) if integer else float(v.strip())
            except ValueError:
                n = None
        elif isinstance(v, int | float) and not isinstance(v, bool):
            n = v if not integer or float(v).is_integer() else None
        if n is None or not math.isfinite(n):
            what = "a whole number" if integer else "a number"
            problems.append(f"{name} must be {what}, got {_clip(str(v))!r}")
            return None
        return n

    expiry = number("expiry_days", integer=True)
    read = [number(name) for name in SUBJECT_FIELDS]
    given = [name for name in SUBJECT_FIELDS if _given(values.get(name))]
    subject: Subject | None = None
    if given and len(given) < len(SUBJECT_FIELDS):
        problems.append(
            "subject access needs its time and all four edges of the box "
            f"({', '.join(SUBJECT_FIELDS)}); got only {', '.join(given)}"
        )
    elif given and None not in read:
        t, x0, y0, x1, y1 = (float(v or 0.0) for v in read)
        subject = Subject(round(t * 1_000_000), (x0, y0, x1, y1))
    request = ExportRequest(
        camera_id=text("camera_id"),
        start=instant("start"),
        end=instant("end"),
        recording=text("recording"),
        recipient=text("recipient"),
        officer=text("officer"),
        purpose=text("purpose"),
        legal_basis=text("legal_basis"),
        policy=text("policy"),
        expiry_days=int(expiry or 0),
        subject=subject,
    )
    return request, problems


def _given(v: Value) -> bool:
    return v is not None and not (isinstance(v, str) and not v.strip())


def _clip(raw: str) -> str:
    return raw if len(raw) <= 80 else raw[:80] + "…"


def create_export(review: ReviewService, user: User, values: Mapping[str, Value]) -> ExportJob:
    """Asks the service for the export that `values` describe (see export_request)."""
    request, problems = export_request(values)
    if problems:
        _refuse_unread(review, user, request, problems)
    return review.create_export(user, request)


def _refuse_unread(
    review: ReviewService, user: User, request: ExportRequest, problems: list[str]
) -> NoReturn:
    """Refuses values that could not be read, and records it as the service records its own
    refusals (the user's role first): nothing asked for is missing from the ledger."""
    error: errors.RedactorError
    try:
        access.authorize(user, "create_export")
        error = errors.InvalidInput("; ".join(problems))
    except errors.PolicyDenied as e:
        error = e
    review.exports.refuse(request, user.name, str(error))
    raise error


# ------------------------------------------------------------------ JSON shapes


def job_json(job: ExportJob) -> dict[str, Any]:
    return {
        "id": job.id,
        "camera_id": job.camera_id,
        "recipient": job.request.recipient,
        "requested_by": job.requested_by,
        "created_at": job.created_at.isoformat(),
        "expires_at": job.expires_at.isoformat(),
        "state": job.state.name,
        "progress": round(job.progress, 4),
        "review_required": job.review_required,
        "approved_by": job.approved_by,
        "error": job.error,
    }


def review_json(opened: ExportReview, user: User) -> dict[str, Any]:
    """The review page's data: everything but the frames, which come one at a time."""
    job = opened.job
    return {
        "id": job.id,
        "job": job_json(job),
        "user": user.name,
        "width": opened.width,
        "height": opened.height,
        "proxy_width": opened.proxy_width,
        "proxy_height": opened.proxy_height,
        "frames": opened.frames,
        "fps": opened.fps,
        "t0_us": opened.t_us[0] if opened.t_us else 0,
        "version": opened.version,
        "required": opened.required,
        "fully_masked_frames": list(opened.fully_masked_frames),
        "tracks": [t.to_json() for t in opened.tracks],
        "edits": [e.to_json() for e in opened.edits],
        "may": {
            "view_original": may_do(user, "view_original", job.requested_by),
            "review": may_do(user, "review", job.requested_by),
            "view_ledger": may_do(user, "view_ledger", job.requested_by),
        },
    }


def _label(value: int) -> str | int:
    try:
        return Label(value).name
    except ValueError:
        return value


def frame_json(view: FrameView) -> dict[str, Any]:
    return {
        "index": view.index,
        "t_us": view.t_us,
        "fully_masked": view.fully_masked,
        "masks": [
            {
                "box": [round(v, 1) for v in m.box],
                "label": _label(m.label),
                "track_id": m.track_id,
                "decision": m.decision.name,
                "masked": m.masked,
            }
            for m in view.masks
        ],
    }


def _edit_rows_from_ledger(entries: list[Entry]) -> list[dict[str, Any]]:
    """The review's edits as the ledger holds them (after the review, the page's only source)."""
    kinds = (Event.REVIEW_CHANGED, Event.REVIEW_APPROVED, Event.REVIEW_REJECTED)
    rows = []
    for e in entries:
        if e.event in kinds:
            d = dict(e.detail)
            rows.append(
                {
                    "seq": d.get("seq", e.seq),
                    "at": d.get("at", e.at.isoformat()),
                    "actor": d.get("actor", e.actor),
                    "action": d.get("action", str(e.event)),
                    "track_ids": d.get("track_ids", []),
                    "reason": d.get("reason", ""),
                    "detail": d.get("detail", {}),
                }
            )
    return rows


# ------------------------------------------------------------------ pages


def _pages(ui: Ui) -> APIRouter:
    r = APIRouter()
    review = ui.review

    @r.get("/favicon.ico")
    def favicon() -> Response:
        return Response(status_code=204)

    @r.get("/login", response_class=HTMLResponse)
    def login_page(request: Request, next: str = "/") -> Response:
        return _login_form(ui, request, safe_next(next))

    @r.post("/login")
    def login(
        request: Request,
        name: Annotated[str, Form()],
        password: Annotated[str, Form()],
        login_csrf: Annotated[str, Form()] = "",
        next: Annotated[str, Form()] = "/",
    ) -> Response:
        expected = request.cookies.get(LOGIN_COOKIE, "")
        if not expected or not hmac.compare_digest(login_csrf.encode(), expected.encode()):
            return _login_form(
                ui,
                request,
                safe_next(next),
                error="this sign-in form has expired or did not come from this site: try again",
                status=403,
            )
        try:
            session = review.login(name, password)
        except errors.RedactorError as e:
            return _login_form(
                ui, request, safe_next(next), error=str(e), status=status_for(e), name=name
            )
        resp = RedirectResponse(safe_next(next), 303)
        ui.set_session_cookie(resp, session)
        resp.delete_cookie(LOGIN_COOKIE, path="/login")
        return resp

    @r.post("/logout")
    def logout(session: FormSession) -> Response:
        review.logout(session.token)
        resp = RedirectResponse("/login", 303)
        resp.delete_cookie(COOKIE, path="/")
        return resp

    @r.get("/", response_class=HTMLResponse)
    def exports_page(request: Request, session: PageSession) -> Response:
        jobs = review.list_exports(session.user)
        return ui.render("exports.html", request, session, jobs=jobs, State=ExportState)

    def export_form(
        request: Request,
        session: Session,
        values: Mapping[str, str],
        error: errors.RedactorError | None = None,
    ) -> Response:
        policies = review.policies(session.user)  # also: only for those who may ask
        cfg = review.exports.cfg
        return ui.render(
            "new_export.html",
            request,
            session,
            status_for(error) if error else 200,
            values={name: values.get(name, "") for name in EXPORT_FIELDS},
            error=str(error) if error else "",
            invalid=_invalid_field(error),
            policies=policies,
            default_policy=cfg.default_policy,
            expiry_days=cfg.expiry_days,
            max_expiry_days=cfg.max_expiry_days,
            max_chars=MAX_FIELD_CHARS,
        )

    # before /exports/{export_id}, which would take "new" for an id
    @r.get("/exports/new", response_class=HTMLResponse)
    def new_export_page(request: Request, session: PageSession) -> Response:
        return export_form(request, session, {})

    @r.post("/exports/new", response_class=HTMLResponse)
    def new_export(request: Request, session: FormSession, fields: FormFields) -> Response:
        try:
            create_export(review, session.user, fields)
        except errors.RedactorError as e:
            if isinstance(e, errors.Unauthenticated):
                raise
            return export_form(request, session, fields, e)
        return RedirectResponse("/", 303)

    @r.get("/exports/{export_id}", response_class=HTMLResponse)
    def review_page(request: Request, export_id: str, session: PageSession) -> Response:
        job = review.job(session.user, export_id)
        if job.state is not ExportState.IN_REVIEW:
            return RedirectResponse(f"/exports/{quote(job.id)}/approve", 303)
        opened = review.open(session.user, export_id)
        data = review_json(opened, session.user)
        return ui.render("review.html", request, session, job=opened.job, data=data, labels=LABELS)

    def approval(
        request: Request,
        session: Session,
        export_id: str,
        error: str = "",
        status: int = 200,
    ) -> Response:
        user = session.user
        job = review.job(user, export_id)
        version: int | None = None
        edits: list[dict[str, Any]] = []
        tracks: tuple[TrackView, ...] = ()
        reviewers: list[str] = []
        denied = ""
        if job.state is ExportState.IN_REVIEW:
            opened = review.open(user, export_id)
            version, tracks = opened.version, opened.tracks
            edits = [e.to_json() for e in opened.edits]
            reviewers = list(opened.reviewers)
            if may_do(user, "approve", job.requested_by):
                denied = _denial(user, "approve", job.requested_by, reviewers)
        elif may_do(user, "view_ledger", job.requested_by):
            edits = _edit_rows_from_ledger(review.ledger(user, export_id))
            reviewers = sorted(
                {str(e["actor"]) for e in edits if e["action"] not in ("approve", "reject")}
            )
        c = Counter(t.decision.name for t in tracks)
        counts = {d.name: c.get(d.name, 0) for d in Decision}
        return ui.render(
            "approval.html",
            request,
            session,
            status,
            job=job,
            version=version,
            counts=counts,
            added=sum(1 for t in tracks if t.added),
            n_tracks=len(tracks),
            edits=edits,
            reviewers=reviewers,
            error=error,
            denied=denied,
            can_approve=may_do(user, "approve", job.requested_by),
            can_reject=may_do(user, "reject", job.requested_by),
            can_download=may_do(user, "download", job.requested_by),
            State=ExportState,
        )

    @r.get("/exports/{export_id}/approve", response_class=HTMLResponse)
    def approval_page(request: Request, export_id: str, session: PageSession) -> Response:
        return approval(request, session, export_id)

    @r.post("/exports/{export_id}/approve", response_class=HTMLResponse)
    def approve(
        request: Request,
        export_id: str,
        session: FormSession,
        version: Annotated[int, Form()],
        reason: Annotated[str, Form()] = "",
    ) -> Response:
        return conclude(request, session, export_id, version, reason, approve=True)

    @r.post("/exports/{export_id}/reject", response_class=HTMLResponse)
    def reject(
        request: Request,
        export_id: str,
        session: FormSession,
        version: Annotated[int, Form()],
        reason: Annotated[str, Form()] = "",
    ) -> Response:
        return conclude(request, session, export_id, version, reason, approve=False)

    def conclude(
        request: Request,
        session: Session,
        export_id: str,
        version: int,
        reason: str,
        *,
        approve: bool,
    ) -> Response:
        try:
            if approve:
                review.approve(session.user, export_id, version, reason)
            else:
                review.reject(session.user, export_id, version, reason)
        except errors.RedactorError as e:
            if isinstance(e, errors.Unauthenticated):
                raise
            return approval(request, session, export_id, error=str(e), status=status_for(e))
        return RedirectResponse(f"/exports/{quote(export_id)}/approve", 303)

    @r.get("/exports/{export_id}/download/{artifact}")
    def download(request: Request, export_id: str, artifact: str, session: PageSession) -> Response:
        if artifact not in ("video", "manifest"):
            raise errors.NotFound(f"artifact must be 'video' or 'manifest', got {artifact!r}")
        kind: Literal["video", "manifest"] = "video" if artifact == "video" else "manifest"
        dl = review.download(session.user, export_id, kind, client=client_address(request))
        return download_response(dl, "video/mp4" if kind == "video" else "application/json")

    @r.get("/exports/{export_id}/ledger", response_class=HTMLResponse)
    def ledger_page(request: Request, export_id: str, session: PageSession) -> Response:
        entries = review.ledger(session.user, export_id)
        job = review.job(session.user, export_id)
        return ui.render(
            "ledger.html", request, session, job=job, entries=entries, State=ExportState
        )

    return r


def _login_form(
    ui: Ui,
    request: Request,
    next_url: str,
    error: str = "",
    status: int = 200,
    name: str = "",
) -> Response:
    token = secrets.token_urlsafe(24)
    resp = ui.render(
        "login.html",
        request,
        None,
        status,
        next_url=next_url,
        error=error,
        name=name,
        login_csrf=token,
        no_users=not ui.review.users.has_users(),
        first_admin=FIRST_ADMIN,
    )
    resp.set_cookie(
        LOGIN_COOKIE,
        token,
        max_age=3600,
        path="/login",
        secure=ui.secure,
        httponly=True,
        samesite="strict",
    )
    return resp


def _invalid_field(error: errors.RedactorError | None) -> str:
    """The form field an error is about, where it names one (to mark it and put focus there)."""
    if isinstance(error, errors.MissingField):
        return error.field
    if isinstance(error, errors.InvalidInput):
        message = str(error)
        if message.startswith("subject"):
            return "subject_t"
        return next((f for f in EXPORT_FIELDS if message.startswith(f + " ")), "")
    return ""


def _denial(user: User, action: access.Action, requested_by: str, reviewers: list[str]) -> str:
    """Why `user` may not do `action` (the service's own message), or "" if they may."""
    try:
        access.authorize(user, action, requested_by=requested_by, reviewers=reviewers)
    except errors.PolicyDenied as e:
        return str(e)
    return ""


# ------------------------------------------------------------------ JSON API


def _api(ui: Ui) -> APIRouter:
    r = APIRouter()
    review = ui.review

    @r.get("/exports")
    def list_exports(session: PageSession) -> dict[str, Any]:
        return {"exports": [job_json(j) for j in review.list_exports(session.user)]}

    @r.post("/exports")
    def new_export(body: ExportBody, session: PostSession) -> dict[str, Any]:
        return job_json(create_export(review, session.user, body.model_dump()))

    @r.get("/exports/{export_id}")
    def open_export(export_id: str, session: PageSession) -> dict[str, Any]:
        return review_json(review.open(session.user, export_id), session.user)

    @r.get("/exports/{export_id}/job")
    def job(export_id: str, session: PageSession) -> dict[str, Any]:
        return job_json(review.job(session.user, export_id))

    @r.get("/exports/{export_id}/frames/{index:int}.jpg")
    def frame_jpeg(
        request: Request,
        export_id: str,
        index: int,
        session: PageSession,
        view: Literal["original", "released"] = "released",
    ) -> Response:
        client = client_address(request)
        data = review.frame_jpeg(session.user, export_id, index, view, client=client)
        return Response(data, media_type="image/jpeg")

    @r.get("/exports/{export_id}/frames/{index:int}")
    def frame(export_id: str, index: int, session: PageSession) -> dict[str, Any]:
        return frame_json(review.frame(session.user, export_id, index))

    @r.get("/exports/{export_id}/tracks/{track_id:int}/thumb.jpg")
    def thumb(request: Request, export_id: str, track_id: int, session: PageSession) -> Response:
        data = review.thumbnail(session.user, export_id, track_id, client=client_address(request))
        return Response(data, media_type="image/jpeg")

    @r.post("/exports/{export_id}/tracks/{track_id:int}/decision")
    def decide(
        export_id: str, track_id: int, body: DecisionBody, session: PostSession
    ) -> dict[str, Any]:
        view = review.decide(
            session.user,
            export_id,
            track_id,
            Decision[body.decision],
            body.reason,
            body.version,
        )
        return {"track": view.to_json()}

    @r.post("/exports/{export_id}/objects")
    def add_object(export_id: str, body: ObjectBody, session: PostSession) -> dict[str, Any]:
        view = review.add_object(
            session.user,
            export_id,
            body.frame,
            body.box,
            Label[body.label],
            body.reason,
            object_id=body.object_id,
            version=body.version,
        )
        return {"track": view.to_json()}

    @r.post("/exports/{export_id}/groups")
    def group(export_id: str, body: GroupBody, session: PostSession) -> dict[str, Any]:
        views = review.group(session.user, export_id, body.track_ids, body.reason, body.version)
        return {"tracks": [v.to_json() for v in views]}

    @r.post("/exports/{export_id}/sign-off")
    def sign_off(export_id: str, body: ConcludeBody, session: PostSession) -> dict[str, Any]:
        return {"version": review.sign_off(session.user, export_id, body.version, body.reason)}

    @r.post("/exports/{export_id}/approve")
    def approve(export_id: str, body: ConcludeBody, session: PostSession) -> dict[str, Any]:
        return job_json(review.approve(session.user, export_id, body.version, body.reason))

    @r.post("/exports/{export_id}/reject")
    def reject(export_id: str, body: ConcludeBody, session: PostSession) -> dict[str, Any]:
        return job_json(review.reject(session.user, export_id, body.version, body.reason))

    @r.get("/exports/{export_id}/ledger")
    def ledger(export_id: str, session: PageSession) -> dict[str, Any]:
        return {
            "entries": [
                {
                    "seq": e.seq,
                    "at": e.at.isoformat(),
                    "event": str(e.event),
                    "actor": e.actor,
                    "detail": dict(e.detail),
                }
                for e in review.ledger(session.user, export_id)
            ]
        }

    return r
