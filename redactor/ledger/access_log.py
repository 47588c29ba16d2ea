"""The access log: who viewed or downloaded footage, when, from where, and what.

PIPA and the commission's guideline for video devices ask a center to log every
person's viewing or download of footage (account, time, client address, whose
footage, what was done), keep the log at least two years and review it monthly.
The log is rows of the provision ledger, never a second store: it is hash-chained
and signed like every provision, and the ledger is never pruned.

Rows:
- VIEWED: footage pixels were handed to a person (`VIEW_ACTIONS`: a proxy frame,
  original or as released, a track's thumbnail, a video). Columns: `actor` the
  account, `at` the time, `export_id`, `camera_id`, `recipient`; detail: `action`,
  `client` (the console's client host, gRPC's peer), `source` (the recording),
  what was shown (`frame`, `track_id`), `window_s`, `previous_window_views`,
  `previous_window_at`.
- DOWNLOADED / DOWNLOAD_REFUSED: written by ExportService.open_download and
  refuse_download, one row per download, never coalesced; detail.client and
  detail.source name the address and the recording.
- ACCESS_LOG_REVIEWED: the monthly review (`AccessLog.mark_reviewed`).

Coalescing. A reviewer scrubbing a clip fetches many frames a second; a row per
frame would bury the ledger. Views are therefore counted per key (account, export,
action, client) in windows of `access_log.window_s`:
- the first view of a key, or the first one `window_s` or more after the view that
  opened the key's current window, opens a new window and writes a VIEWED row at
  once, before the pixels are handed out, so nothing is ever viewed unlogged even if
  the process dies right after;
- later views inside that window write nothing and are only counted;
- the row that opens a key's next window reports the previous window's count
  (`previous_window_views`, the opening view included; `previous_window_at`, when
  it opened); 0 and "" where this process saw no earlier window of that key.
So every row proves at least one view in [at, at + window_s), and a window's full
count is on the key's next row. The count of a key's last window, and of windows
when the process stopped or a key was idle for more than a day (its counter is
then dropped), is never written: the rows are exact about who, what, when and from
where, and a lower bound on how many. A clock that steps back opens a new window.

The monthly report (`monthly_report`) is per account over one calendar month of
the center's time (KST): rows, views by action (`rows + sum(previous_window_views
- 1)`, a lower bound, counted in the month of the row that reports them),
downloads, distinct exports, cameras and clients, first and last row, rows outside
07:00-21:00 (information, not a flag), and a flag where an account's rows exceed
`flag_factor` times the median of the month's active accounts and number at least
`flag_min_rows`.
"""

from __future__ import annotations

import statistics
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal, get_args

from redactor.config import AccessLogConfig
from redactor.errors import Conflict, FailedPrecondition, InvalidInput, MissingField
from redactor.ledger.calendar import CENTER_TZ
from redactor.ledger.ledger import Entry, Event, Ledger

ViewAction = Literal["frame_original", "frame_released", "thumbnail", "video"]
VIEW_ACTIONS: Final[tuple[str, ...]] = get_args(ViewAction)
OFF_HOURS: Final = (7, 21)  # local hours [7, 21) are the working day; the rest is reported
UNKNOWN_CLIENT: Final = "unknown"
MAX_NOTE_CHARS: Final = 2000
# A key idle this long is forgotten (its last window's count with it): bounds the memory
# that clients with ever-new ports (gRPC peers) would otherwise fill.
_FORGET_S: Final = 86400.0

_Key = tuple[str, str, str, str]  # account, export id, action, client


@dataclass(slots=True)
class _Window:
    start: datetime
    views: int


def _utc_now() -> datetime:
    return datetime.now(UTC)


class AccessLog:
    """Writes the access log's VIEWED rows (coalesced, see the module) and its monthly review.

    Thread-safe: one lock guards the counters, and a window's row is written under it, so a
    window gets exactly one row however many threads view at once.
    """

    def __init__(
        self,
        ledger: Ledger,
        config: AccessLogConfig | None = None,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.ledger = ledger
        self.config = config or AccessLogConfig()
        self.clock = clock
        self._lock = threading.Lock()
        self._windows: dict[_Key, _Window] = {}
        self._swept: datetime | None = None

    # ------------------------------------------------------------ views

    def record(
        self,
        account: str,
        action: ViewAction,
        client: str,
        *,
        export_id: str,
        camera_id: str,
        recipient: str,
        source: str,
        detail: Mapping[str, Any] | None = None,
    ) -> Entry | None:
        """Logs one view of footage; returns the VIEWED row where it opened a window, None
        where it was only counted. Raises (and the caller shows nothing) where the row
        cannot be written; the next view of that key tries again."""
        if action not in VIEW_ACTIONS:
            raise InvalidInput(
                f"a view's action must be one of {', '.join(VIEW_ACTIONS)}, got {action!r} "
                "(downloads are rows of ExportService.open_download)"
            )
        if not account:
            raise MissingField("account", "every view is logged with the account that viewed")
        client = client or UNKNOWN_CLIENT
        key = (account, export_id, action, client)
        window_s = self.config.window_s
        with self._lock:
            now = self.clock()
            self._sweep(now)
            current = self._windows.get(key)
            if current is not None and timedelta(0) <= now - current.start < timedelta(
                seconds=window_s
            ):
                current.views += 1
                return None
            entry = self.ledger.append(
                Event.VIEWED,
                export_id=export_id,
                actor=account,
                camera_id=camera_id,
                recipient=recipient,
                detail={
                    **(detail or {}),
                    "action": action,
                    "client": client,
                    "source": source,
                    "window_s": window_s,
                    "previous_window_views": current.views if current else 0,
                    "previous_window_at": current.start.isoformat() if current else "",
                },
            )
            # only once the row is on disk: a failed write leaves the next view to retry
            self._windows[key] = _Window(now, 1)
            return entry

    def _sweep(self, now: datetime) -> None:
        """Forgets keys idle for more than a day; at most once a window."""
        if self._swept is not None and now - self._swept < timedelta(seconds=self.config.window_s):
            return
        self._swept = now
        horizon = now - timedelta(seconds=max(_FORGET_S, self.config.window_s))
        for key in [k for k, w in self._windows.items() if w.start < horizon]:
            del self._windows[key]

    # ------------------------------------------------------------ the monthly review

    def report(self, year: int, month: int) -> AccessReport:
        """The month's report from the ledger (see `monthly_report`)."""
        since, until = month_span(year, month)
        rows = self.ledger.entries(since=since, until=until)
        reviews = self.ledger.entries(event=Event.ACCESS_LOG_REVIEWED)
        return monthly_report([*rows, *reviews], year, month, self.config)

    def mark_reviewed(self, year: int, month: int, actor: str, note: str) -> Entry:
        """Records that `actor` reviewed the month's access log, with the report's summary.

        A month not yet over is refused (InvalidInput where it has not begun,
        FailedPrecondition while it runs); a month reviewed before is a Conflict naming
        who reviewed it and when. Nothing is written then.
        """
        actor, note = actor.strip(), note.strip()
        if not actor:
            raise MissingField("reviewed_by", "the review names the person who did it")
        if not note:
            raise MissingField("note", "the review says what was found, even 'nothing unusual'")
        if len(note) > MAX_NOTE_CHARS:
            raise InvalidInput(
                f"note may hold at most {MAX_NOTE_CHARS} characters, got {len(note)}"
            )
        since, until = month_span(year, month)
        name = month_name(year, month)
        now = self.clock()
        if now < since:
            raise InvalidInput(
                f"{name} is in the future (now {_local(now)}): only a past month can be reviewed"
            )
        if now < until:
            raise FailedPrecondition(
                f"{name} is not over: its access log can be reviewed from {_local(until)}"
            )
        with self._lock:  # two reviews of one month in this process: one wins
            report = self.report(year, month)
            done = report.reviewed
            if done is not None:
                raise Conflict(
                    f"the access log of {name} was already reviewed by {done.by} at "
                    f"{_local(done.at)} (ledger row {done.seq}); nothing was recorded"
                )
            return self.ledger.append(
                Event.ACCESS_LOG_REVIEWED,
                actor=actor,
                detail={
                    "month": name,
                    "accounts": len(report.accounts),
                    "flagged": [a.account for a in report.flagged],
                    "rows": report.rows,
                    "note": note,
                    "through_seq": self.ledger.head()[0],  # the last row the review covers
                },
            )


# ---------------------------------------------------------------- the report


@dataclass(frozen=True, slots=True)
class AccountActivity:
    """One account's access in one month."""

    account: str
    rows: int  # VIEWED and DOWNLOADED rows
    views: Mapping[str, int]  # action -> views, at least (see the module on coalescing)
    view_rows: Mapping[str, int]  # action -> VIEWED rows
    downloads: int
    refused_downloads: int
    exports: tuple[str, ...]
    cameras: tuple[str, ...]
    clients: tuple[str, ...]
    first: datetime | None  # of its rows, the center's time
    last: datetime | None
    off_hours_rows: int  # rows outside 07:00-21:00 local: information, not a flag
    flagged: bool = False
    reason: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "rows": self.rows,
            "views": dict(self.views),
            "view_rows": dict(self.view_rows),
            "downloads": self.downloads,
            "refused_downloads": self.refused_downloads,
            "exports": list(self.exports),
            "cameras": list(self.cameras),
            "clients": list(self.clients),
            "first": self.first.isoformat() if self.first else None,
            "last": self.last.isoformat() if self.last else None,
            "off_hours_rows": self.off_hours_rows,
            "flagged": self.flagged,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class MonthReviewed:
    """The ACCESS_LOG_REVIEWED row of a month."""

    by: str
    at: datetime  # the center's time
    note: str
    seq: int


@dataclass(frozen=True, slots=True)
class AccessReport:
    month: str  # YYYY-MM
    since: datetime  # the month's first instant, the center's time
    until: datetime  # exclusive
    accounts: tuple[AccountActivity, ...]  # flagged first, then by rows, most first
    median_rows: float  # of the accounts with rows
    rows: int
    reviewed: MonthReviewed | None
    config: AccessLogConfig = field(default_factory=AccessLogConfig)

    @property
    def flagged(self) -> tuple[AccountActivity, ...]:
        return tuple(a for a in self.accounts if a.flagged)

    def to_json(self) -> dict[str, Any]:
        r = self.reviewed
        return {
            "month": self.month,
            "since": self.since.isoformat(),
            "until": self.until.isoformat(),
            "rows": self.rows,
            "median_rows": self.median_rows,
            "flag_factor": self.config.flag_factor,
            "flag_min_rows": self.config.flag_min_rows,
            "accounts": [a.to_json() for a in self.accounts],
            "reviewed": None
            if r is None
            else {"by": r.by, "at": r.at.isoformat(), "note": r.note, "seq": r.seq},
        }


@dataclass(slots=True)
class _Tally:
    rows: int = 0
    views: Counter[str] = field(default_factory=Counter)
    view_rows: Counter[str] = field(default_factory=Counter)
    downloads: int = 0
    refused: int = 0
    exports: set[str] = field(default_factory=set)
    cameras: set[str] = field(default_factory=set)
    clients: set[str] = field(default_factory=set)
    first: datetime | None = None
    last: datetime | None = None
    off_hours: int = 0

    def add_row(self, e: Entry, at: datetime) -> None:
        self.rows += 1
        self.first = at if self.first is None else min(self.first, at)
        self.last = at if self.last is None else max(self.last, at)
        if not OFF_HOURS[0] <= at.hour < OFF_HOURS[1]:
            self.off_hours += 1
        for value, into in ((e.export_id, self.exports), (e.camera_id, self.cameras)):
            if value:
                into.add(value)
        client = e.detail.get("client")
        if isinstance(client, str) and client:
            self.clients.add(client)


def monthly_report(
    entries: Iterable[Entry], year: int, month: int, config: AccessLogConfig | None = None
) -> AccessReport:
    """Per account, the month's access rows (VIEWED, DOWNLOADED; DOWNLOAD_REFUSED counted
    apart), flags, and the month's ACCESS_LOG_REVIEWED row where there is one. `entries`
    may hold any rows: the others are skipped."""
    config = config or AccessLogConfig()
    since, until = month_span(year, month)
    name = month_name(year, month)
    tallies: dict[str, _Tally] = {}
    reviewed: MonthReviewed | None = None
    for e in entries:
        if e.event is Event.ACCESS_LOG_REVIEWED:
            if e.detail.get("month") == name and (reviewed is None or e.seq < reviewed.seq):
                note = e.detail.get("note")
                reviewed = MonthReviewed(
                    e.actor,
                    e.at.astimezone(CENTER_TZ),
                    note if isinstance(note, str) else "",
                    e.seq,
                )
            continue
        if e.event not in (Event.VIEWED, Event.DOWNLOADED, Event.DOWNLOAD_REFUSED):
            continue
        at = e.at.astimezone(CENTER_TZ)
        if not since <= at < until:
            continue
        t = tallies.setdefault(e.actor, _Tally())
        if e.event is Event.DOWNLOAD_REFUSED:
            t.refused += 1
            continue
        t.add_row(e, at)
        if e.event is Event.DOWNLOADED:
            t.downloads += 1
            continue
        action = str(e.detail.get("action", "?"))
        before = e.detail.get("previous_window_views", 0)
        t.view_rows[action] += 1
        t.views[action] += 1 + (max(0, before - 1) if isinstance(before, int) else 0)
    active = [t.rows for t in tallies.values() if t.rows]
    median = float(statistics.median(active)) if active else 0.0
    accounts = [_activity(name, t, median, config) for name, t in tallies.items()]
    accounts.sort(key=lambda a: (not a.flagged, -a.rows, a.account))
    return AccessReport(
        month=name,
        since=since,
        until=until,
        accounts=tuple(accounts),
        median_rows=median,
        rows=sum(active),
        reviewed=reviewed,
        config=config,
    )


def _activity(account: str, t: _Tally, median: float, config: AccessLogConfig) -> AccountActivity:
    flagged = t.rows >= config.flag_min_rows and t.rows > config.flag_factor * median
    reason = (
        f"{t.rows} rows, {t.rows / median:.1f} times the month's median of {median:g} "
        f"(flagged above {config.flag_factor:g} times and from {config.flag_min_rows} rows)"
        if flagged
        else ""
    )
    return AccountActivity(
        account=account,
        rows=t.rows,
        views=dict(sorted(t.views.items())),
        view_rows=dict(sorted(t.view_rows.items())),
        downloads=t.downloads,
        refused_downloads=t.refused,
        exports=tuple(sorted(t.exports)),
        cameras=tuple(sorted(t.cameras)),
        clients=tuple(sorted(t.clients)),
        first=t.first,
        last=t.last,
        off_hours_rows=t.off_hours,
        flagged=flagged,
        reason=reason,
    )


# ---------------------------------------------------------------- months


def month_span(year: int, month: int) -> tuple[datetime, datetime]:
    """The month's first instant and the next month's, in the center's time."""
    if not 1970 <= year <= 9998 or not 1 <= month <= 12:
        raise InvalidInput(f"expected a month from 1970-01 to 9998-12, got {year}-{month:02d}")
    start = datetime(year, month, 1, tzinfo=CENTER_TZ)
    nxt = datetime(year + month // 12, month % 12 + 1, 1, tzinfo=CENTER_TZ)
    return start, nxt


def month_name(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


def parse_month(text: str) -> tuple[int, int]:
    """(year, month) of 'YYYY-MM'; InvalidInput naming the form otherwise."""
    y, sep, m = text.strip().partition("-")
    if not (sep and len(y) == 4 and y.isdigit() and len(m) == 2 and m.isdigit()):
        raise InvalidInput(f"expected a month as YYYY-MM, such as 2026-11, got {text!r}")
    month_span(int(y), int(m))
    return int(y), int(m)


def _local(at: datetime) -> str:
    return at.astimezone(CENTER_TZ).strftime("%Y-%m-%d %H:%M %Z")
