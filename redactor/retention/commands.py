"""`redactor retention ...`: what is due, the cycle by hand (or its dry run), holds."""

from __future__ import annotations

import argparse
import sqlite3
import sys
from pathlib import Path

from redactor.config import load_config
from redactor.errors import RedactorError
from redactor.retention.holds import Hold
from redactor.retention.service import RetentionService
from redactor.retention.sweep import CYCLE_ACTOR, Due


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        type=Path,
        help="TOML file; its export.archive_root, export.ledger_path and retention.* apply",
    )
    who = argparse.ArgumentParser(add_help=False)
    who.add_argument("--reason", required=True, help="why (recorded on the ledger)")
    who.add_argument("--by", required=True, metavar="NAME", help="who does it (the row's actor)")
    p = sub.add_parser(
        "retention",
        help="recordings past retention, their destruction, and holds that keep them",
        description="A recording is destroyed once its retention (its camera group's days, else "
        "retention.default_days) has passed since it ended, unless a hold keeps it; "
        "every destruction, hold and release is a ledger row (docs/retention.md).",
    )
    act = p.add_subparsers(dest="retention_command", required=True)
    ls = act.add_parser(
        "list",
        parents=[common],
        help="recordings past retention (destroyed next cycle, or kept by a hold)",
    )
    ls.add_argument("--all", action="store_true", help="every recording with its due time")
    run = act.add_parser("run", parents=[common], help="run one retention cycle now")
    run.add_argument(
        "--dry-run", action="store_true", help="list what would be destroyed; change nothing"
    )
    run.add_argument(
        "--by",
        default=CYCLE_ACTOR,
        metavar="NAME",
        help="the rows' actor (default: %(default)s, the cycle)",
    )
    hold = act.add_parser(
        "hold", parents=[common, who], help="keep a recording past retention until released"
    )
    hold.add_argument(
        "recording", help="path under the archive root, e.g. gate-1/20240501T080000.mp4"
    )
    hold.add_argument("--case", default="", metavar="ID", help="the case that asks for it")
    act.add_parser(
        "release", parents=[common, who], help="end a hold (the next cycle may destroy it)"
    ).add_argument("hold_id", type=int)
    act.add_parser("holds", parents=[common], help="active holds").add_argument(
        "--all", action="store_true", help="released ones too"
    )
    act.add_parser(
        "destroy",
        parents=[common, who],
        help="destroy one recording before its time (refused while held)",
    ).add_argument("recording")


def main(args: argparse.Namespace) -> int:
    """Runs a parsed `redactor retention ...`; errors print `redactor retention: ...`, return 2."""
    try:
        cfg = load_config(args.config)
        with RetentionService.open(cfg) as svc:
            return _run(args, svc)
    except (RedactorError, OSError, sqlite3.Error) as e:
        print(f"redactor retention: {e}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace, svc: RetentionService) -> int:
    cmd = args.retention_command
    if cmd == "list":
        plan = svc.retention.plan()
        shown = plan if args.all else [d for d in plan if d.past_due]
        print("RECORDING\tGROUP\tDAYS\tDUE_AT\tSTATE")
        for d in shown:
            print(
                f"{d.recording.relative}\t{d.group}\t{d.days}\t{d.due_at.isoformat()}\t{_state(d)}"
            )
        due = sum(1 for d in plan if d.destroy)
        held = sum(1 for d in plan if d.past_due and d.holds)
        print(
            f"{len(plan)} recordings: {due} past retention to destroy, {held} past it but held",
            file=sys.stderr,
        )
    elif cmd == "run":
        r = svc.retention.run(actor=args.by, dry_run=args.dry_run)
        verb = "would destroy" if r.dry_run else "destroyed"
        for e in r.recorded_late:
            print(f"recorded late\t{e.detail.get('file')}\t(row {e.seq})")
        rows = {str(e.detail.get("file")): e.seq for e in r.rows}
        for d in r.destroyed:
            row = f"\t(row {rows[d.recording.relative]})" if d.recording.relative in rows else ""
            print(f"{verb}\t{d.recording.relative}\tdue {d.due_at.isoformat()}{row}")
        for d in r.kept:
            print(f"kept\t{d.recording.relative}\t{_holds(d.holds)}")
        for d, why in r.failed:
            print(f"failed\t{d.recording.relative}\t{why}", file=sys.stderr)
        tail = "; dry run: nothing was destroyed or recorded" if r.dry_run else ""
        print(
            f"{len(r.destroyed)} {verb}, {len(r.kept)} kept by holds, {len(r.failed)} failed, "
            f"{r.not_due} within retention{tail}",
            file=sys.stderr,
        )
        return 1 if r.failed else 0
    elif cmd == "hold":
        h = svc.holds.place(args.recording, args.reason, args.by, case_id=args.case)
        print(f"hold {h.id} placed on {h.recording}")
    elif cmd == "release":
        h = svc.holds.release(args.hold_id, args.by, args.reason)
        print(f"hold {h.id} on {h.recording} released")
    elif cmd == "holds":
        holds = svc.holds.all() if args.all else svc.holds.active()
        print("ID\tRECORDING\tCASE\tPLACED_BY\tPLACED_AT\tREASON\tRELEASED")
        for h in holds:
            released = (
                f"{h.released_at.isoformat()} by {h.released_by}: {h.release_reason}"
                if h.released_at is not None
                else ""
            )
            print(
                f"{h.id}\t{h.recording}\t{h.case_id}\t{h.placed_by}\t"
                f"{h.placed_at.isoformat()}\t{h.reason}\t{released}"
            )
    elif cmd == "destroy":
        e = svc.retention.destroy(args.recording, args.by, args.reason)
        print(f"destroyed {e.detail.get('file')} (row {e.seq})")
    return 0


def _holds(holds: tuple[Hold, ...]) -> str:
    return "; ".join(
        f"hold {h.id}" + (f" (case {h.case_id})" if h.case_id else "") + f": {h.reason}"
        for h in holds
    )


def _state(d: Due) -> str:
    if d.holds:
        return ("held past due: " if d.past_due else "held: ") + _holds(d.holds)
    return "past due: destroyed next cycle" if d.past_due else "within retention"
