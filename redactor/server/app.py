"""Builds and starts the gRPC server: the Redactor and Exports services, the
standard health service and server reflection."""

from __future__ import annotations

import logging
import socket
import time
from concurrent import futures
from dataclasses import dataclass, field
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from redactor.cases.records import Records
from redactor.cases.service import CaseService
from redactor.config import DEV_TOKENS, Config
from redactor.errors import ConfigError
from redactor.net import is_loopback
from redactor.pipeline.admission import Admission
from redactor.pipeline.engine import DetectorFactory, Engine
from redactor.retention import RetentionService
from redactor.review.service import ReviewService
from redactor.review.users import UserStore
from redactor.server.exports import ExportsServicer
from redactor.server.review import ReviewServicer
from redactor.server.servicer import RedactorServicer
from redactor.v1 import redactor_pb2 as pb
from redactor.v1 import redactor_pb2_grpc as pb_grpc

log = logging.getLogger(__name__)

# Handler threads kept free of live streams: single images, exports, health checks.
RESERVED_WORKERS = 4

SERVICES = (
    pb.DESCRIPTOR.services_by_name["Redactor"].full_name,
    pb.DESCRIPTOR.services_by_name["Exports"].full_name,
    pb.DESCRIPTOR.services_by_name["Review"].full_name,
)


@dataclass
class RunningServer:
    server: grpc.Server
    port: int
    address: str
    engine: Engine
    health: health.HealthServicer
    closables: list[Any] = field(default_factory=list)
    review: ReviewService | None = None
    console_url: str = ""  # the review console, where it is served
    retention: RetentionService | None = None  # .holds (cases place them), .retention (the cycle)
    cases: CaseService | None = None
    admission: Admission | None = None  # live streams by capacity; drains on SIGTERM

    def drain(self, grace_s: float) -> int:
        """Stops taking live streams (health NOT_SERVING, new ones UNAVAILABLE), tells the
        open ones to move, and waits up to `grace_s` for them to go; returns how many stayed.
        Exports and review calls are served meanwhile."""
        if self.admission is None:
            return 0
        self.admission.drain(grace_s)
        deadline = time.monotonic() + grace_s
        while self.admission.load().streams and time.monotonic() < deadline:
            time.sleep(0.05)
        left = self.admission.load().streams
        if left:
            log.warning("drained for %.0f s; %d live streams still open are ended", grace_s, left)
        return left

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
    console: bool = False,
) -> RunningServer:
    """Loads models, binds `address` (port 0 = any free port) and starts serving.

    `detector_factory` replaces how each profile's detector is built (fault
    injection in tests); by default the configured plugins are used. With
    `console` (and console.enabled), the review console is served on console.address.
    """
    address = address or config.server.address
    # Both refuse before models load: an unsafe listener, an unreachable export cluster.
    credentials = server_credentials(config, address)
    exports = ExportsServicer(config)
    users = UserStore(
        config.users_path,
        session_ttl_s=config.console.session_ttl_s,
        min_password_chars=config.console.min_password_chars,
        max_failed_logins=config.console.max_failed_logins,
        lockout_s=config.console.lockout_s,
    )
    review = ReviewService(exports.service, users)
    svc = exports.service
    retention = RetentionService(config, svc.ledger, svc.archive, lambda: svc.clock())
    cases = CaseService(config.cases, review, retention.holds)
    records = Records(svc, retention)
    try:
        engine = Engine(config, detector_factory)
    except BaseException:
        cases.close()
        retention.close()
        exports.close()
        users.close()
        raise
    limit = config.limits.max_message_bytes
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=config.server.workers, thread_name_prefix="rpc"),
        options=[
            ("grpc.max_receive_message_length", limit),
            ("grpc.max_send_message_length", limit),
        ],
    )
    engine.metrics.cases_overdue.set_function(cases.overdue_count)
    # cases and retention write the exports' ledger: they close first
    closables: list[Any] = [cases, retention, exports, users]
    # grpcio-tools writes these untyped
    health_servicer = health.HealthServicer()

    def live_serving(serving: bool) -> None:
        status = (
            health_pb2.HealthCheckResponse.SERVING
            if serving
            else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        for name in ("", SERVICES[0]):  # the live service, and the server as a whole
            health_servicer.set(name, status)

    admission = Admission(config.limits, on_change=live_serving)
    live = RedactorServicer(config, engine, admission)
    pb_grpc.add_RedactorServicer_to_server(live, server)  # type: ignore[no-untyped-call]
    pb_grpc.add_ExportsServicer_to_server(exports, server)  # type: ignore[no-untyped-call]
    pb_grpc.add_ReviewServicer_to_server(ReviewServicer(review), server)  # type: ignore[no-untyped-call]

    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (
            *SERVICES,
            health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
            reflection.SERVICE_NAME,
        ),
        server,
    )
    try:
        if credentials is None:
            port = server.add_insecure_port(address)
        else:
            port = server.add_secure_port(address, credentials)
    except RuntimeError as e:
        engine.close()
        cases.close()
        retention.close()
        exports.close()
        users.close()
        raise OSError(f"cannot listen on {address}: {e}") from e
    server.start()
    console_url = ""
    if console and config.console.enabled:
        from redactor.console.server import start_console  # only where the console is served

        try:
            web = start_console(config, review, cases=cases, records=records)
        except BaseException:
            server.stop(None)
            engine.close()
            cases.close()
            retention.close()
            exports.close()
            users.close()
            raise
        closables.insert(0, web)  # stops before the services it calls
        console_url = web.url
    if config.server.metrics_port:
        from prometheus_client import start_http_server

        http, _thread = start_http_server(
            config.server.metrics_port, config.server.metrics_host, engine.metrics.registry
        )
        closables.append(_HttpCloser(http))
    retention.start()  # where retention.enabled; the first cycle one period_s from now
    for name in ("", *SERVICES):
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    host = address.rsplit(":", 1)[0]
    live.server_id = (
        f"{socket.gethostname()}:{port}" if host in ("0.0.0.0", "[::]") else f"{host}:{port}"
    )
    log.info("redactor serving on %s:%d", host, port)
    return RunningServer(
        server,
        port,
        f"{host}:{port}",
        engine,
        health_servicer,
        closables,
        review,
        console_url,
        retention,
        cases,
        admission,
    )


def server_credentials(config: Config, address: str) -> grpc.ServerCredentials | None:
    """TLS credentials from the configuration (None = plaintext, loopback only).

    Also refuses a thread pool that live streams could fill. Fails closed: a listener reachable from other machines needs TLS, required
    authentication and tokens other than the embedded dev ones.
    """
    srv, auth = config.server, config.auth
    if srv.workers < config.limits.max_streams + RESERVED_WORKERS:
        raise ConfigError(
            f"server.workers = {srv.workers} must be at least limits.max_streams = "
            f"{config.limits.max_streams} + {RESERVED_WORKERS}: every live stream holds a handler thread, "
            "and single images, exports and health checks need some left"
        )
    if not is_loopback(address):
        problems = []
        if srv.tls_cert is None:
            problems.append("server.tls_cert and server.tls_key (TLS)")
        if not auth.required:
            problems.append("auth.required = true")
        dev = sorted(r for r, t in auth.tokens.items() if DEV_TOKENS.get(r) == t)
        if dev:
            problems.append(
                f"auth.tokens other than the embedded dev tokens (roles {', '.join(dev)})"
            )
        if problems:
            raise ConfigError(
                f"refusing to listen on {address} (not loopback) without: " + "; ".join(problems)
            )
    if srv.tls_cert is None or srv.tls_key is None:
        return None
    try:
        chain = srv.tls_cert.read_bytes()
        key = srv.tls_key.read_bytes()
        client_ca = srv.tls_client_ca.read_bytes() if srv.tls_client_ca is not None else None
    except OSError as e:
        raise ConfigError(f"cannot read TLS material: {e}") from e
    return grpc.ssl_server_credentials(
        [(key, chain)], root_certificates=client_ca, require_client_auth=client_ca is not None
    )
