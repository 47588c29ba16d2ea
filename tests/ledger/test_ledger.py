"""The provision ledger on a real SQLite file: chaining, tamper detection, filters, CLI."""

from __future__ import annotations

import itertools
import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from redactor.clients.audit import main as audit
from redactor.export import keys
from redactor.ledger import Event, Ledger
from redactor.ledger.ledger import GENESIS_HASH, row_hash

T0 = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)


class StepClock:
    """Each call one minute later: rows get distinct, known times."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        self.now += timedelta(minutes=1)
        return self.now


def fill(path: Path, key: Ed25519PrivateKey | None = None, rows: int = 6) -> Ledger:
    ledger = Ledger(path, key, clock=StepClock())
    for i in range(rows):
        ledger.append(
            [Event.REQUESTED, Event.APPROVED, Event.COMPLETED, Event.DOWNLOADED][i % 4],
            export_id=f"exp{i // 4}",
            actor="auditor@ipv4:127.0.0.1:1",
            camera_id="gate-1" if i < 4 else "gate-2",
            recipient="police-112" if i % 2 == 0 else "fire-119",
            detail={"i": i, "purpose": "사건 조사"},
        )
    return ledger


def test_rows_chain_and_verify(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    with fill(tmp_path / "l.sqlite", key) as ledger:
        rows = ledger.entries()
        assert [r.seq for r in rows] == [1, 2, 3, 4, 5, 6]
        assert rows[0].prev_hash == GENESIS_HASH
        assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(rows))
        r = ledger.verify(key.public_key())
        assert r.ok and r.rows == 6 and (r.head_seq, r.head_hash) == (6, rows[-1].hash)
        assert rows[0].detail["purpose"] == "사건 조사"
    # WAL mode, on disk
    assert (
        sqlite3.connect(tmp_path / "l.sqlite").execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    )


def _edit(db: sqlite3.Connection) -> None:
    db.execute("UPDATE ledger SET recipient = 'someone-else' WHERE seq = 3")


def _edit_detail(db: sqlite3.Connection) -> None:
    db.execute("""UPDATE ledger SET detail = '{"i":3,"purpose":"other"}' WHERE seq = 4""")


def _delete(db: sqlite3.Connection) -> None:
    db.execute("DELETE FROM ledger WHERE seq = 3")


def _delete_and_renumber(db: sqlite3.Connection) -> None:
    db.execute("DELETE FROM ledger WHERE seq = 3")
    db.execute("UPDATE ledger SET seq = seq - 1 WHERE seq > 3")


def _swap_content(db: sqlite3.Connection) -> None:
    """Rows 3 and 4 trade places: every column but seq exchanged."""
    cols = "at, event, export_id, actor, camera_id, recipient, detail, prev_hash, hash, sig"
    a = db.execute(f"SELECT {cols} FROM ledger WHERE seq = 3").fetchone()
    b = db.execute(f"SELECT {cols} FROM ledger WHERE seq = 4").fetchone()
    sets = ", ".join(f"{c.strip()} = ?" for c in cols.split(","))
    db.execute(f"UPDATE ledger SET {sets} WHERE seq = 3", b)
    db.execute(f"UPDATE ledger SET {sets} WHERE seq = 4", a)


def _swap_seq(db: sqlite3.Connection) -> None:
    db.execute("UPDATE ledger SET seq = -1 WHERE seq = 3")
    db.execute("UPDATE ledger SET seq = 3 WHERE seq = 4")
    db.execute("UPDATE ledger SET seq = 4 WHERE seq = -1")


@pytest.mark.parametrize(
    ("tamper", "broken", "intact", "words"),
    [
        (_edit, 3, 2, "edited"),
        (_edit_detail, 4, 3, "edited"),
        (_delete, 4, 2, "deleted"),
        (_delete_and_renumber, 3, 2, "prev_hash"),
        (_swap_content, 3, 2, "edited"),
        (_swap_seq, 3, 2, "edited"),
    ],
)
def test_tampering_is_found_at_its_row(  # type: ignore[no-untyped-def]
    tmp_path: Path, tamper, broken: int, intact: int, words: str
) -> None:
    path = tmp_path / "l.sqlite"
    fill(path).close()
    db = sqlite3.connect(path)
    tamper(db)
    db.commit()
    db.close()
    with Ledger(path, create=False) as ledger:
        r = ledger.verify()
    assert not r.ok
    assert r.broken_seq == broken, r.reason
    assert words in r.reason
    assert r.head_seq == intact  # the last row known good


def test_rewritten_chain_fails_signature_check(tmp_path: Path) -> None:
    """An edit followed by recomputing every later hash passes the bare chain, not the signatures."""
    key = Ed25519PrivateKey.generate()
    path = tmp_path / "l.sqlite"
    fill(path, key).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE ledger SET recipient = 'someone-else' WHERE seq = 2")
    prev = db.execute("SELECT hash FROM ledger WHERE seq = 1").fetchone()[0]
    for row in db.execute(
        "SELECT seq, at, event, export_id, actor, camera_id, recipient, detail "
        "FROM ledger WHERE seq >= 2 ORDER BY seq"
    ).fetchall():
        seq, at, event, export_id, actor, camera_id, recipient, detail = row
        h = row_hash(seq, at, event, export_id, actor, camera_id, recipient, detail, prev)
        db.execute("UPDATE ledger SET prev_hash = ?, hash = ? WHERE seq = ?", (prev, h, row[0]))
        prev = h
    db.commit()
    db.close()
    with Ledger(path, create=False) as ledger:
        assert ledger.verify().ok  # the chain alone cannot tell
        r = ledger.verify(key.public_key())
    assert not r.ok and r.broken_seq == 2 and "signature" in r.reason


def test_cut_tail_is_found_with_a_noted_head(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    with fill(path) as ledger:
        head = ledger.head()
    db = sqlite3.connect(path)
    db.execute("DELETE FROM ledger WHERE seq >= 5")
    db.commit()
    db.close()
    with Ledger(path, create=False) as ledger:
        assert ledger.verify().ok
        r = ledger.verify(expect_head=head)
    assert not r.ok and r.broken_seq == 6 and "cut" in r.reason


def test_filters(tmp_path: Path) -> None:
    with fill(tmp_path / "l.sqlite") as ledger:
        assert [e.seq for e in ledger.entries(camera_id="gate-2")] == [5, 6]
        assert [e.seq for e in ledger.entries(recipient="fire-119")] == [2, 4, 6]
        assert [e.seq for e in ledger.entries(export_id="exp1")] == [5, 6]
        assert [e.seq for e in ledger.entries(event=Event.DOWNLOADED)] == [4]
        since, until = T0 + timedelta(minutes=2), T0 + timedelta(minutes=4)
        assert [e.seq for e in ledger.entries(since=since, until=until)] == [2, 3]


def test_concurrent_writers_keep_one_chain(tmp_path: Path) -> None:
    """Two ledger objects (as two processes would) appending from threads at once."""
    path = tmp_path / "l.sqlite"
    a, b = Ledger(path), Ledger(path)

    def write(ledger: Ledger, tag: str) -> None:
        for i in range(40):
            ledger.append(Event.REQUESTED, export_id=f"{tag}{i}")

    threads = [threading.Thread(target=write, args=(lg, t)) for lg, t in ((a, "a"), (b, "b"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    r = a.verify()
    assert r.ok and r.rows == 80
    a.close()
    b.close()


def test_audit_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    key_path = tmp_path / "k.pem"
    key = keys.load_or_create(key_path)
    path = tmp_path / "l.sqlite"
    fill(path, key).close()
    pub = str(keys.public_path(key_path))
    assert audit(["ledger", "verify", "--db", str(path), "--key", pub]) == 0
    out = capsys.readouterr().out
    assert "OK: 6 rows" in out and "signatures checked" in out
    assert audit(["ledger", "show", "--db", str(path), "--camera", "gate-2", "--json"]) == 0
    shown = capsys.readouterr().out.strip().splitlines()
    assert len(shown) == 2 and all('"camera_id": "gate-2"' in s for s in shown)
    assert (
        audit(
            [
                "ledger",
                "show",
                "--db",
                str(path),
                "--recipient",
                "fire-119",
                "--since",
                "2024-05-01T08:03:00",
            ]
        )
        == 0
    )
    assert capsys.readouterr().err.strip() == "2 rows"

    db = sqlite3.connect(path)
    _delete(db)
    db.commit()
    db.close()
    assert audit(["ledger", "verify", "--db", str(path), "--key", pub]) == 1
    err = capsys.readouterr().err
    assert "BROKEN at row 4" in err
    assert audit(["ledger", "verify", "--db", str(tmp_path / "absent.sqlite")]) == 2
