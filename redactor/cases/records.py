"""The center's records under the law, for signed-in users: the register, holds, retention.

The register is read from the ledger on every call (redactor.ledger.register), never kept
apart; holds and the retention plan are redactor.retention's. This layer only checks the
user's role (redactor.review.access) and hands the rows over, so the console and the CLI
show the same thing.
"""

from __future__ import annotations

from redactor.errors import FailedPrecondition
from redactor.export.service import ExportService
from redactor.ledger.calendar import CENTER_TZ
from redactor.ledger.register import (
    RegisterFilter,
    RegisterRow,
    Stats,
    filter_rows,
    register_rows,
    summarize,
    year_span,
)
from redactor.retention import Due, Hold, RetentionService
from redactor.review import access
from redactor.review.users import User


class Records:
    def __init__(self, exports: ExportService, retention: RetentionService | None) -> None:
        self.exports = exports
        self.retention = retention

    def register(self, user: User, flt: RegisterFilter) -> list[RegisterRow]:
        """The register rows matching `flt`, oldest first (auditors, approvers, admins)."""
        return filter_rows(self._rows(user), flt)

    def register_and_stats(
        self, user: User, flt: RegisterFilter | None, year: int | None
    ) -> tuple[list[RegisterRow], Stats]:
        """From one read of the ledger: the rows matching `flt` (none where it is None) and
        the yearly statistics (counts by kind, recipient, legal basis and outcome) of `year`
        (None: the first matching row's year, else the current one)."""
        everything = self._rows(user)
        rows = filter_rows(everything, flt) if flt is not None else []
        if year is None:
            first = rows[0].at if rows else self.exports.clock()
            year = first.astimezone(CENTER_TZ).year
        return rows, _year(everything, year)

    def _rows(self, user: User) -> list[RegisterRow]:
        access.authorize(user, "view_register")
        return register_rows(
            self.exports.ledger.entries(), self.exports.cfg.review.internal_recipients
        )

    def holds(self, user: User, include_released: bool = False) -> list[Hold]:
        access.authorize(user, "view_register")
        if self.retention is None:
            return []
        return self.retention.holds.all() if include_released else self.retention.holds.active()

    def place_hold(self, user: User, recording: str, reason: str) -> Hold:
        access.authorize(user, "hold")
        return self._retention().holds.place(recording, reason, user.name)

    def release_hold(self, user: User, hold_id: int, reason: str) -> Hold:
        access.authorize(user, "hold")
        return self._retention().holds.release(hold_id, user.name, reason)

    def retention_plan(self, user: User) -> list[Due]:
        """Every recording with its due date and holds: what the next cycle would destroy."""
        access.authorize(user, "view_register")
        return self._retention().retention.plan() if self.retention is not None else []

    def _retention(self) -> RetentionService:
        if self.retention is None:
            raise FailedPrecondition("retention and holds are not served by this console")
        return self.retention


def _year(rows: list[RegisterRow], year: int) -> Stats:
    since, until = year_span(year)
    return summarize(filter_rows(rows, RegisterFilter(since=since, until=until)), year)
