"""Opening the service's SQLite files (ledger, job and review tables, console accounts)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

BUSY_TIMEOUT_S = 10.0  # how long a write waits for another process (an auditor's CLI) holding it


def open_db(path: Path, schema: str) -> sqlite3.Connection:
    """Opens (and creates) `path` with `schema` applied.

    One connection shared by a store's threads, which hold their own lock around it;
    transactions are explicit (isolation_level=None); WAL, so the service and the CLIs
    can use the file at once.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(
        str(path), timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
    )
    db.execute("PRAGMA journal_mode=WAL")
    db.executescript(schema)
    return db
