"""Retention of recordings: holds that keep them, and the cycle that destroys them when
their period is over (docs/retention.md).

- holds.py: HoldStore (the `holds` and `destructions` tables) and Holds (place, release);
- sweep.py: Retention (what is due, the cycle, the periodic thread);
- service.py: RetentionService, both over the ledger's file, as the server runs them.
"""

from redactor.retention.holds import Hold, Holds, HoldStore
from redactor.retention.service import RetentionService
from redactor.retention.sweep import CYCLE_ACTOR, Due, Retention, RetentionReport, destroy_file

__all__ = [
    "CYCLE_ACTOR",
    "Due",
    "Hold",
    "HoldStore",
    "Holds",
    "Retention",
    "RetentionReport",
    "RetentionService",
    "destroy_file",
]
