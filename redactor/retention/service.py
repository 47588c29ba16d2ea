"""Holds and the retention cycle over one ledger file, as the server and the CLI run them."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Self

from redactor.config import Config
from redactor.errors import FailedPrecondition
from redactor.export import keys
from redactor.export.archive import Archive
from redactor.ledger.ledger import Ledger
from redactor.retention.holds import Holds, HoldStore
from redactor.retention.sweep import Retention

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class RetentionService:
    """`holds` (for cases and people) and `retention` (the cycle) over the ledger's file.

    The server passes its ExportService's ledger and archive; `open` makes its own
    (the CLI, tests) and closes the ledger with the rest."""

    def __init__(
        self,
        config: Config,
        ledger: Ledger,
        archive: Archive,
        clock: Clock = _utc_now,
        *,
        owns_ledger: bool = False,
    ) -> None:
        self.config = config
        self.ledger = ledger
        self.store = HoldStore(config.export.ledger_path)
        self.holds = Holds(self.store, ledger, archive, clock)
        self.retention = Retention(config.retention, archive, ledger, self.holds, clock)
        self._owns_ledger = owns_ledger

    @classmethod
    def open(cls, config: Config, clock: Clock = _utc_now) -> Self:
        """With its own ledger (signed with export.key_path) and archive. A missing archive
        root is refused before a key or ledger file is made (a mistyped --config)."""
        root = config.export.archive_root
        if not root.is_dir():
            raise FailedPrecondition(
                f"export.archive_root {root} is not a folder: expected the recordings' root"
            )
        key = keys.load_or_create(config.export.key_path)
        ledger = Ledger(config.export.ledger_path, key, clock=clock)
        try:
            return cls(config, ledger, Archive(config.export.archive_root), clock, owns_ledger=True)
        except BaseException:
            ledger.close()
            raise

    def start(self) -> None:
        """Starts the periodic cycle where retention.enabled (holds work either way)."""
        if self.config.retention.enabled:
            self.retention.start()

    def close(self) -> None:
        self.retention.close()  # before the tables it writes
        self.store.close()
        if self._owns_ledger:
            self.ledger.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
