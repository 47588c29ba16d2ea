"""redactor-audit access-log: the monthly review of who viewed or downloaded footage.

    redactor-audit access-log --month YYYY-MM [--db PATH] [--config F] [--json]
    redactor-audit access-log --month YYYY-MM --reviewed-by NAME --note TEXT

The first prints the month's access log per account (redactor/ledger/access_log.py),
flagged accounts first, and whether the month was reviewed. The second records the
review as a ledger row. Exit codes: 0 done, 1 refused (the month was reviewed
already, or is not over), 2 bad arguments or files.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from redactor.config import load_config
from redactor.errors import Conflict, FailedPrecondition, RedactorError
from redactor.export import keys
from redactor.ledger import Ledger
from redactor.ledger.access_log import AccessLog, AccessReport, parse_month
from redactor.ledger.calendar import CENTER_TZ

COMMAND = "access-log"


def _month(text: str) -> tuple[int, int]:
    try:
        return parse_month(text)
    except RedactorError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Adds `access-log` to redactor-audit's subcommands (`subparsers` from add_subparsers)."""
    p: argparse.ArgumentParser = subparsers.add_parser(
        COMMAND,
        help="the monthly access-log review: who viewed or downloaded footage",
        description="Per account, the month's views and downloads of footage (the center's "
        "time, KST), flagged accounts first; with --reviewed-by and --note, records the "
        "month's review on the ledger.",
    )
    # SUPPRESS: given here or before the command, the same option; neither overwrites the other
    p.add_argument("--config", type=Path, default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    p.add_argument("--month", type=_month, required=True, help="YYYY-MM, such as 2026-11")
    p.add_argument("--db", type=Path, help="ledger SQLite file (default: export.ledger_path)")
    p.add_argument("--json", action="store_true", help="the report as one JSON object")
    p.add_argument("--reviewed-by", help="record the month's review by this person")
    p.add_argument("--note", help="what the review found (with --reviewed-by)")
    return p


def run(args: argparse.Namespace) -> int:
    if (args.reviewed_by is None) != (args.note is None):
        print(f"redactor-audit: {COMMAND}: give --reviewed-by and --note together", file=sys.stderr)
        return 2
    year, month = args.month
    try:
        config = load_config(getattr(args, "config", None))
        db = args.db or config.export.ledger_path
        key = _signing_key(config.export.key_path) if args.reviewed_by is not None else None
        with Ledger(db, signing_key=key, create=False) as ledger:
            log = AccessLog(ledger, config.access_log, lambda: datetime.now(UTC))
            if args.reviewed_by is not None:
                row = log.mark_reviewed(year, month, args.reviewed_by, args.note)
                print(
                    f"recorded: the access log of {row.detail['month']} reviewed by {row.actor} "
                    f"(ledger row {row.seq}; {row.detail['accounts']} accounts, "
                    f"{len(row.detail['flagged'])} flagged)"
                )
                return 0
            report = log.report(year, month)
    except (Conflict, FailedPrecondition) as e:
        print(f"redactor-audit: {e}", file=sys.stderr)
        return 1
    except (RedactorError, OSError, ValueError) as e:
        print(f"redactor-audit: {e}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False, sort_keys=True))
    else:
        sys.stdout.write("".join(line + "\n" for line in report_lines(report)))
    return 0


def _signing_key(key_path: Path) -> Ed25519PrivateKey:
    """The service's key: every ledger row is signed with it, so an unsigned review row
    would fail `ledger verify --key`. Never creates one."""
    if not key_path.is_file():
        raise FailedPrecondition(
            f"recording a review needs the service's signing key at {key_path} (export.key_path): "
            "ledger rows are signed with it. Run this where the service's key is, or pass the "
            "service's --config"
        )
    return keys.load_or_create(key_path)


def report_lines(report: AccessReport) -> list[str]:
    """The report for a terminal: a header, one line per account, flag reasons, the review."""
    cfg = report.config
    lines = [
        f"access log {report.month} (KST): {report.rows} rows, {len(report.accounts)} accounts, "
        f"median {report.median_rows:g} rows; flagged above {cfg.flag_factor:g} x the median "
        f"and from {cfg.flag_min_rows} rows",
    ]
    head = ("", "account", "rows", "views", "downloads", "exports", "cameras", "clients")
    table: list[tuple[str, ...]] = [head]
    for a in report.accounts:
        views = ", ".join(f"{k} {v}" for k, v in a.views.items()) or "-"
        table.append(
            (
                "FLAG" if a.flagged else "",
                a.account,
                str(a.rows),
                views,
                str(a.downloads)
                + (f" (+{a.refused_downloads} refused)" if a.refused_downloads else ""),
                str(len(a.exports)),
                str(len(a.cameras)),
                ", ".join(a.clients) or "-",
            )
        )
    widths = [max(len(row[i]) for row in table) for i in range(len(head))]
    lines += [
        "  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in table
    ]
    for a in report.accounts:
        if a.flagged:
            lines.append(f"FLAG {a.account}: {a.reason}")
        if a.off_hours_rows:
            lines.append(f"note {a.account}: {a.off_hours_rows} rows outside 07:00-21:00")
    if report.reviewed is None:
        lines.append(
            f"not reviewed yet: redactor-audit {COMMAND} --month {report.month} "
            "--reviewed-by NAME --note TEXT"
        )
    else:
        r = report.reviewed
        at = r.at.astimezone(CENTER_TZ).strftime("%Y-%m-%d %H:%M %Z")
        lines.append(f"reviewed by {r.by} at {at} (ledger row {r.seq}): {r.note}")
    return lines
