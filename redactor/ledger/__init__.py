"""The provision ledger: who received which footage, when, why and on which basis."""

from redactor.ledger.ledger import Entry, Event, Ledger, VerifyResult

__all__ = ["Entry", "Event", "Ledger", "VerifyResult"]
