"""What every console page shares: the services, templates, sessions, CSRF, errors, headers.

Page modules (redactor/console/app.py for exports and review, cases.py, records.py) build
their routers on a `Ui` and the session dependencies here, so the rules of signing in, of
CSRF and of mapping the service's errors to HTTP statuses exist once.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.responses import StreamingResponse

from redactor import errors
from redactor.cases.records import Records
from redactor.cases.service import CaseService
from redactor.export.service import Download
from redactor.review import access
from redactor.review.service import ReviewService
from redactor.review.users import Session, User

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
COOKIE = "redactor_session"
LOGIN_COOKIE = "redactor_login"  # double-submit token of the login form (login CSRF)
CSRF_HEADER = "x-csrf-token"
DOWNLOAD_CHUNK = 1 << 20

# One mapping, as redactor/server/status.py does for gRPC; the first match wins.
HTTP_STATUS: tuple[tuple[type[errors.RedactorError], int], ...] = (
    (errors.InvalidInput, 400),
    (errors.Unauthenticated, 401),
    (errors.PolicyDenied, 403),
    (errors.NotFound, 404),
    (errors.Conflict, 409),
    (errors.FailedPrecondition, 409),
    (errors.AlreadyExists, 409),
    (errors.LimitExceeded, 429),
    (errors.DetectorUnavailable, 503),
    (errors.ClusterUnavailable, 503),
)

CSP = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' blob:",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    )
)
_SECURITY_HEADERS = (
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
)
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")


def status_for(exc: BaseException) -> int:
    """The HTTP status of an error: the service's family, else 500."""
    for cls, status in HTTP_STATUS:
        if isinstance(exc, cls):
            return status
    return 500


class CsrfRefused(errors.PolicyDenied):
    """A POST without the session's CSRF token (→ 403); nothing was done."""


class Ui:
    """What the routes share: the service, the templates and the session handling."""

    def __init__(
        self,
        review: ReviewService,
        env: Environment,
        secure_cookies: bool,
        cases: CaseService | None = None,
        records: Records | None = None,
    ) -> None:
        self.review = review
        self.cases = cases  # None: the center's cases are not served here
        self.records = records
        self.env = env
        self.secure = secure_cookies

    def render(
        self,
        template: str,
        request: Request,
        session: Session | None,
        code: int = 200,
        /,
        **ctx: Any,
    ) -> HTMLResponse:
        html = self.env.get_template(template).render(
            request=request,
            session=session,
            user=session.user if session else None,
            may=may_do,
            with_cases=self.cases is not None,
            with_records=self.records is not None,
            **ctx,
        )
        return HTMLResponse(html, status_code=code)

    def error_response(self, request: Request, exc: Exception) -> Response:
        status = status_for(exc)
        message = str(exc) if status != 500 else f"internal error: {type(exc).__name__}"
        if status == 500:
            log.error("console: %s %s failed", request.method, request.url.path, exc_info=exc)
        if request.url.path.startswith("/api/"):
            return JSONResponse(
                {"error": message, "status": status, "kind": type(exc).__name__},
                status_code=status,
            )
        if status == 401:
            resp = RedirectResponse(f"/login?next={quote(local_path(request), safe='/')}", 303)
            resp.delete_cookie(COOKIE, path="/")
            return resp
        session = self.optional_session(request)
        return self.render("error.html", request, session, status, status=status, message=message)

    def optional_session(self, request: Request) -> Session | None:
        token = request.cookies.get(COOKIE)
        if not token:
            return None
        try:
            return self.review.session(token)
        except errors.RedactorError:
            return None

    def session(self, request: Request) -> Session:
        token = request.cookies.get(COOKIE)
        if not token:
            raise errors.Unauthenticated("not signed in: sign in at /login")
        return self.review.session(token)

    def set_session_cookie(self, resp: Response, session: Session) -> None:
        ttl = int((session.expires_at - datetime.now(UTC)).total_seconds())
        resp.set_cookie(
            COOKIE,
            session.token,
            max_age=max(ttl, 1),
            path="/",
            secure=self.secure,
            httponly=True,
            samesite="strict",
        )


def check_csrf(session: Session, given: str | None) -> None:
    if not given or not hmac.compare_digest(given.encode(), session.csrf.encode()):
        raise CsrfRefused(
            "refused: the request carried no valid CSRF token of this session (form field "
            "'csrf' or header 'X-CSRF-Token'); nothing was changed. Reload the page and try again"
        )


def local_path(request: Request) -> str:
    path = request.url.path if request.method == "GET" else "/"
    if request.method == "GET" and request.url.query:
        path += "?" + request.url.query
    return path


def client_address(request: Request) -> str:
    """The caller's address for the access log; "unknown" where the server was not told."""
    return request.client.host if request.client else "unknown"


def safe_next(target: str) -> str:
    """Only a path on this site (never //host or a scheme): no open redirect after login."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def may_do(user: User, action: access.Action, requested_by: str = "", **kw: Any) -> bool:
    return access.may(user, action, requested_by=requested_by, **kw)


def when(value: datetime | str | None) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        try:
            at = datetime.fromisoformat(value)
        except ValueError:
            return value
    else:
        at = value
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def input_time(value: datetime) -> str:
    """A time as a datetime-local input's value, in UTC (the console's forms are in UTC)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def pretty_json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, indent=1)


def download_response(dl: Download, media_type: str) -> StreamingResponse:
    def chunks() -> Iterator[bytes]:
        try:
            while block := dl.file.read(DOWNLOAD_CHUNK):
                yield block
        finally:
            dl.file.close()

    name = _SAFE_NAME.sub("_", dl.name) or "download"
    return StreamingResponse(
        chunks(),
        media_type=media_type,
        headers={
            "content-disposition": f'attachment; filename="{name}"',
            "content-length": str(dl.size),
            "x-content-sha256": dl.sha256,
        },
        background=BackgroundTask(dl.file.close),  # also where the client went away
    )


# ------------------------------------------------------------------ sessions
# Module-level, so FastAPI resolves the annotations (this module has postponed annotations).


def console_of(request: Request) -> Ui:
    ui = request.app.state.console
    assert isinstance(ui, Ui)
    return ui


def _page_session(request: Request) -> Session:
    """Any page or GET: the session of the cookie (Unauthenticated → sign in)."""
    return console_of(request).session(request)


async def _form_session(request: Request) -> Session:
    """A form POST: the session, and its CSRF token in the form (checked before anything)."""
    session = await run_in_threadpool(console_of(request).session, request)
    form = await request.form()
    given = form.get("csrf")
    check_csrf(session, given if isinstance(given, str) else None)
    return session


def _post_session(request: Request) -> Session:
    """A JSON POST: the session, and its CSRF token in the header (checked before anything)."""
    session = console_of(request).session(request)
    check_csrf(session, request.headers.get(CSRF_HEADER))
    return session


async def _form_fields(request: Request) -> dict[str, str]:
    """A form's text fields (after _form_session: the form is read once and kept)."""
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


PageSession = Annotated[Session, Depends(_page_session)]
FormSession = Annotated[Session, Depends(_form_session)]
PostSession = Annotated[Session, Depends(_post_session)]
FormFields = Annotated[dict[str, str], Depends(_form_fields)]


# ------------------------------------------------------------------ headers

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class SecurityHeaders:
    """Frames nowhere, scripts from here only, and nothing kept in caches but static files."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        static = str(scope.get("path", "")).startswith("/static/")
        cache = b"no-cache" if static else b"no-store"

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() not in _REPLACED
                ]
                headers.extend(_SECURITY_HEADERS)
                headers.append((b"cache-control", cache))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, with_headers)


_REPLACED: frozenset[bytes] = frozenset(k for k, _ in _SECURITY_HEADERS) | {b"cache-control"}
