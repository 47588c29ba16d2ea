"""The center's records under the law, for signed-in users: the register, holds, retention.

The register is read from the ledger on every call (redactor.ledger.register), never kept
apart; holds and the retention plan are redactor.retention's. This layer only checks the
user's role (redactor.review.access) and hands the rows over, so the console and the CLI
show the same thing.
"""

from __future__ import annotations

from redactor.errors import FailedPrecondition
from redactor.export.service import ExportService
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
        access.authorize(user, "view_register")
        rows = register_rows(
            self.exports.ledger.entries(), self.exports.cfg.review.internal_recipients
        )
        return filter_rows(rows, flt)

    def stats(self, user: User, year: int) -> Stats:
        """The year's counts by kind, recipient, legal basis and outcome (the yearly report)."""
        since, until = year_span(year)
        return summarize(self.register(user, RegisterFilter(since=since, until=until)), year)

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
