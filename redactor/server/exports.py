"""The Exports service: thin. Roles, protobuf ⇄ domain, and the refusals' ledger rows.

Roles: only `auditor` may create or download exports; `auditor` and `operator`
may get, list and watch them. A refused create or download is written to the
ledger before the error goes back (PERMISSION_DENIED / UNAUTHENTICATED, or the
validation error's code). Everything else lives in redactor.export.service.

WatchExport sends the job at once and after every change until it ends:
`frames_done` counts frames masked and written, `frames_detected` frames
detected, `segments_*` the segments detected, planned and encoded; `progress`
covers both passes (detection, then masking and encoding), half each.
"""

from __future__ import annotations

from collections.abc import Iterator

import grpc

from redactor.config import Config
from redactor.errors import InvalidInput, PolicyDenied, Unauthenticated
from redactor.export.service import Clock, ExportService, utc_now
from redactor.server.auth import caller_identity, require_role
from redactor.server.serde_exports import (
    artifact_from_proto,
    download_to_proto,
    export_job_to_proto,
    export_request_from_proto,
)
from redactor.server.status import streaming, unary
from redactor.v1 import redactor_pb2 as pb
from redactor.v1 import redactor_pb2_grpc as pb_grpc

CREATE_ROLES = ("auditor",)
READ_ROLES = ("auditor", "operator")


class ExportsServicer(pb_grpc.ExportsServicer):
    def __init__(self, config: Config, clock: Clock = utc_now) -> None:
        self.config = config
        self.service = ExportService(config, clock=clock)

    def close(self) -> None:
        self.service.close()

    @unary
    def CreateExport(
        self, request: pb.CreateExportRequest, context: grpc.ServicerContext
    ) -> pb.ExportJob:
        actor = caller_identity(context, self.config.auth)
        try:
            require_role(context, self.config.auth, *CREATE_ROLES)
            req = export_request_from_proto(request)
        except (PolicyDenied, Unauthenticated, InvalidInput) as e:
            self.service.refuse(export_request_from_proto(request, lenient=True), actor, str(e))
            raise
        return export_job_to_proto(self.service.create(req, actor))

    @unary
    def GetExport(
        self, request: pb.GetExportRequest, context: grpc.ServicerContext
    ) -> pb.ExportJob:
        require_role(context, self.config.auth, *READ_ROLES)
        return export_job_to_proto(self.service.get(request.id))

    @streaming
    def WatchExport(
        self, request: pb.WatchExportRequest, context: grpc.ServicerContext
    ) -> Iterator[pb.ExportJob]:
        require_role(context, self.config.auth, *READ_ROLES)
        for job in self.service.watch(request.id, context.is_active):
            yield export_job_to_proto(job)

    @unary
    def ListExports(
        self, request: pb.ListExportsRequest, context: grpc.ServicerContext
    ) -> pb.ListExportsResponse:
        require_role(context, self.config.auth, *READ_ROLES)
        jobs = self.service.list_jobs(request.camera_id, request.recipient)
        return pb.ListExportsResponse(jobs=[export_job_to_proto(j) for j in jobs])

    @streaming
    def DownloadExport(
        self, request: pb.DownloadExportRequest, context: grpc.ServicerContext
    ) -> Iterator[pb.DownloadChunk]:
        actor = caller_identity(context, self.config.auth)
        try:
            require_role(context, self.config.auth, *CREATE_ROLES)
            artifact = artifact_from_proto(request.artifact)
        except (PolicyDenied, Unauthenticated, InvalidInput) as e:
            self.service.refuse_download(
                request.id, str(request.artifact), actor, str(e), client=context.peer()
            )
            raise
        download = self.service.open_download(request.id, artifact, actor, client=context.peer())
        yield from download_to_proto(download, self.config.export.chunk_bytes)
