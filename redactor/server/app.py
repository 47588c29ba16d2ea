"""Builds and starts the gRPC server: the Redactor and Exports services, the
standard health service and server reflection."""

from __future__ import annotations

import logging
from concurrent import futures
from dataclasses import dataclass, field
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from redactor.config import Config
from redactor.pipeline.engine import DetectorFactory, Engine
from redactor.server.servicer import RedactorServicer
from redactor.v1 import redactor_pb2 as pb
from redactor.v1 import redactor_pb2_grpc as pb_grpc

log = logging.getLogger(__name__)

SERVICES = (
    pb.DESCRIPTOR.services_by_name["Redactor"].full_name,
    pb.DESCRIPTOR.services_by_name["Exports"].full_name,
)


@dataclass
class RunningServer:
    server: grpc.Server
    port: int
    address: str
    engine: Engine
    health: health.HealthServicer
    closables: list[Any] = field(default_factory=list)

    def stop(self, grace: float | None = None) -> None:
        """Stops taking calls, gives in-flight calls `grace` seconds, releases models."""
        for name in ("", *SERVICES):
            self.health.set(name, health_pb2.HealthCheckResponse.NOT_SERVING)
        self.server.stop(grace).wait()
        for c in self.closables:
            c.close()
        self.engine.close()

    def wait(self) -> None:
        self.server.wait_for_termination()


class _HttpCloser:
    def __init__(self, http: Any) -> None:
        self.http = http

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()


def create_server(
    config: Config,
    address: str | None = None,
    detector_factory: DetectorFactory | None = None,
) -> RunningServer:
    """Loads models, binds `address` (port 0 = any free port) and starts serving.

    `detector_factory` replaces how each profile's detector is built (fault
    injection in tests); by default the configured plugins are used.
    """
    address = address or config.server.address
    engine = Engine(config, detector_factory)
    limit = config.limits.max_message_bytes
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=config.server.workers, thread_name_prefix="rpc"),
        options=[
            ("grpc.max_receive_message_length", limit),
            ("grpc.max_send_message_length", limit),
        ],
    )
    closables: list[Any] = []
    pb_grpc.add_RedactorServicer_to_server(RedactorServicer(config, engine), server)
    try:
        from redactor.server.exports import ExportsServicer
    except ImportError:  # the Exports service is being built; Redactor runs without it
        log.warning("Exports service not available")
    else:
        exports = ExportsServicer(config)
        closables.append(exports)
        pb_grpc.add_ExportsServicer_to_server(exports, server)

    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (*SERVICES, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name, reflection.SERVICE_NAME),
        server,
    )
    try:
        port = server.add_insecure_port(address)
    except RuntimeError as e:
        engine.close()
        raise OSError(f"cannot listen on {address}: {e}") from e
    server.start()
    if config.server.metrics_port:
        from prometheus_client import start_http_server

        http, _thread = start_http_server(config.server.metrics_port, "127.0.0.1", engine.metrics.registry)
        closables.append(_HttpCloser(http))
    for name in ("", *SERVICES):
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    host = address.rsplit(":", 1)[0]
    log.info("redactor serving on %s:%d", host, port)
    return RunningServer(server, port, f"{host}:{port}", engine, health_servicer, closables)
