"""redactor-audit: what an auditor runs to check exports and the provision ledger.

    redactor-audit verify OUT.mp4 MANIFEST.json [--key signing_key.pem.pub]
    redactor-audit ledger verify [--db PATH] [--key PUB.pem] [--head SEQ:HASH]
    redactor-audit ledger show [--db PATH] [--camera ID] [--recipient NAME]
                               [--export ID] [--since DATE] [--until DATE] [--json]

`verify` checks the manifest's Ed25519 signature and the video's SHA-256 and
says which failed (exit 1 if any). `ledger verify` walks the hash chain and
names the first broken row (exit 1). `ledger show` lists the provisions.
Paths default to the configuration's (`--config FILE`, else the embedded defaults).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from redactor.config import load_config
from redactor.errors import RedactorError
from redactor.export import keys
from redactor.export.manifest import verify as verify_export
from redactor.ledger import Ledger


def _when(text: str) -> datetime:
    """An ISO date or date-time; naive values are taken as UTC."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an ISO date such as 2024-05-01 or 2024-05-01T08:00:00+09:00, got {text!r}"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


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


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        cfg = load_config(args.config).export
        if args.command == "verify":
            return _verify(args)
        db = args.db or cfg.ledger_path
        if args.ledger_command == "verify":
            return _ledger_verify(args, db, keys.public_path(cfg.key_path))
        return _ledger_show(args, db)
    except (RedactorError, OSError, ValueError) as e:
        print(f"redactor-audit: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
