"""Console accounts and sessions: the one place the console and the review API sign people in.

Accounts live in a small SQLite file (console.users_path): a name, roles (ConsoleRole),
an argon2id password hash and a disabled flag. A login returns a Session: a random
token the caller keeps (a cookie, a gRPC metadata value) and a CSRF value for forms.
Only the token's SHA-256 is stored, so a copy of the file lets nobody sign in; each
lookup re-reads the user, so a changed role or a disabled account takes effect on
the next request, not at the next login. What each role may do is decided in one
place, redactor.review.access.

A center with single sign-on or client certificates would not keep passwords here.
It would put a reverse proxy in front of the console and the review port that signs
people in (OIDC or SAML against the center's identity provider, or mutual TLS with
the center's certificate authority), strips any copy of its identity header from
incoming requests, and passes the verified identity on in that header (for example
the user name and the provider's groups). The service would then trust the header
only from the proxy's address, map the groups to the roles above through a table in
the configuration, and build the same User that access.authorize judges. Sessions
would stay as they are (or be the proxy's), and disabling an account would happen
in the identity provider. None of that is built; this module is the local fallback.

Times come from `clock`, which must return timezone-aware datetimes (tests move it
instead of sleeping); they are stored in UTC.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import get_args

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from redactor.config import ConsoleRole
from redactor.errors import AlreadyExists, InvalidInput, NotFound, Unauthenticated
from redactor.sqlite import open_db

# In the order of the work (request, review, approve, audit, administer): messages list
# roles in this order.
ROLES: tuple[str, ...] = get_args(ConsoleRole)
NAME_RULE = r"^[a-z0-9][a-z0-9._-]{1,63}$"
_NAME = re.compile(NAME_RULE)
# Far above any real password; stops a megabyte "password" from reaching the hasher.
MAX_PASSWORD_CHARS = 4096
# One message for a wrong password, an unknown name and a disabled account: which of
# them it was would tell a guesser which names exist.
WRONG_LOGIN = "wrong user name or password"
SESSION_GONE = "the session has expired or was ended; log in again"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS users (
    name        TEXT PRIMARY KEY,
    roles       TEXT NOT NULL,
    hash        TEXT NOT NULL,
    disabled    INTEGER NOT NULL DEFAULT 0,
    created_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    token_sha256  TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    csrf          TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    expires_at    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_name ON sessions (name);
CREATE TABLE IF NOT EXISTS login_failures (
    name  TEXT NOT NULL,
    at    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS login_failures_name ON login_failures (name);
"""


@dataclass(frozen=True, slots=True)
class User:
    """A console account as the authorization table sees it."""

    name: str
    roles: frozenset[str]
    disabled: bool = False

    def has(self, *roles: str) -> bool:
        """Whether the user holds at least one of `roles` (disabled or not: access.py decides)."""
        return not self.roles.isdisjoint(roles)


@dataclass(frozen=True, slots=True)
class Session:
    """A signed-in user. `token` is the credential; `csrf` goes into every form that changes
    something. Neither is shown by repr, so a logged Session leaks nothing."""

    token: str = field(repr=False)
    user: User
    csrf: str = field(repr=False)
    expires_at: datetime


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _stamp(t: datetime) -> str:
    # One fixed format in UTC, so stored times also compare correctly as text (in SQL).
    if t.tzinfo is None:
        raise InvalidInput(f"times must be timezone-aware, got naive {t.isoformat()}")
    return t.astimezone(UTC).isoformat(timespec="microseconds")


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _join(roles: frozenset[str]) -> str:
    return ",".join(sorted(roles))


def _split(roles: str) -> frozenset[str]:
    return frozenset(r for r in roles.split(",") if r)


def check_name(name: str) -> None:
    """Raises InvalidInput unless `name` is a valid account name."""
    if not isinstance(name, str) or _NAME.fullmatch(name) is None:
        raise InvalidInput(
            f"a user name must match {NAME_RULE} (2 to 64 of a-z, 0-9, '.', '_', '-', starting "
            f"with a letter or digit), got {name!r}"
        )


def check_roles(roles: Iterable[str]) -> frozenset[str]:
    """The roles as a set; InvalidInput where none or an unknown one is given."""
    given = frozenset((roles,) if isinstance(roles, str) else roles)
    if not given:
        raise InvalidInput(f"give at least one role; valid roles: {', '.join(ROLES)}")
    unknown = sorted(r for r in given if r not in ROLES)
    if unknown:
        raise InvalidInput(
            f"unknown role {', '.join(repr(r) for r in unknown)}; valid roles: {', '.join(ROLES)}"
        )
    return given


class UserStore:
    """Accounts and sessions in one SQLite file, shared by the console, the review API and
    the `redactor users` command (WAL, so another process may write while this one runs)."""

    def __init__(
        self,
        path: Path,
        clock: Callable[[], datetime] = _utc_now,
        session_ttl_s: float = 8 * 3600.0,
        min_password_chars: int = 12,
        hasher: PasswordHasher | None = None,
        max_failed_logins: int = 10,
        lockout_s: float = 900.0,
    ) -> None:
        if not session_ttl_s > 0:
            raise InvalidInput(f"session_ttl_s must be > 0, got {session_ttl_s}")
        if min_password_chars < 1:
            raise InvalidInput(f"min_password_chars must be >= 1, got {min_password_chars}")
        self.clock = clock
        self.session_ttl = timedelta(seconds=session_ttl_s)
        self.min_password_chars = min_password_chars
        # Guessing is slowed per name (known or not, so a refusal says nothing of accounts).
        self.max_failed_logins = max_failed_logins
        self.lockout = timedelta(seconds=lockout_s)
        # The library's defaults (argon2id, RFC 9106 low-memory profile) in production;
        # tests may pass a cheaper hasher.
        self._hasher = hasher if hasher is not None else PasswordHasher()
        # Verified against on a login for an unknown name, so it takes as long as a known one.
        self._dummy_hash = self._hasher.hash(secrets.token_urlsafe(32))
        path = Path(path)
        created = not path.exists()
        self._lock = threading.Lock()
        self._db = open_db(path, _SCHEMA)
        if created:
            os.chmod(path, 0o600)  # password hashes: readable by the service's account only

    # ------------------------------------------------------------ accounts

    def add(self, name: str, password: str, roles: Iterable[str]) -> User:
        """A new enabled account. InvalidInput for a bad name, roles or password;
        AlreadyExists where the name is taken."""
        check_name(name)
        given = check_roles(roles)
        self._check_password(password)
        hashed = self._hasher.hash(password)  # slow on purpose: outside the lock
        try:
            with self._lock:
                self._db.execute(
                    "INSERT INTO users (name, roles, hash, disabled, created_at) VALUES (?,?,?,0,?)",
                    (name, _join(given), hashed, _stamp(self.clock())),
                )
        except sqlite3.IntegrityError:
            raise AlreadyExists(f"a console user named {name!r} exists already") from None
        return User(name, given)

    def set_password(self, name: str, password: str) -> None:
        """Replaces the password and ends the user's sessions (a password is changed when
        it may have leaked, so whoever holds an old session must not keep it)."""
        self._check_password(password)
        hashed = self._hasher.hash(password)
        with self._tx():
            self._update(name, "UPDATE users SET hash = ? WHERE name = ?", (hashed, name))
            self._db.execute("DELETE FROM sessions WHERE name = ?", (name,))

    def set_roles(self, name: str, roles: Iterable[str]) -> User:
        """Replaces the roles; open sessions see them on their next request."""
        given = check_roles(roles)
        with self._lock:
            self._update(name, "UPDATE users SET roles = ? WHERE name = ?", (_join(given), name))
        return self.get(name)

    def disable(self, name: str) -> None:
        """The account can no longer log in, and its open sessions end now."""
        with self._tx():
            self._update(name, "UPDATE users SET disabled = 1 WHERE name = ?", (name,))
            self._db.execute("DELETE FROM sessions WHERE name = ?", (name,))

    def get(self, name: str) -> User:
        with self._lock:
            user = self._user(name)
        if user is None:
            raise NotFound(f"no console user named {name!r}")
        return user

    def list_users(self) -> list[User]:
        """Every account, disabled ones too, by name."""
        with self._lock:
            rows = self._db.execute(
                "SELECT name, roles, disabled FROM users ORDER BY name"
            ).fetchall()
        return [User(n, _split(r), bool(d)) for n, r, d in rows]

    def count(self) -> int:
        """Accounts, disabled ones too."""
        with self._lock:
            (n,) = self._db.execute("SELECT COUNT(*) FROM users").fetchone()
        return int(n)

    def has_users(self) -> bool:
        """Whether any account exists (the console says how to make the first one if not)."""
        return self.count() > 0

    # ------------------------------------------------------------ sessions

    def login(self, name: str, password: str) -> Session:
        """A new session. Unauthenticated(WRONG_LOGIN) for a wrong password, an unknown
        name or a disabled account alike, each after one argon2 verification."""
        now = self.clock()
        since = _stamp(now - self.lockout)
        with self._lock:
            self._db.execute("DELETE FROM login_failures WHERE at <= ?", (since,))
            failures = self._db.execute(
                "SELECT at FROM login_failures WHERE name = ? ORDER BY at", (name,)
            ).fetchall()
            row = self._db.execute(
                "SELECT hash, disabled FROM users WHERE name = ?", (name,)
            ).fetchone()
        if len(failures) >= self.max_failed_logins:
            until = datetime.fromisoformat(failures[0][0]) + self.lockout
            raise Unauthenticated(
                f"{len(failures)} failed logins for this name in the last "
                f"{self.lockout.total_seconds() / 60:.0f} min: try again after "
                f"{until.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"
            )
        stored, disabled = (self._dummy_hash, True) if row is None else (row[0], bool(row[1]))
        try:
            self._hasher.verify(stored, password)
            ok = not disabled
        except (VerificationError, InvalidHashError):
            ok = False
        if not ok:
            with self._lock:
                self._db.execute(
                    "INSERT INTO login_failures (name, at) VALUES (?, ?)", (name, _stamp(now))
                )
            raise Unauthenticated(WRONG_LOGIN)
        rehashed = self._hasher.hash(password) if self._hasher.check_needs_rehash(stored) else ""
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        expires_at = (now + self.session_ttl).astimezone(UTC)
        with self._lock:
            if rehashed:
                # Only where nobody changed it meanwhile (a password change wins).
                self._db.execute(
                    "UPDATE users SET hash = ? WHERE name = ? AND hash = ?",
                    (rehashed, name, stored),
                )
            self._db.execute("DELETE FROM sessions WHERE expires_at <= ?", (_stamp(now),))
            self._db.execute("DELETE FROM login_failures WHERE name = ?", (name,))
            self._db.execute(
                "INSERT INTO sessions (token_sha256, name, csrf, created_at, expires_at) "
                "VALUES (?,?,?,?,?)",
                (_digest(token), name, csrf, _stamp(now), _stamp(expires_at)),
            )
            user = self._user(name)
        if user is None or user.disabled:  # removed or disabled while we hashed
            self.logout(token)
            raise Unauthenticated(WRONG_LOGIN)
        return Session(token, user, csrf, expires_at)

    def session(self, token: str) -> Session:
        """The live session for `token`, with the user as they are now."""
        digest = _digest(token)
        now = self.clock()
        with self._lock:
            row = self._db.execute(
                "SELECT name, csrf, expires_at FROM sessions WHERE token_sha256 = ?", (digest,)
            ).fetchone()
            if row is None:
                raise Unauthenticated(SESSION_GONE)
            name, csrf, expires = row
            expires_at = datetime.fromisoformat(expires)
            user = self._user(name)
            if expires_at <= now or user is None or user.disabled:
                self._db.execute("DELETE FROM sessions WHERE token_sha256 = ?", (digest,))
                raise Unauthenticated(SESSION_GONE)
        return Session(token, user, csrf, expires_at)

    def logout(self, token: str) -> None:
        """Ends the session (nothing happens where it has ended already)."""
        with self._lock:
            self._db.execute("DELETE FROM sessions WHERE token_sha256 = ?", (_digest(token),))

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # ------------------------------------------------------------ inside

    def _check_password(self, password: str) -> None:
        # Says how long, never what: the password must not reach a log through a message.
        n = len(password)
        if n < self.min_password_chars:
            raise InvalidInput(
                f"a password needs at least {self.min_password_chars} characters, got {n}"
            )
        if n > MAX_PASSWORD_CHARS:
            raise InvalidInput(
                f"a password may have at most {MAX_PASSWORD_CHARS} characters, got {n}"
            )

    @contextmanager
    def _tx(self) -> Iterator[None]:
        """The lock and one transaction: both statements happen, or neither."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def _user(self, name: str) -> User | None:
        """Under the lock."""
        row = self._db.execute(
            "SELECT roles, disabled FROM users WHERE name = ?", (name,)
        ).fetchone()
        return None if row is None else User(name, _split(row[0]), bool(row[1]))

    def _update(self, name: str, sql: str, params: tuple[object, ...]) -> None:
        """Under the lock; NotFound where no row changed."""
        if self._db.execute(sql, params).rowcount == 0:
            raise NotFound(f"no console user named {name!r}")
