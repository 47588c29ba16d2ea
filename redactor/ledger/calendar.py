"""The center's calendar: the register's years and days and the access log's months and
working hours are counted in Korea's time (which keeps no summer time); the ledger itself
stores UTC."""

from __future__ import annotations

from datetime import timedelta, timezone, tzinfo
from typing import Final

CENTER_TZ: Final[tzinfo] = timezone(timedelta(hours=9), "KST")
