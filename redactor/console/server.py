"""Serving the console: uvicorn on a background thread, TLS off loopback.

`start_console` is what `redactor serve` calls beside the gRPC server; tests
make a `ConsoleServer` on port 0 and read `.url`.
"""

from __future__ import annotations

import logging
import socket
import threading
from pathlib import Path

import uvicorn

from redactor.cases.records import Records
from redactor.cases.service import CaseService
from redactor.config import Config
from redactor.console.app import create_app
from redactor.errors import ConfigError
from redactor.net import is_loopback
from redactor.review.service import ReviewService

log = logging.getLogger(__name__)

START_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 10.0


def split_address(address: str) -> tuple[str, int]:
    """host:port or [v6]:port → (host, port); the message names what arrived."""
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigError(
            f"console address must be host:port (or [v6]:port) with a port in [0, 65535], "
            f"got {address!r}"
        )
    return host.strip("[]"), int(port)


class ConsoleServer:
    """The console on `host:port` (port 0: any free port), until `close()`."""

    def __init__(
        self,
        review: ReviewService,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        ssl_certfile: Path | None = None,
        ssl_keyfile: Path | None = None,
        cases: CaseService | None = None,
        records: Records | None = None,
    ) -> None:
        if (ssl_certfile is None) != (ssl_keyfile is None):
            raise ConfigError("ssl_certfile and ssl_keyfile go together; got only one of them")
        self.tls = ssl_certfile is not None
        self.host = host
        app = create_app(review, secure_cookies=self.tls, cases=cases, records=records)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            self._sock.bind((host, port))
        except OSError as e:
            self._sock.close()
            raise ConfigError(f"cannot listen on {host}:{port} for the console: {e}") from e
        self.port: int = self._sock.getsockname()[1]
        self._server = uvicorn.Server(
            uvicorn.Config(
                app,
                log_level="warning",
                access_log=False,
                lifespan="off",
                ssl_certfile=str(ssl_certfile) if ssl_certfile else None,
                ssl_keyfile=str(ssl_keyfile) if ssl_keyfile else None,
                server_header=False,
                timeout_graceful_shutdown=5,
            )
        )
        self._failed: BaseException | None = None
        self._thread = threading.Thread(target=self._serve, name="console", daemon=True)
        self._thread.start()
        self._wait_started()

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"

    def _serve(self) -> None:
        try:
            self._server.run(sockets=[self._sock])
        except BaseException as e:  # noqa: BLE001 - reported to the starting thread
            self._failed = e

    def _wait_started(self) -> None:
        waited = 0.0
        while not self._server.started:
            if not self._thread.is_alive() or waited >= START_TIMEOUT_S:
                self.close()
                why = f": {self._failed}" if self._failed else ""
                raise ConfigError(f"the console did not start on {self.url}{why}")
            self._thread.join(0.02)
            waited += 0.02
        log.info("console listening on %s", self.url)

    def close(self) -> None:
        self._server.should_exit = True
        self._thread.join(STOP_TIMEOUT_S)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(STOP_TIMEOUT_S)
        self._sock.close()


def start_console(
    config: Config,
    review: ReviewService,
    address: str | None = None,
    cases: CaseService | None = None,
    records: Records | None = None,
) -> ConsoleServer:
    """The console on `address` (default console.address). Anything but loopback needs TLS
    (server.tls_cert and server.tls_key, the gRPC server's), and its cookies are then Secure."""
    address = address or config.console.address
    host, port = split_address(address)
    cert, key = config.server.tls_cert, config.server.tls_key
    if not is_loopback(address) and (cert is None or key is None):
        raise ConfigError(
            f"console.address {address!r} is not loopback: the console needs TLS there "
            "(set server.tls_cert and server.tls_key), or listen on 127.0.0.1"
        )
    return ConsoleServer(
        review, host, port, ssl_certfile=cert, ssl_keyfile=key, cases=cases, records=records
    )
