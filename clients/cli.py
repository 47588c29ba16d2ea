"""`redactor-client`: redact a video file or an image through a running redactor, and
request and download exports (auditors: `redactor-client export --help`)."""

from __future__ import annotations

import argparse
import sys
import time
from fractions import Fraction
from pathlib import Path

import grpc

from redactor.clients.client import DownloadError, OutFrame, RedactorClient
from redactor.clients.connect import (
    UsageError,
    add_connection_args,
    client_from_args,
    rpc_error_line,
)
from redactor.clients.export_cli import add_export_parser, run_export
from redactor.clients.video import Mp4Writer, probe, read_i420
from redactor.v1 import redactor_pb2 as pb

FILE_LATENCY_BUDGET_MS = 60_000
_IMAGE_FORMATS = {
    ".jpg": pb.PIXEL_FORMAT_JPEG,
    ".jpeg": pb.PIXEL_FORMAT_JPEG,
    ".png": pb.PIXEL_FORMAT_PNG,
}


def redact_video(
    client: RedactorClient, src: Path, dst: Path, recipient: str, service: str, camera: str
) -> dict[str, float]:
    """Streams `src` through the service as I420 frames and writes H.264 MP4 to `dst`."""
    info = probe(src)
    to_us = info.time_base * 1_000_000
    pts_by_seq: dict[int, int] = {}

    def frames() -> object:
        for f in read_i420(src):
            pts_by_seq[f.index] = f.pts
            yield OutFrame(f.index, int(round(Fraction(f.pts) * to_us)), f.i420)

    header = pb.StreamHeader(
        camera_id=camera,
        recipient=recipient,
        service=service,
        format=pb.PIXEL_FORMAT_I420,
        width=info.width,
        height=info.height,
        fps=float(info.rate),
        # a file is not live: frames may wait their turn rather than be masked for lateness
        latency_budget_ms=FILE_LATENCY_BUDGET_MS,
    )
    writer = Mp4Writer(dst, info)
    counts = {"frames": 0, "fully_masked": 0, "dropped": 0, "detections": 0}
    t0 = time.perf_counter()
    try:
        for out in client.stream(header, frames()):
            counts["frames"] += 1
            counts["detections"] += len(out.detections)
            if out.status == pb.FRAME_STATUS_DROPPED:
                counts["dropped"] += 1
                continue
            if out.status == pb.FRAME_STATUS_FULLY_MASKED:
                counts["fully_masked"] += 1
            writer.write_i420(out.data, pts_by_seq.pop(out.seq))
    finally:
        writer.close()
    elapsed = time.perf_counter() - t0
    return {**counts, "seconds": elapsed, "fps": counts["frames"] / elapsed if elapsed else 0.0}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="redactor-client",
        description="Redact files through a redactor server; request exports.",
    )
    add_connection_args(parser)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    v = sub.add_parser("redact", help="redact a video file into an H.264 MP4 (no audio)")
    v.add_argument("input", type=Path, help="video file PyAV can open (its audio is not carried)")
    v.add_argument("-o", "--output", type=Path, required=True, help="H.264 MP4 to write")
    v.add_argument("--recipient", default="police-112", help="receiving agency; chooses the policy")
    v.add_argument("--service", default="", help="service within the agency")
    v.add_argument("--camera", default="file", help="camera id (static zones are per camera)")
    i = sub.add_parser("image", help="redact one JPEG or PNG image")
    i.add_argument("input", type=Path, help="a .jpg/.jpeg/.png file")
    i.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        help="where to write the redacted image (same format)",
    )
    i.add_argument("--policy", default="", help="policy name (default: the server's default)")
    sub.add_parser("health", help="print the server's health status (SERVING when it takes calls)")
    add_export_parser(sub)
    args = parser.parse_args(argv)

    try:
        if args.command in ("redact", "image") and not args.input.is_file():
            raise UsageError(f"no such file: {args.input}")
        with client_from_args(args) as client:
            return _run(client, args)
    except UsageError as e:
        print(f"redactor-client: {e}", file=sys.stderr)
        return 2
    except grpc.RpcError as e:
        print(f"redactor-client: {rpc_error_line(e)}", file=sys.stderr)
        return 1
    except DownloadError as e:
        print(f"redactor-client: download incomplete, nothing written: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("redactor-client: interrupted", file=sys.stderr)
        return 130


def _run(client: RedactorClient, args: argparse.Namespace) -> int:
    if args.command == "health":
        print(client.health())
        return 0
    if args.command == "export":
        code: int = run_export(client, args)
        return code
    if args.command == "image":
        fmt = _IMAGE_FORMATS.get(args.input.suffix.lower())
        if fmt is None:
            raise UsageError(f"expected a .jpg/.jpeg/.png file, got {args.input.name}")
        resp = client.redact_image(pb.Image(format=fmt, data=args.input.read_bytes()), args.policy)
        args.output.write_bytes(resp.image.data)
        print(
            f"{args.output}: {len(resp.detections)} detections, {len(resp.masks)} masks, "
            f"status {pb.FrameStatus.Name(resp.status)}, {resp.service_ms:.1f} ms"
        )
        return 0
    stats = redact_video(client, args.input, args.output, args.recipient, args.service, args.camera)
    print(
        f"{args.output}: {stats['frames']:.0f} frames in {stats['seconds']:.1f} s ({stats['fps']:.1f} fps), "
        f"{stats['detections']:.0f} detections, {stats['fully_masked']:.0f} fully masked, "
        f"{stats['dropped']:.0f} dropped"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
