"""`redactor-client export ...`: what an auditor runs to request and fetch exports.

    export create --camera ID --start T --end T | --recording PATH
                  --recipient R --officer O --purpose P --legal-basis B
                  [--policy NAME] [--expiry-days N] [--subject-at S --subject-box X0,Y0,X1,Y1] [--wait]
    export get ID | list [--camera ID] [--recipient R] | watch ID
    export download ID -o DIR [--artifact video|manifest|all] [--force]

The server decides what a request needs (and records every request, refusal and
download on its ledger); this module only converts arguments. Times are ISO 8601
with a UTC offset. `--json` prints jobs as JSON objects, one per line.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from google.protobuf.json_format import MessageToDict

from redactor.clients.client import RedactorClient
from redactor.clients.connect import UsageError
from redactor.v1 import redactor_pb2 as pb

ARTIFACTS = {
    "video": (pb.EXPORT_ARTIFACT_VIDEO, ".mp4"),
    "manifest": (pb.EXPORT_ARTIFACT_MANIFEST, ".manifest.json"),
}
_SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")
EXIT_IN_REVIEW = 3  # --wait / watch: the export waits for a person's review
_TERMINAL = (
    pb.EXPORT_STATE_DONE,
    pb.EXPORT_STATE_FAILED,
    pb.EXPORT_STATE_EXPIRED,
    pb.EXPORT_STATE_REJECTED,
)


# ---------------------------------------------------------------- arguments


def _instant(text: str) -> datetime:
    """ISO 8601 with a UTC offset: a time without one would silently mean UTC or
    local time, and either guess can hand out the wrong hour of footage."""
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected an ISO 8601 time such as 2024-05-01T08:00:00Z or 2024-05-01T17:00:00+09:00, "
            f"got {text!r}"
        ) from None
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(
            f"{text!r} has no UTC offset; add Z (UTC) or the offset, e.g. {text}+09:00"
        )
    return value


def _box(text: str) -> tuple[float, float, float, float]:
    parts = text.split(",")
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        values = ()
    if len(values) != 4:
        raise argparse.ArgumentTypeError(
            f"expected X0,Y0,X1,Y1 in pixels, e.g. 120,80,220,200; got {text!r}"
        )
    return values


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not value >= 0:
        raise argparse.ArgumentTypeError(
            f"expected seconds from the recording's start (>= 0), got {text!r}"
        )
    return value


def _days(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(
            f"expected a whole number of days (0 = the server's default), got {text!r}"
        )
    return int(text)


def add_export_parser(sub: Any) -> None:
    """Adds `export` and its subcommands to redactor-client's subparsers."""
    fmt = argparse.ArgumentParser(add_help=False)
    fmt.add_argument("--json", action="store_true", help="print jobs as JSON objects, one per line")

    e = sub.add_parser(
        "export",
        help="request, follow and download redacted exports (auditors)",
        description=__doc__.split("\n\n")[0],
    )
    esub = e.add_subparsers(dest="export_command", required=True, metavar="COMMAND")

    c = esub.add_parser(
        "create",
        parents=[fmt],
        help="request an export; prints its id",
        description="Request a redacted export of a camera's time range or of one recording. "
        "The server refuses (INVALID_ARGUMENT, on its ledger) a request without "
        "recipient, officer, purpose or legal basis.",
    )
    src = c.add_argument_group("what to export: --camera with --start and --end, or --recording")
    src.add_argument("--camera", default="", metavar="ID", help="camera id, e.g. cam-7")
    src.add_argument(
        "--start",
        type=_instant,
        metavar="TIME",
        help="first instant, ISO 8601 with offset, e.g. 2024-05-01T08:00:00Z",
    )
    src.add_argument(
        "--end", type=_instant, metavar="TIME", help="instant after the last, ISO 8601 with offset"
    )
    src.add_argument(
        "--recording",
        default="",
        metavar="PATH",
        help="one recording, relative to the archive root, e.g. cam-7/20240501T080000.mp4",
    )
    who = c.add_argument_group("the request (the law requires each)")
    who.add_argument(
        "--recipient", default="", metavar="AGENCY", help="receiving agency, e.g. police-112"
    )
    who.add_argument(
        "--officer", default="", metavar="NAME", help="requesting officer, e.g. 'Insp. Kim 1234'"
    )
    who.add_argument("--purpose", default="", metavar="TEXT", help="why the footage is needed")
    who.add_argument(
        "--legal-basis",
        default="",
        metavar="TEXT",
        help="the article relied on, e.g. 'PIPA art. 18(2)7'",
    )
    c.add_argument(
        "--policy",
        default="",
        metavar="NAME",
        help="masking policy (default: the server's export policy)",
    )
    c.add_argument(
        "--expiry-days",
        type=_days,
        default=0,
        metavar="DAYS",
        help="days until the export is deleted (default 0: the server's setting)",
    )
    c.add_argument(
        "--subject-at",
        type=_seconds,
        metavar="SECONDS",
        help="subject access: seconds from the recording's start where --subject-box shows the "
        "person whose track stays visible (everyone else is masked)",
    )
    c.add_argument(
        "--subject-box",
        type=_box,
        metavar="X0,Y0,X1,Y1",
        help="subject access: the person's box in pixels at --subject-at",
    )
    c.add_argument(
        "--wait",
        action="store_true",
        help="follow the export until it ends, progress on stderr; exit 1 unless DONE, "
        "3 where it waits for review",
    )

    g = esub.add_parser("get", parents=[fmt], help="show one export")
    g.add_argument("id", help="export id (as create printed it)")
    ls = esub.add_parser("list", parents=[fmt], help="list exports")
    ls.add_argument("--camera", default="", metavar="ID", help="only this camera")
    ls.add_argument("--recipient", default="", metavar="AGENCY", help="only this recipient")
    w = esub.add_parser(
        "watch",
        parents=[fmt],
        help="follow an export until it ends; exit 1 unless DONE, 3 where it waits for review",
    )
    w.add_argument("id", help="export id")
    d = esub.add_parser(
        "download",
        parents=[fmt],
        help="download an export's video and signed manifest",
        description="Writes DIR/ID.mp4 and DIR/ID.manifest.json, each through a temporary "
        "file renamed once complete; the video's SHA-256 is checked against "
        "the export's. Check them with redactor-audit verify.",
    )
    d.add_argument("id", help="export id")
    d.add_argument(
        "-o",
        "--output-dir",
        type=Path,
        required=True,
        metavar="DIR",
        help="folder to write into (made if absent)",
    )
    d.add_argument(
        "--artifact",
        choices=("all", *ARTIFACTS),
        default="all",
        help="what to download (default: %(default)s)",
    )
    d.add_argument("--force", action="store_true", help="replace files that already exist")


# ---------------------------------------------------------------- output


def _state(job: pb.ExportJob) -> str:
    return str(pb.ExportState.Name(job.state)).removeprefix("EXPORT_STATE_")


def _time(job: Any, name: str) -> str:
    if not job.HasField(name):
        return "-"
    return str(getattr(job, name).ToDatetime(tzinfo=UTC).isoformat(timespec="seconds"))


def _job_json(job: pb.ExportJob) -> str:
    d = MessageToDict(
        job, preserving_proto_field_name=True, always_print_fields_with_no_presence=True
    )
    return json.dumps(d, ensure_ascii=False, sort_keys=True)


BAR_WIDTH = 24


def _bar(share: float) -> str:
    filled = round(max(0.0, min(1.0, share)) * BAR_WIDTH)
    return "[" + "#" * filled + "." * (BAR_WIDTH - filled) + "]"


def _progress(job: pb.ExportJob) -> str:
    line = (
        f"{job.id}  {_state(job):8s} {_bar(job.progress)} {job.progress * 100:5.1f}%  "
        f"{job.frames_done}/{job.frames_total} frames"
    )
    if job.segments_total:
        n = job.segments_total
        line += (
            f"  segments: {job.segments_detected}/{n} detected, {job.segments_planned}/{n} "
            f"planned, {job.segments_encoded}/{n} encoded"
        )
    if job.error:
        line += f"  error: {job.error}"
    return line


def _source(r: pb.CreateExportRequest) -> str:
    if r.recording:
        return f"recording {r.recording}"
    return f"camera {r.camera_id} {_time(r, 'start')} .. {_time(r, 'end')}"


def _details(job: pb.ExportJob) -> str:
    r = job.request
    rows = [
        ("export", job.id),
        (
            "state",
            f"{_state(job)} ({job.progress * 100:.0f}%, {job.frames_done}/{job.frames_total} frames)",
        ),
        ("source", _source(r)),
        ("recipient", r.recipient),
        ("officer", r.officer),
        ("purpose", r.purpose),
        ("legal basis", r.legal_basis),
        ("policy", r.policy or "(server default)"),
        ("requested by", job.requested_by),
        ("created", _time(job, "created_at")),
        ("expires", _time(job, "expires_at")),
    ]
    if r.HasField("subject"):
        b = r.subject.box
        rows.append(
            (
                "subject",
                f"at {r.subject.timestamp_us / 1e6:.3f} s, box {b.x0:g},{b.y0:g},{b.x1:g},{b.y1:g}",
            )
        )
    if job.output_sha256:
        rows.append(("video sha256", job.output_sha256))
    if job.error:
        rows.append(("error", job.error))
    return "\n".join(f"{k:13s} {v}" for k, v in rows)


def _summary_line(job: pb.ExportJob) -> str:
    r = job.request
    return (
        f"{job.id:16s}  {_state(job):8s} {job.progress * 100:4.0f}%  {_time(job, 'created_at'):25s}  "
        f"{r.recipient:14s} {_source(r)}"
    )


# ---------------------------------------------------------------- commands


def _create_request(args: argparse.Namespace) -> pb.CreateExportRequest:
    req = pb.CreateExportRequest(
        camera_id=args.camera,
        recording=args.recording,
        recipient=args.recipient,
        officer=args.officer,
        purpose=args.purpose,
        legal_basis=args.legal_basis,
        policy=args.policy,
        expiry_days=args.expiry_days,
    )
    if args.start is not None:
        req.start.FromDatetime(args.start.astimezone(UTC))
    if args.end is not None:
        req.end.FromDatetime(args.end.astimezone(UTC))
    if (args.subject_at is None) != (args.subject_box is None):
        raise UsageError(
            "--subject-at and --subject-box go together (where and when the subject is)"
        )
    if args.subject_box is not None:
        x0, y0, x1, y1 = args.subject_box
        req.subject.timestamp_us = round(args.subject_at * 1_000_000)
        req.subject.box.CopyFrom(pb.Box(x0=x0, y0=y0, x1=x1, y1=y1))
    return req


def _follow(client: RedactorClient, export_id: str, as_json: bool, out: Any) -> pb.ExportJob | None:
    last = None
    redraw = not as_json and getattr(out, "isatty", lambda: False)()  # a terminal: one line
    try:
        for job in client.watch_export(export_id):
            if redraw:
                print("\r\033[K" + _progress(job), end="", file=out, flush=True)
            else:
                print(_job_json(job) if as_json else _progress(job), file=out, flush=True)
            last = job
            if job.state == pb.EXPORT_STATE_IN_REVIEW:
                break  # a person acts next (the review console), maybe days later
        if redraw:
            print(file=out, flush=True)
    except KeyboardInterrupt:
        print(
            f"redactor-client: stopped following; export {export_id} goes on on the server "
            f"(redactor-client export watch {export_id})",
            file=sys.stderr,
        )
        raise
    return last


def _ended(job: pb.ExportJob | None, export_id: str) -> int:
    if job is not None and job.state == pb.EXPORT_STATE_IN_REVIEW:
        print(
            f"redactor-client: export {export_id} is planned and waits for review and approval "
            f"in the review console (/exports/{export_id}); then `export watch {export_id}`",
            file=sys.stderr,
        )
        return EXIT_IN_REVIEW
    if job is None or job.state not in _TERMINAL:
        print(
            f"redactor-client: export {export_id}: the server stopped reporting before the export ended",
            file=sys.stderr,
        )
        return 1
    if job.state != pb.EXPORT_STATE_DONE:
        print(
            f"redactor-client: export {export_id} {_state(job)}"
            + (f": {job.error}" if job.error else ""),
            file=sys.stderr,
        )
        return 1
    return 0


def _download(client: RedactorClient, args: argparse.Namespace) -> int:
    if not _SAFE_ID.match(args.id):
        raise UsageError(
            f"export id {args.id!r} cannot name a file (letters, digits, '.', '_', '-')"
        )
    folder: Path = args.output_dir
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"-o {folder}: not a folder")
    names = list(ARTIFACTS) if args.artifact == "all" else [args.artifact]
    targets = {n: folder / f"{args.id}{ARTIFACTS[n][1]}" for n in names}
    existing = [str(p) for p in targets.values() if p.exists()]
    if existing and not args.force:
        raise UsageError(
            f"{', '.join(existing)} already exist{'s' if len(existing) == 1 else ''}; "
            "--force replaces"
        )
    folder.mkdir(parents=True, exist_ok=True)
    job = client.get_export(args.id)
    files = []
    for name, path in targets.items():
        expect = job.output_sha256 if name == "video" else ""
        digest = client.download_export(args.id, ARTIFACTS[name][0], path, expect_sha256=expect)
        files.append(
            {"artifact": name, "path": str(path), "bytes": path.stat().st_size, "sha256": digest}
        )
        if not args.json:
            print(f"{path}  {path.stat().st_size} bytes  sha256 {digest}")
    if args.json:
        print(json.dumps({"id": args.id, "files": files}, sort_keys=True))
    elif set(targets) == set(ARTIFACTS):
        print(
            f"check: redactor-audit verify {targets['video']} {targets['manifest']} --key CENTER_PUBLIC_KEY.pem",
            file=sys.stderr,
        )
    return 0


def run_export(client: RedactorClient, args: argparse.Namespace) -> int:
    """Runs one `export` subcommand. grpc.RpcError, DownloadError and UsageError
    go to the caller (redactor-client maps them to exit codes)."""
    cmd = args.export_command
    if cmd == "create":
        req = _create_request(args)
        job = client.create_export(req)
        print(_job_json(job) if args.json else job.id, flush=True)
        if not args.wait:
            return 0
        return _ended(
            _follow(client, job.id, args.json, sys.stdout if args.json else sys.stderr), job.id
        )
    if cmd == "get":
        job = client.get_export(args.id)
        print(_job_json(job) if args.json else _details(job))
        return 0
    if cmd == "list":
        jobs = sorted(
            client.list_exports(args.camera, args.recipient),
            key=lambda j: (j.created_at.seconds, j.created_at.nanos, j.id),
        )
        for job in jobs:
            print(_job_json(job) if args.json else _summary_line(job))
        if not args.json:
            print(f"{len(jobs)} export{'' if len(jobs) == 1 else 's'}", file=sys.stderr)
        return 0
    if cmd == "watch":
        return _ended(_follow(client, args.id, args.json, sys.stdout), args.id)
    if cmd == "download":
        return _download(client, args)
    raise AssertionError(cmd)
