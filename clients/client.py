"""A small Python client for the redactor service (generated stubs + gRPC only).

Plaintext by default (loopback with bearer tokens); pass `tls=Tls(...)` for a TLS
server, with a client certificate and key for mutual TLS (the production setting).
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from redactor.net import grpc_target, is_loopback
from redactor.v1 import redactor_pb2 as pb
from redactor.v1 import redactor_pb2_grpc as pb_grpc

MAX_MESSAGE = 64 << 20
UNARY_TIMEOUT_S = 30.0  # export calls that answer at once (create, get, list)
# Several servers: round_robin over those whose health says SERVING for the live service, so
# a full or draining server is skipped without a refused call (gRPC client-side health checks).
ROUND_ROBIN = json.dumps(
    {
        "loadBalancingConfig": [{"round_robin": {}}],
        "healthCheckConfig": {"serviceName": "redactor.v1.Redactor"},
    }
)


class DownloadError(Exception):
    """A download that did not arrive whole (gaps, short, or a different hash)."""


@dataclass(frozen=True, slots=True)
class OutFrame:
    """One input frame for a stream: sequence number, timestamp, bytes in the header's format."""

    seq: int
    timestamp_us: int
    data: bytes


class TlsError(ValueError):
    """A TLS setting that cannot be used. `field` is the Tls field ("ca", "cert",
    "key"), `path` the file concerned (None for a missing one)."""

    def __init__(self, field: str, path: Path | None, reason: str) -> None:
        super().__init__(f"TLS {field}{f' {path}' if path else ''}: {reason}")
        self.field = field
        self.path = path
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Tls:
    """How to reach a TLS server. `ca`: PEM CA certificates that verify the server
    (None = the system's roots). `cert` and `key`: PEM client certificate and its
    private key, for mutual TLS (both or neither). `server_name`: the name to check
    the server's certificate against, when it differs from the address's host
    (e.g. connecting by IP to a certificate for redactor.center.local)."""

    ca: Path | None = None
    cert: Path | None = None
    key: Path | None = None
    server_name: str | None = None

    def __post_init__(self) -> None:
        if (self.cert is None) != (self.key is None):
            given, missing = ("cert", "key") if self.key is None else ("key", "cert")
            raise TlsError(
                missing, None, f"a client {given} needs its {missing} (mutual TLS takes both)"
            )
        if self.server_name is not None and not self.server_name.strip():
            raise TlsError("server_name", None, "is empty")

    def read(self) -> tuple[bytes | None, bytes | None, bytes | None]:
        """(ca, key, cert) PEM bytes; TlsError names the file that is missing,
        unreadable or not PEM."""
        return _pem("ca", self.ca), _pem("key", self.key), _pem("cert", self.cert)

    def credentials(self) -> grpc.ChannelCredentials:
        ca, key, cert = self.read()
        return grpc.ssl_channel_credentials(
            root_certificates=ca, private_key=key, certificate_chain=cert
        )


def _pem(field: str, path: Path | None) -> bytes | None:
    if path is None:
        return None
    if not path.exists():
        raise TlsError(field, path, "no such file")
    if not path.is_file():
        raise TlsError(field, path, "not a file")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise TlsError(field, path, f"cannot read it ({e.strerror or e})") from e
    if b"-----BEGIN " not in data:
        raise TlsError(field, path, "not a PEM file (no '-----BEGIN' line)")
    return data


class RedactorClient:
    def __init__(
        self,
        address: str = "127.0.0.1:50051",
        token: str | None = None,
        timeout_s: float | None = None,
        tls: Tls | None = None,
    ) -> None:
        """`tls` None: plaintext, for loopback only: a token is never sent in the
        clear to another machine (ValueError). TlsError if a TLS file cannot be used."""
        if token and tls is None and not is_loopback(address):
            raise ValueError(
                f"refusing to send a token in plaintext to {address}: use TLS "
                "(a redactor off loopback only listens with TLS)"
            )
        self.address = address
        target, self.addresses, balanced = grpc_target(address)
        options: list[tuple[str, object]] = [
            ("grpc.max_receive_message_length", MAX_MESSAGE),
            ("grpc.max_send_message_length", MAX_MESSAGE),
        ]
        if balanced:
            # several servers: each call (a stream) goes to the next ready one, and a stream
            # stays on the server it opened on; a server that stops is skipped at once, and
            # one that comes back is tried again within a second (not gRPC's 2 minutes)
            options += [
                ("grpc.service_config", ROUND_ROBIN),
                ("grpc.initial_reconnect_backoff_ms", 200),
                ("grpc.min_reconnect_backoff_ms", 200),
                ("grpc.max_reconnect_backoff_ms", 1000),
            ]
        if tls is None:
            self.channel = grpc.insecure_channel(target, options=options)
        else:
            if tls.server_name:
                options.append(("grpc.ssl_target_name_override", tls.server_name))
            self.channel = grpc.secure_channel(target, tls.credentials(), options=options)
        self.tls = tls
        # grpcio-tools writes the stubs untyped
        self.stub = pb_grpc.RedactorStub(self.channel)  # type: ignore[no-untyped-call]
        self.exports = pb_grpc.ExportsStub(self.channel)  # type: ignore[no-untyped-call]
        self.metadata = (("authorization", f"Bearer {token}"),) if token else ()
        self.timeout_s = timeout_s

    def health(self, service: str = "") -> str:
        resp = health_pb2_grpc.HealthStub(self.channel).Check(
            health_pb2.HealthCheckRequest(service=service), timeout=self.timeout_s or 5.0
        )
        return str(health_pb2.HealthCheckResponse.ServingStatus.Name(resp.status))

    def redact_image(self, image: pb.Image, policy: str = "") -> pb.RedactImageResponse:
        return self.stub.RedactImage(  # type: ignore[no-any-return]
            pb.RedactImageRequest(image=image, policy=policy),
            timeout=self.timeout_s,
            metadata=self.metadata,
        )

    def stream(
        self,
        header: pb.StreamHeader,
        frames: Iterable[OutFrame],
        accepted: list[pb.StreamAccepted] | None = None,
    ) -> Iterator[pb.RedactedFrame]:
        """Sends the header then `frames` (in a gRPC thread, overlapping with receiving)
        and yields redacted frames in order. `accepted`, if given, receives the
        server's StreamAccepted."""
        for resp in self.stream_events(header, frames):
            kind = resp.WhichOneof("kind")
            if kind == "accepted":
                if accepted is not None:
                    accepted.append(resp.accepted)
            elif kind == "frame":
                yield resp.frame

    def stream_events(
        self, header: pb.StreamHeader, frames: Iterable[OutFrame]
    ) -> Iterator[pb.StreamResponse]:
        """As `stream`, but every response: accepted, each frame, and a draining notice
        (the server is shutting down: move the stream, see redactor.clients.relay)."""
        stop = threading.Event()

        def requests() -> Iterator[pb.StreamRequest]:
            yield pb.StreamRequest(header=header)
            for f in frames:
                if stop.is_set():
                    return
                yield pb.StreamRequest(
                    frame=pb.StreamFrame(seq=f.seq, timestamp_us=f.timestamp_us, data=f.data)
                )

        call = self.stub.RedactStream(requests(), timeout=self.timeout_s, metadata=self.metadata)
        try:
            yield from call
        finally:
            stop.set()
            call.cancel()

    # ------------------------------------------------------------ exports (auditors)

    def create_export(self, request: pb.CreateExportRequest) -> pb.ExportJob:
        return self.exports.CreateExport(  # type: ignore[no-any-return]
            request, timeout=self.timeout_s or UNARY_TIMEOUT_S, metadata=self.metadata
        )

    def get_export(self, export_id: str) -> pb.ExportJob:
        return self.exports.GetExport(  # type: ignore[no-any-return]
            pb.GetExportRequest(id=export_id),
            timeout=self.timeout_s or UNARY_TIMEOUT_S,
            metadata=self.metadata,
        )

    def list_exports(self, camera_id: str = "", recipient: str = "") -> list[pb.ExportJob]:
        resp = self.exports.ListExports(
            pb.ListExportsRequest(camera_id=camera_id, recipient=recipient),
            timeout=self.timeout_s or UNARY_TIMEOUT_S,
            metadata=self.metadata,
        )
        return list(resp.jobs)

    def watch_export(self, export_id: str) -> Iterator[pb.ExportJob]:
        """The job now, then after every change, until it is DONE, FAILED or EXPIRED."""
        call = self.exports.WatchExport(
            pb.WatchExportRequest(id=export_id), timeout=self.timeout_s, metadata=self.metadata
        )
        try:
            yield from call
        finally:
            call.cancel()

    def download_export(
        self, export_id: str, artifact: pb.ExportArtifact, dst: Path, expect_sha256: str = ""
    ) -> str:
        """Streams an artifact into `dst` through a temporary file beside it, renamed
        over `dst` only once every byte arrived in order and the size (and
        `expect_sha256`, if given) match: `dst` is never left half-written. Returns
        the SHA-256 of what was written. The file is readable by its owner only
        (mkstemp's 0600): exports are personal data."""
        digest = hashlib.sha256()
        fd, tmp_name = tempfile.mkstemp(prefix=f".{dst.name}.", suffix=".part", dir=dst.parent)
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as f:
                call = self.exports.DownloadExport(
                    pb.DownloadExportRequest(id=export_id, artifact=artifact),
                    timeout=self.timeout_s,
                    metadata=self.metadata,
                )
                try:
                    received, total = 0, -1
                    for chunk in call:
                        if chunk.offset != received:
                            raise DownloadError(
                                f"chunk at offset {chunk.offset}, expected {received}"
                            )
                        f.write(chunk.data)
                        digest.update(chunk.data)
                        received += len(chunk.data)
                        total = chunk.total_size
                finally:
                    call.cancel()  # a no-op once the stream ended
                f.flush()
                os.fsync(f.fileno())
            if total >= 0 and received != total:
                raise DownloadError(f"received {received} bytes, the server announced {total}")
            if expect_sha256 and digest.hexdigest() != expect_sha256.lower():
                raise DownloadError(
                    f"SHA-256 {digest.hexdigest()} differs from the export's {expect_sha256}"
                )
            os.replace(tmp, dst)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        return digest.hexdigest()

    def close(self) -> None:
        self.channel.close()

    def __enter__(self) -> RedactorClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
