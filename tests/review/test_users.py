"""Console accounts and sessions on a real SQLite file with real argon2: logins, expiry on a
moved clock, disabling, role changes seen by open sessions, what is stored, the messages,
and `redactor users` as an administrator types it."""

from __future__ import annotations

import hashlib
import io
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

import pytest
from argon2 import PasswordHasher

from redactor.cli import main
from redactor.errors import AlreadyExists, InvalidInput, NotFound, Unauthenticated
from redactor.review.users import SESSION_GONE, WRONG_LOGIN, UserStore

PASSWORD = "correct horse battery"
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
# cheap argon2id for the many logins here; test_default_hasher_is_argon2id uses the default
FAST = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> Iterator[UserStore]:
    s = UserStore(tmp_path / "users.sqlite", clock=clock, session_ttl_s=3600.0, hasher=FAST)
    yield s
    s.close()


def rows(path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as db:
        return db.execute(sql).fetchall()


def test_add_login_session_logout(store: UserStore) -> None:
    """A login gives a session the token finds again, until logout."""
    user = store.add("rob", PASSWORD, ["reviewer"])
    assert user.name == "rob" and user.roles == {"reviewer"} and not user.disabled
    assert user.has("approver", "reviewer") and not user.has("approver")
    s = store.login("rob", PASSWORD)
    assert s.user == user and s.expires_at == START + timedelta(hours=1)
    assert len(s.token) >= 40 and len(s.csrf) >= 40 and s.token != s.csrf
    assert s.token not in repr(s) and s.csrf not in repr(s)
    assert store.session(s.token) == s
    other = store.login("rob", PASSWORD)
    assert other.token != s.token
    store.logout(s.token)
    with pytest.raises(Unauthenticated, match=SESSION_GONE):
        store.session(s.token)
    assert store.session(other.token).user.name == "rob"  # only that session ended
    store.logout(s.token)  # twice: nothing happens


def test_wrong_password_unknown_and_disabled_user_look_alike(
    store: UserStore, tmp_path: Path
) -> None:
    store.add("rob", PASSWORD, ["reviewer"])
    store.add("old", PASSWORD, ["reviewer"])
    store.disable("old")
    messages = set()
    for name, password in [("rob", PASSWORD + "x"), ("nobody", PASSWORD), ("old", PASSWORD)]:
        with pytest.raises(Unauthenticated) as e:
            store.login(name, password)
        messages.add(str(e.value))
    assert messages == {WRONG_LOGIN}
    assert WRONG_LOGIN == "wrong user name or password"
    assert rows(tmp_path / "users.sqlite", "SELECT COUNT(*) FROM sessions") == [(0,)]


class CountingHasher(PasswordHasher):
    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=1024, parallelism=1)
        self.verified: list[str] = []

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        self.verified.append(str(hash))
        return super().verify(hash, password)


def test_unknown_user_still_verifies_a_hash(tmp_path: Path) -> None:
    """Timing must not tell whether a name exists: one argon2 verification either way."""
    hasher = CountingHasher()
    store = UserStore(tmp_path / "users.sqlite", hasher=hasher)
    try:
        store.add("rob", PASSWORD, ["reviewer"])
        for name in ("rob", "nobody"):
            with pytest.raises(Unauthenticated):
                store.login(name, "not the password")
    finally:
        store.close()
    assert len(hasher.verified) == 2 and all(h.startswith("$argon2id$") for h in hasher.verified)
    assert hasher.verified[0] != hasher.verified[1]


def test_session_expires_on_the_clock(store: UserStore, clock: Clock, tmp_path: Path) -> None:
    store.add("rob", PASSWORD, ["reviewer"])
    s = store.login("rob", PASSWORD)
    clock.now = START + timedelta(minutes=59, seconds=59)
    assert store.session(s.token).user.name == "rob"
    clock.now = START + timedelta(hours=1)
    with pytest.raises(Unauthenticated, match="expired or was ended; log in again"):
        store.session(s.token)
    # the expired row is gone, and a new login works
    assert rows(tmp_path / "users.sqlite", "SELECT COUNT(*) FROM sessions") == [(0,)]
    assert store.session(store.login("rob", PASSWORD).token).expires_at == clock.now + timedelta(
        hours=1
    )


def test_login_clears_other_expired_sessions(
    store: UserStore, clock: Clock, tmp_path: Path
) -> None:
    store.add("rob", PASSWORD, ["reviewer"])
    store.add("ann", PASSWORD, ["approver"])
    store.login("rob", PASSWORD)
    clock.now = START + timedelta(hours=2)
    store.login("ann", PASSWORD)
    assert rows(tmp_path / "users.sqlite", "SELECT name FROM sessions") == [("ann",)]


def test_disabled_user_loses_sessions_and_cannot_log_in(store: UserStore, tmp_path: Path) -> None:
    store.add("rob", PASSWORD, ["reviewer"])
    store.add("ann", PASSWORD, ["approver"])
    s = store.login("rob", PASSWORD)
    kept = store.login("ann", PASSWORD)
    store.disable("rob")
    assert store.get("rob").disabled
    with pytest.raises(Unauthenticated, match=SESSION_GONE):
        store.session(s.token)
    with pytest.raises(Unauthenticated, match=WRONG_LOGIN):
        store.login("rob", PASSWORD)
    assert rows(tmp_path / "users.sqlite", "SELECT name FROM sessions") == [("ann",)]
    assert store.session(kept.token).user.name == "ann"
    assert [u.name for u in store.list_users() if u.disabled] == ["rob"]
    with pytest.raises(NotFound, match="no console user named 'nobody'"):
        store.disable("nobody")


def test_disabled_by_another_process_is_seen_by_an_open_session(
    store: UserStore, tmp_path: Path
) -> None:
    """`redactor users disable` runs in its own process on the same file."""
    store.add("rob", PASSWORD, ["reviewer"])
    s = store.login("rob", PASSWORD)
    with sqlite3.connect(tmp_path / "users.sqlite") as db:
        db.execute("UPDATE users SET disabled = 1 WHERE name = 'rob'")
    with pytest.raises(Unauthenticated, match=SESSION_GONE):
        store.session(s.token)


def test_role_change_is_seen_by_an_open_session(store: UserStore) -> None:
    store.add("rob", PASSWORD, ["reviewer"])
    s = store.login("rob", PASSWORD)
    assert store.set_roles("rob", ["approver", "auditor"]).roles == {"approver", "auditor"}
    assert store.session(s.token).user.roles == {"approver", "auditor"}
    assert store.get("rob").roles == {"approver", "auditor"}
    with pytest.raises(NotFound):
        store.set_roles("nobody", ["auditor"])


def test_password_change_ends_sessions(store: UserStore) -> None:
    store.add("rob", PASSWORD, ["reviewer"])
    s = store.login("rob", PASSWORD)
    store.set_password("rob", "another long password")
    with pytest.raises(Unauthenticated):
        store.session(s.token)
    with pytest.raises(Unauthenticated, match=WRONG_LOGIN):
        store.login("rob", PASSWORD)
    store.login("rob", "another long password")
    with pytest.raises(NotFound):
        store.set_password("nobody", "another long password")


def test_what_is_stored(store: UserStore, tmp_path: Path) -> None:
    """argon2id hashes, roles comma-joined and sorted, only the token's SHA-256."""
    store.add("rob", PASSWORD, ["reviewer", "approver"])
    s = store.login("rob", PASSWORD)
    path = tmp_path / "users.sqlite"
    ((roles, hashed, disabled),) = rows(path, "SELECT roles, hash, disabled FROM users")
    assert roles == "approver,reviewer" and disabled == 0
    assert isinstance(hashed, str) and hashed.startswith("$argon2id$") and PASSWORD not in hashed
    ((digest, csrf, expires),) = rows(path, "SELECT token_sha256, csrf, expires_at FROM sessions")
    assert digest == hashlib.sha256(s.token.encode()).hexdigest() and csrf == s.csrf
    assert expires == "2026-12-01T10:00:00.000000+00:00"
    for f in path.parent.iterdir():  # the clear token is in no file (main, WAL or index)
        assert s.token.encode() not in f.read_bytes()
        assert PASSWORD.encode() not in f.read_bytes()
    assert path.stat().st_mode & 0o077 == 0


def test_default_hasher_is_argon2id_and_weak_hashes_are_redone(tmp_path: Path) -> None:
    """Production uses the library's defaults; a hash made with weaker ones is redone at login."""
    path = tmp_path / "users.sqlite"
    weak = UserStore(path, hasher=FAST)
    weak.add("rob", PASSWORD, ["reviewer"])
    weak.close()
    store = UserStore(path)
    try:
        ((before,),) = rows(path, "SELECT hash FROM users")
        assert PasswordHasher().check_needs_rehash(str(before))
        store.login("rob", PASSWORD)
        ((after,),) = rows(path, "SELECT hash FROM users")
        assert str(after).startswith("$argon2id$") and after != before
        assert not PasswordHasher().check_needs_rehash(str(after))
        store.login("rob", PASSWORD)
        store.add("ann", PASSWORD, ["approver"])
        ((h,),) = rows(path, "SELECT hash FROM users WHERE name = 'ann'")
        assert not PasswordHasher().check_needs_rehash(str(h))
    finally:
        store.close()


@pytest.mark.parametrize(
    ("name", "password", "roles", "message"),
    [
        ("Rob", PASSWORD, ["reviewer"], r"must match .*a-z0-9.*, got 'Rob'"),
        ("r", PASSWORD, ["reviewer"], r"2 to 64.*got 'r'"),
        ("-rob", PASSWORD, ["reviewer"], r"got '-rob'"),
        ("rob\n", PASSWORD, ["reviewer"], r"got 'rob\\n'"),
        ("r" * 65, PASSWORD, ["reviewer"], r"must match"),
        ("rob", PASSWORD, [], r"at least one role; valid roles: requester, reviewer, approver"),
        ("rob", PASSWORD, ["reviewer", "root"], r"unknown role 'root'; valid roles: requester"),
        ("rob", "short pw", ["reviewer"], r"needs at least 12 characters, got 8"),
        ("rob", "x" * 5000, ["reviewer"], r"at most 4096 characters, got 5000"),
    ],
)
def test_bad_input_says_what_was_expected(
    store: UserStore, name: str, password: str, roles: list[str], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message) as e:
        store.add(name, password, roles)
    assert password not in str(e.value)
    assert store.count() == 0


def test_names_and_a_single_role_string(store: UserStore) -> None:
    for name in ("ab", "a.b_c-d", "0" * 64):
        store.add(name, PASSWORD, "auditor")
    assert [u.name for u in store.list_users()] == ["0" * 64, "a.b_c-d", "ab"]
    assert store.count() == 3 and store.has_users()
    assert store.get("ab").roles == {"auditor"}


def test_short_password_on_change(tmp_path: Path) -> None:
    store = UserStore(tmp_path / "u.sqlite", min_password_chars=16, hasher=FAST)
    try:
        store.add("rob", "sixteen chars ok", ["reviewer"])
        with pytest.raises(InvalidInput, match="at least 16 characters, got 15"):
            store.set_password("rob", "fifteen chars o")
    finally:
        store.close()


def test_duplicate_name(store: UserStore) -> None:
    store.add("rob", PASSWORD, ["reviewer"])
    with pytest.raises(AlreadyExists, match="'rob' exists already"):
        store.add("rob", "another long password", ["approver"])
    assert store.get("rob").roles == {"reviewer"}
    with pytest.raises(NotFound, match="no console user named 'nobody'"):
        store.get("nobody")


def test_store_reopens_with_its_accounts_and_sessions(tmp_path: Path, clock: Clock) -> None:
    path = tmp_path / "deep" / "users.sqlite"
    first = UserStore(path, clock=clock, hasher=FAST)
    first.add("rob", PASSWORD, ["reviewer"])
    s = first.login("rob", PASSWORD)
    first.close()
    second = UserStore(path, clock=clock, hasher=FAST)
    try:
        assert second.session(s.token).user.name == "rob"
    finally:
        second.close()


# ---------------------------------------------------------------- redactor users


def users_cli(monkeypatch: pytest.MonkeyPatch, config: Path, *argv: str, stdin: str = "") -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return main(["users", *argv, "--config", str(config)])


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "redactor.toml"
    path.write_text(f'[console]\nusers_path = "{tmp_path / "accounts" / "users.sqlite"}"\n')
    return path


def test_cli_add_list_roles_passwd_disable(
    config: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert (
        users_cli(
            monkeypatch,
            config,
            "add",
            "admin",
            "--role",
            "administrator",
            "--password-stdin",
            stdin=PASSWORD + "\n",
        )
        == 0
    )
    assert users_cli(
        monkeypatch, config, "add", "rob", "--role", "reviewer", "--role", "approver",
        "--password-stdin", stdin=PASSWORD + "\n",
    ) == 0  # fmt: skip
    assert "added rob with roles approver,reviewer" in capsys.readouterr().out
    assert users_cli(monkeypatch, config, "list") == 0
    assert capsys.readouterr().out == "admin\tadministrator\nrob\tapprover,reviewer\n"

    store = UserStore(tmp_path / "accounts" / "users.sqlite")  # the default hasher, as served
    try:
        assert store.login("admin", PASSWORD).user.roles == {"administrator"}
        s = store.login("rob", PASSWORD)
        assert users_cli(monkeypatch, config, "roles", "rob", "--role", "auditor") == 0
        assert store.session(s.token).user.roles == {"auditor"}
        new = "a new long password"
        assert users_cli(monkeypatch, config, "passwd", "rob", "--password-stdin", stdin=new) == 0
        store.login("rob", new)
        assert users_cli(monkeypatch, config, "disable", "rob") == 0
        with pytest.raises(Unauthenticated):
            store.login("rob", new)
    finally:
        store.close()
    capsys.readouterr()
    assert users_cli(monkeypatch, config, "list") == 0
    assert capsys.readouterr().out.splitlines()[1] == "rob\tauditor  (disabled)"


def test_cli_prompts_twice(
    config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = iter([PASSWORD, PASSWORD + "!", PASSWORD, PASSWORD])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    assert users_cli(monkeypatch, config, "add", "admin", "--role", "administrator") == 2
    assert (
        capsys.readouterr().err == "redactor users: the two passwords differ; nothing was changed\n"
    )
    assert users_cli(monkeypatch, config, "add", "admin", "--role", "administrator") == 0


@pytest.mark.parametrize(
    ("argv", "stdin", "message"),
    [
        (["add", "Admin", "--role", "administrator", "--password-stdin"], PASSWORD, "must match"),
        (["add", "admin", "--role", "administrator", "--password-stdin"], "short", "got 5"),
        (["add", "rob", "--role", "reviewer", "--password-stdin"], PASSWORD, "exists already"),
        (["passwd", "nobody", "--password-stdin"], PASSWORD, "no console user named 'nobody'"),
        (["roles", "nobody", "--role", "auditor"], "", "no console user named 'nobody'"),
        (["disable", "nobody"], "", "no console user named 'nobody'"),
    ],
)
def test_cli_errors(
    config: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    stdin: str,
    message: str,
) -> None:
    users_cli(monkeypatch, config, "add", "rob", "--role", "reviewer", "--password-stdin",
              stdin=PASSWORD)  # fmt: skip
    capsys.readouterr()
    assert users_cli(monkeypatch, config, *argv, stdin=stdin) == 2
    err = capsys.readouterr().err
    assert err.startswith("redactor users: ") and message in err
    if stdin:
        assert stdin not in err  # a password is never echoed


def test_cli_bad_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[console]\nusers_pth = 'x'\n")
    assert main(["users", "list", "--config", str(bad)]) == 2
    assert capsys.readouterr().err.startswith("redactor users: invalid config")


def test_guessing_is_slowed_per_name(store: UserStore, clock: Clock) -> None:
    """After max_failed_logins wrong passwords in lockout_s, that name is refused, even with
    the right password, until the window passes; unknown names alike; a success resets."""
    store.add("rob", PASSWORD, ["reviewer"])
    for _ in range(store.max_failed_logins):
        with pytest.raises(Unauthenticated, match=WRONG_LOGIN):
            store.login("rob", "not the password")
        with pytest.raises(Unauthenticated, match=WRONG_LOGIN):
            store.login("nobody", "not the password")
    for name in ("rob", "nobody"):
        with pytest.raises(Unauthenticated, match="failed logins for this name.*try again after"):
            store.login(name, PASSWORD)
    clock.now += store.lockout + timedelta(seconds=1)
    store.login("rob", PASSWORD)
    for _ in range(store.max_failed_logins - 1):  # the success cleared the count
        with pytest.raises(Unauthenticated, match=WRONG_LOGIN):
            store.login("rob", "not the password")
    store.login("rob", PASSWORD)
