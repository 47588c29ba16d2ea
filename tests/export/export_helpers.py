"""Constants and helpers shared by the export tests (fixtures are in conftest.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from support.clips import cut_clip as cut_clip  # the export tests import them from here
from support.clips import source_video as source_video

from redactor.config import Config
from redactor.server.app import RunningServer
from redactor.server.exports import ExportsServicer
from redactor.v1 import redactor_pb2 as pb
from redactor.v1 import redactor_pb2_grpc as pb_grpc

CLIP_SECONDS = 3  # the first 3 s of opencv_vtest.avi (10 fps): 30 frames, fast on 2 cores
CAMERA = "cam-1"
RECORDING_NAME = "20240501T080000.avi"  # the recording's start time, UTC, in its name
RECORDING = f"{CAMERA}/{RECORDING_NAME}"
AUDITOR = (("authorization", "Bearer auditor-dev-token"),)
OPERATOR = (("authorization", "Bearer operator-dev-token"),)
FILL_POLICY = "export-fill"  # the export policy with solid fill: masked pixels are unambiguous
WAIT_S = 120.0
# H.264 with a keyframe every second (10 fps) and B-frames: several segments in a few seconds
SEGMENTED_SOURCE = "intel_one-by-one-person-detection.mp4"

MakeConfig = Callable[..., Config]


@dataclass
class Served:
    running: RunningServer
    stub: pb_grpc.ExportsStub
    exports: ExportsServicer
    config: Config


def request(**fields: object) -> pb.CreateExportRequest:
    """A complete request for the test recording; `fields` override."""
    base: dict[str, object] = {
        "recording": RECORDING,
        "recipient": "police-112",
        "officer": "Insp. Kim 1234",
        "purpose": "hit-and-run investigation",
        "legal_basis": "PIPA art. 18(2)7",
    }
    base.update(fields)
    return pb.CreateExportRequest(**base)  # type: ignore[arg-type]


def wait_done(stub: pb_grpc.ExportsStub, export_id: str) -> list[pb.ExportJob]:
    """Every update WatchExport sends, until the job ends."""
    return list(
        stub.WatchExport(pb.WatchExportRequest(id=export_id), metadata=AUDITOR, timeout=WAIT_S)
    )


def download(
    stub: pb_grpc.ExportsStub,
    export_id: str,
    artifact: pb.ExportArtifact,
    dst: Path,
    metadata: tuple[tuple[str, str], ...] = AUDITOR,
) -> Path:
    data = bytearray()
    for chunk in stub.DownloadExport(
        pb.DownloadExportRequest(id=export_id, artifact=artifact), metadata=metadata, timeout=WAIT_S
    ):
        assert chunk.offset == len(data)
        data += chunk.data
        assert chunk.total_size >= len(data)
    dst.write_bytes(bytes(data))
    return dst
