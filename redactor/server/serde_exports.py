"""Protobuf ⇄ domain for the Exports service. redactor.export never sees protobuf."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

from google.protobuf.timestamp_pb2 import Timestamp

from redactor.errors import InvalidInput
from redactor.export.jobs import ExportJob, ExportRequest, Subject
from redactor.export.service import Artifact, Download
from redactor.v1 import redactor_pb2 as pb

ARTIFACTS: dict[int, Artifact] = {
    pb.EXPORT_ARTIFACT_VIDEO: "video",
    pb.EXPORT_ARTIFACT_MANIFEST: "manifest",
}


def _time(msg: pb.CreateExportRequest, name: str, lenient: bool) -> datetime | None:
    if not msg.HasField(name):
        return None
    try:
        ts: Timestamp = getattr(msg, name)
        value: datetime = ts.ToDatetime(tzinfo=UTC)
        return value
    except (ValueError, OverflowError) as e:
        if lenient:
            return None
        raise InvalidInput(f"{name} is not a valid timestamp: {e}") from e


def export_request_from_proto(msg: pb.CreateExportRequest, lenient: bool = False) -> ExportRequest:
    """Converts without judging completeness (ExportRequest.validate does that).

    `lenient`: a malformed timestamp becomes None instead of an error, so a refusal
    can still be put on the ledger with what the request said.
    """
    subject = None
    if msg.HasField("subject"):
        b = msg.subject.box
        subject = Subject(int(msg.subject.timestamp_us), (b.x0, b.y0, b.x1, b.y1))
    return ExportRequest(
        camera_id=msg.camera_id,
        start=_time(msg, "start", lenient),
        end=_time(msg, "end", lenient),
        recording=msg.recording,
        recipient=msg.recipient,
        officer=msg.officer,
        purpose=msg.purpose,
        legal_basis=msg.legal_basis,
        policy=msg.policy,
        expiry_days=int(msg.expiry_days),
        subject=subject,
    )


def export_request_to_proto(r: ExportRequest) -> pb.CreateExportRequest:
    msg = pb.CreateExportRequest(
        camera_id=r.camera_id,
        recording=r.recording,
        recipient=r.recipient,
        officer=r.officer,
        purpose=r.purpose,
        legal_basis=r.legal_basis,
        policy=r.policy,
        expiry_days=r.expiry_days,
    )
    if r.start is not None:
        msg.start.FromDatetime(r.start)
    if r.end is not None:
        msg.end.FromDatetime(r.end)
    if r.subject is not None:
        x0, y0, x1, y1 = r.subject.box
        msg.subject.timestamp_us = r.subject.timestamp_us
        msg.subject.box.CopyFrom(pb.Box(x0=x0, y0=y0, x1=x1, y1=y1))
    return msg


def export_job_to_proto(j: ExportJob) -> pb.ExportJob:
    msg = pb.ExportJob(
        id=j.id,
        state=pb.ExportState.Value(f"EXPORT_STATE_{j.state.name}"),
        progress=j.progress,
        frames_done=j.frames_done,
        frames_total=j.frames_total,
        frames_detected=j.frames_detected,
        segments_total=j.segments_total,
        segments_detected=j.segments_detected,
        segments_planned=j.segments_planned,
        segments_encoded=j.segments_encoded,
        error=j.error,
        request=export_request_to_proto(j.request),
        output_sha256=j.output_sha256,
        requested_by=j.requested_by,
        review_required=j.review_required,
        approved_by=j.approved_by,
    )
    msg.created_at.FromDatetime(j.created_at)
    msg.expires_at.FromDatetime(j.expires_at)
    return msg


def artifact_from_proto(value: int) -> Artifact:
    try:
        return ARTIFACTS[value]
    except KeyError:
        raise InvalidInput(
            f"artifact must be EXPORT_ARTIFACT_VIDEO or EXPORT_ARTIFACT_MANIFEST, got {value}"
        ) from None


def download_to_proto(download: Download, chunk_bytes: int) -> Iterator[pb.DownloadChunk]:
    """An opened artifact as chunks of at most `chunk_bytes`; closes its file when done."""
    with download.file as f:
        offset = 0
        while data := f.read(chunk_bytes):
            yield pb.DownloadChunk(data=data, offset=offset, total_size=download.size)
            offset += len(data)
