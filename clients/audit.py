"""redactor-audit: what an auditor runs to check exports and the provision ledger.

    redactor-audit verify OUT.mp4 MANIFEST.json [--key signing_key.pem.pub]
    redactor-audit ledger verify [--db PATH] [--key PUB.pem] [--head SEQ:HASH]
    redactor-audit ledger show [--db PATH] [--camera ID] [--recipient NAME]
                               [--export ID] [--since DATE] [--until DATE] [--json]
    redactor-audit register [stats] [--db PATH] [--year Y | --since D --until D]
                            [--kind K] [--camera ID] [--recipient R] [--case ID]
                            [--format table|csv|xlsx|json] [--out FILE] [--lang ko|en|both]
    redactor-audit access-log --month YYYY-MM [--db PATH] [--json]
                              [--reviewed-by NAME --note TEXT]

`verify` checks the manifest's Ed25519 signature and the video's SHA-256 and
says which failed (exit 1 if any). `ledger verify` walks the hash chain and
names the first broken row (exit 1). `ledger show` lists the provisions.
`register` shows the register (관리대장) built from the ledger, or its statistics
(docs/register.md); bad dates or kinds exit 2. `access-log` lists a month's views and
downloads of footage per account, flagged accounts first, and records its review.
Paths default to the configuration's (`--config FILE`, else the embedded defaults).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import unicodedata
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from redactor.clients import access_report
from redactor.config import load_config
from redactor.errors import RedactorError
from redactor.export import keys
from redactor.export.manifest import verify as verify_export
from redactor.ledger import Ledger
from redactor.ledger import register as reg
from redactor.ledger.calendar import CENTER_TZ
from redactor.ledger.register_files import (
    cells,
    stats_lines,
    write_csv,
    write_stats_csv,
    write_xlsx,
)


def _when(text: str) -> datetime:
    """An ISO date or date-time; naive values are taken as UTC."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an ISO date such as 2024-05-01 or 2024-05-01T08:00:00+09:00, got {text!r}"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _local_when(text: str) -> datetime:
    """An ISO date or date-time for the register; naive values are the center's time."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an ISO date such as 2025-03-01 or 2025-03-01T08:00:00+09:00, got {text!r}"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=CENTER_TZ)


def _year(text: str) -> int:
    if not text.isdigit() or not 1970 <= int(text) <= 9998:
        raise argparse.ArgumentTypeError(
            f"expected a year such as {date.today().year}, got {text!r}"
        )
    return int(text)


def _kind(text: str) -> str:
    try:
        return reg.kind_of(text)
    except RedactorError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _head(text: str) -> tuple[int, str]:
    seq, _, h = text.partition(":")
    if not seq.isdigit() or len(h) != 64:
        raise argparse.ArgumentTypeError(
            f"expected SEQ:SHA256HEX (as printed by ledger verify), got {text!r}"
        )
    return int(seq), h.lower()


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="redactor-audit", description=__doc__.split("\n\n")[0])
    p.add_argument("--config", type=Path, help="service configuration (TOML) for default paths")
    sub = p.add_subparsers(dest="command", required=True)

    v = sub.add_parser("verify", help="check an export's video against its signed manifest")
    v.add_argument("video", type=Path)
    v.add_argument("manifest", type=Path)
    v.add_argument(
        "--key", type=Path, help="the center's public key (PEM) the manifest must be signed by"
    )

    led = sub.add_parser("ledger", help="the provision ledger")
    lsub = led.add_subparsers(dest="ledger_command", required=True)
    lv = lsub.add_parser("verify", help="walk the hash chain; name the first broken row")
    lv.add_argument("--db", type=Path, help="ledger SQLite file (default: export.ledger_path)")
    lv.add_argument(
        "--key",
        type=Path,
        help="public key (PEM) to check row signatures (default: export.key_path + .pub where present)",
    )
    lv.add_argument(
        "--head", type=_head, help="SEQ:HASH noted earlier; fails if it is no longer in the chain"
    )
    ls = lsub.add_parser("show", help="list provisions")
    ls.add_argument("--db", type=Path, help="ledger SQLite file (default: export.ledger_path)")
    ls.add_argument("--camera")
    ls.add_argument("--recipient")
    ls.add_argument("--export", dest="export_id")
    ls.add_argument("--since", type=_when, help="from this time (inclusive)")
    ls.add_argument("--until", type=_when, help="up to this time (exclusive)")
    ls.add_argument("--json", action="store_true", help="one JSON object per line")

    r = sub.add_parser(
        "register",
        help="the register (관리대장) of use, provision, access and destruction, or its statistics",
        description="The register built from the ledger, one row per use (이용), provision (제공), "
        "access (열람) or destruction (파기); `register stats` counts its rows. Dates without an "
        "offset are the center's time (KST).",
    )
    r.add_argument(
        "view", nargs="?", choices=("rows", "stats"), default="rows", help="rows (default) or stats"
    )
    # SUPPRESS: given here or before `register`, the same option; neither overwrites the other
    r.add_argument(
        "--config",
        type=Path,
        default=argparse.SUPPRESS,
        help="service configuration (TOML): the ledger path and the internal recipients (이용)",
    )
    r.add_argument("--db", type=Path, help="ledger SQLite file (default: export.ledger_path)")
    r.add_argument("--year", type=_year, help="one calendar year (KST)")
    r.add_argument("--since", type=_local_when, help="from this date or time (inclusive)")
    r.add_argument("--until", type=_local_when, help="up to this date or time (exclusive)")
    r.add_argument(
        "--kind",
        type=_kind,
        help="use, provision, access or destruction (or 이용, 제공, 열람, 파기)",
    )
    r.add_argument("--camera")
    r.add_argument("--recipient")
    r.add_argument("--case", dest="case_id")
    r.add_argument(
        "--format",
        choices=("table", "csv", "xlsx", "json"),
        default="table",
        help="table (some columns, for a terminal), csv and xlsx (every column; xlsx also has "
        "the statistics), json (one object per line)",
    )
    r.add_argument(
        "--out", type=Path, help="write here instead of standard output (xlsx: required)"
    )
    r.add_argument(
        "--lang", choices=reg.LANGS, default="both", help="column names and codes: ko, en or both"
    )
    access_report.add_parser(sub)
    return p


def _verify(args: argparse.Namespace) -> int:
    trusted = keys.load_public(args.key) if args.key else None
    result = verify_export(args.video, args.manifest, trusted)
    for c in result.checks:
        print(f"{'OK    ' if c.ok else 'FAILED'} {c.name}: {c.message}")
    if result.ok:
        print(
            f"VERIFIED: {args.video.name} is the export its manifest describes"
            + (
                ""
                if trusted
                else " (signer not pinned: pass --key to check it is the center's key)"
            )
        )
        return 0
    print(f"NOT VERIFIED: {', '.join(c.name for c in result.failed)} failed", file=sys.stderr)
    return 1


def _ledger_verify(args: argparse.Namespace, db: Path, default_pub: Path) -> int:
    pub_path = args.key or (default_pub if default_pub.is_file() else None)
    public = keys.load_public(pub_path) if pub_path else None
    with Ledger(db, create=False) as ledger:
        r = ledger.verify(public, args.head)
    sig = (
        f", signatures checked with {pub_path}" if public else ", signatures not checked (no --key)"
    )
    if r.ok:
        print(f"OK: {r.rows} rows, chain intact{sig}")
        print(f"head: {r.head_seq}:{r.head_hash}  (note it; --head checks it later)")
        return 0
    print(f"BROKEN at row {r.broken_seq}: {r.reason}", file=sys.stderr)
    print(f"rows 1..{r.head_seq} before it are intact{sig}", file=sys.stderr)
    return 1


def _ledger_show(args: argparse.Namespace, db: Path) -> int:
    with Ledger(db, create=False) as ledger:
        rows = ledger.entries(
            camera_id=args.camera,
            recipient=args.recipient,
            export_id=args.export_id,
            since=args.since,
            until=args.until,
        )
    for e in rows:
        if args.json:
            print(
                json.dumps(
                    {
                        "seq": e.seq,
                        "at": e.at.isoformat(),
                        "event": str(e.event),
                        "export_id": e.export_id,
                        "actor": e.actor,
                        "camera_id": e.camera_id,
                        "recipient": e.recipient,
                        "detail": e.detail,
                        "hash": e.hash,
                    },
                    ensure_ascii=False,
                    sort_keys=True,
                )
            )
        else:
            detail = json.dumps(e.detail, ensure_ascii=False, sort_keys=True)
            print(
                f"{e.seq:6d}  {e.at.isoformat(timespec='seconds')}  {e.event!s:16s} "
                f"{e.export_id or '-':16s}  {e.camera_id or '-':10s}  {e.recipient or '-':14s} "
                f"{e.actor}  {detail}"
            )
    if not args.json:
        print(f"{len(rows)} rows", file=sys.stderr)
    return 0


# What a terminal shows of a row; csv, xlsx and json carry every column.
_TABLE = (
    "seq",
    "at",
    "kind",
    "camera_id",
    "file",
    "recipient",
    "purpose",
    "legal_basis",
    "form",
    "outcome",
    "in_charge",
    "approved_by",
)


def _register_filter(args: argparse.Namespace) -> reg.RegisterFilter:
    since, until = args.since, args.until
    if args.year is not None:
        since, until = reg.year_span(args.year)
    return reg.RegisterFilter(
        kind=args.kind,
        since=since,
        until=until,
        camera_id=args.camera,
        recipient=args.recipient,
        case_id=args.case_id,
    )


def _register(args: argparse.Namespace, db: Path, internal: Sequence[str]) -> int:
    flt = _register_filter(args)
    with Ledger(db, create=False) as ledger:
        rows = reg.filter_rows(reg.register_rows(ledger.entries(), internal), flt)
    stats = reg.summarize(rows, year=args.year)
    fmt, out, lang = args.format, args.out, args.lang
    if fmt == "xlsx":
        write_xlsx(rows, stats, out, lang)
    elif fmt == "csv":
        target = out or sys.stdout.buffer
        if args.view == "stats":
            write_stats_csv(stats, target, lang)
        else:
            write_csv(rows, target, lang)
    else:
        lines = _register_lines(args.view, fmt, rows, stats, lang)
        text = "".join(line + "\n" for line in lines)
        if out:
            out.write_text(text, encoding="utf-8")
        else:
            sys.stdout.write(text)
    if out:
        print(f"{len(rows)} register rows written to {out}", file=sys.stderr)
    elif fmt == "table" and args.view == "rows":
        print(f"{len(rows)} register rows", file=sys.stderr)
    return 0


def _register_lines(
    view: str, fmt: str, rows: list[reg.RegisterRow], stats: reg.Stats, lang: str
) -> list[str]:
    if view == "stats" and fmt == "json":
        return [json.dumps(dataclasses.asdict(stats), ensure_ascii=False)]
    if view == "stats":
        return _aligned([list(line) for line in stats_lines(stats, lang)])
    if fmt == "json":
        return [json.dumps(_row_json(r), ensure_ascii=False) for r in rows]
    wanted = [i for i, c in enumerate(reg.COLUMNS) if c.field in _TABLE]
    names = reg.header(lang)
    table = [[names[i] for i in wanted]]
    for r in rows:
        values = cells(r, lang)
        table.append([_short(values[i]) for i in wanted])
    return _aligned(table)


def _row_json(row: reg.RegisterRow) -> dict[str, Any]:
    out = dataclasses.asdict(row)
    for k, v in out.items():
        if isinstance(v, datetime):
            out[k] = v.astimezone(CENTER_TZ).isoformat()
    return out


def _short(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="minutes")
    return str(value) or "-"


def _aligned(table: list[list[Any]]) -> list[str]:
    """Columns padded by display width: Hangul takes two cells of a terminal."""

    def width(s: str) -> int:
        return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)

    text = [[str(v) for v in row] for row in table]
    widths = [max(width(row[i]) for row in text) for i in range(len(text[0]))] if text else []
    return [
        "  ".join(v + " " * (w - width(v)) for v, w in zip(row, widths, strict=True)).rstrip()
        for row in text
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == access_report.COMMAND:
        return int(access_report.run(args))
    if args.command == "register":
        if args.year is not None and (args.since or args.until):
            parser.error("register: give --year or --since/--until, not both")
        if args.format == "xlsx" and args.out is None:
            parser.error("register: --format xlsx needs --out FILE (a workbook is not text)")
    try:
        cfg = load_config(args.config).export
        if args.command == "verify":
            return _verify(args)
        db = args.db or cfg.ledger_path
        if args.command == "register":
            return _register(args, db, cfg.review.internal_recipients)
        if args.ledger_command == "verify":
            return _ledger_verify(args, db, keys.public_path(cfg.key_path))
        return _ledger_show(args, db)
    except (RedactorError, OSError, ValueError) as e:
        print(f"redactor-audit: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
