"""The cases table: one JSON document per case in the ledger's SQLite file.

A case's state changes, so it lives beside the hash-chained ledger table, as the export jobs
do; every change is also a ledger row (redactor.cases.service), which is what the register
and an auditor read.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

from redactor.cases.model import Case
from redactor.sqlite import open_db

_SCHEMA = """
CREATE TABLE IF NOT EXISTS cases (
    id           TEXT PRIMARY KEY,
    year         INTEGER NOT NULL,
    number       INTEGER NOT NULL,
    state        TEXT NOT NULL,
    due_at       TEXT NOT NULL,
    doc          TEXT NOT NULL,
    UNIQUE (year, number)
);
"""


class CaseStore:
    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        self._db = open_db(Path(path), _SCHEMA)

    def next_id(self, year: int) -> str:
        """The next case number of `year` (2026-0001, 2026-0002, ...)."""
        with self._lock:
            row = self._db.execute(
                "SELECT COALESCE(MAX(number), 0) FROM cases WHERE year = ?", (year,)
            ).fetchone()
        return f"{year}-{int(row[0]) + 1:04d}"

    def insert(self, case: Case) -> None:
        """A new case; its id must be unused (IntegrityError otherwise: a race, retried)."""
        year, number = case.id.split("-")
        with self._lock:
            self._db.execute(
                "INSERT INTO cases (id, year, number, state, due_at, doc) VALUES (?,?,?,?,?,?)",
                (
                    case.id,
                    int(year),
                    int(number),
                    str(case.state),
                    case.due_at.isoformat(),
                    json.dumps(case.to_json(), sort_keys=True, ensure_ascii=False),
                ),
            )

    def save(self, case: Case) -> None:
        with self._lock:
            self._db.execute(
                "UPDATE cases SET state = ?, due_at = ?, doc = ? WHERE id = ?",
                (
                    str(case.state),
                    case.due_at.isoformat(),
                    json.dumps(case.to_json(), sort_keys=True, ensure_ascii=False),
                    case.id,
                ),
            )

    def load(self) -> list[Case]:
        with self._lock:
            rows = self._db.execute("SELECT doc FROM cases ORDER BY year, number").fetchall()
        return [Case.from_json(json.loads(r[0])) for r in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()
