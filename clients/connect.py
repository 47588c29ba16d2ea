"""The connection flags every redactor client takes, in one place.

    --address HOST:PORT      ($REDACTOR_ADDRESS, else 127.0.0.1:50051); several servers:
                             IP:PORT,IP:PORT,... or dns:///NAME:PORT (streams balanced)
    --token TOKEN            ($REDACTOR_TOKEN)
    --tls                    TLS with the system's CA certificates
    --tls-ca FILE            ($REDACTOR_TLS_CA)   CA bundle that verifies the server
    --tls-cert FILE          ($REDACTOR_TLS_CERT) client certificate, for mutual TLS
    --tls-key FILE           ($REDACTOR_TLS_KEY)  its private key
    --tls-server-name NAME   ($REDACTOR_TLS_SERVER_NAME) name the server's certificate must carry

Any --tls-* flag turns TLS on. `redactor-client` and `redactor-relay` both use
add_connection_args and client_from_args.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import grpc

from redactor.clients.client import RedactorClient, Tls, TlsError, is_loopback
from redactor.net import grpc_target

DEFAULT_ADDRESS = "127.0.0.1:50051"
# Tls field → (flag, environment variable)
TLS_FLAGS = {
    "ca": ("--tls-ca", "REDACTOR_TLS_CA"),
    "cert": ("--tls-cert", "REDACTOR_TLS_CERT"),
    "key": ("--tls-key", "REDACTOR_TLS_KEY"),
    "server_name": ("--tls-server-name", "REDACTOR_TLS_SERVER_NAME"),
}


class UsageError(ValueError):
    """A local argument that cannot work (the CLIs exit 2 with its message)."""


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value) if value else None


def add_connection_args(parser: argparse.ArgumentParser) -> None:
    """Adds the shared connection flags (defaults from the environment, read now)."""
    g = parser.add_argument_group(
        "connection",
        "where the server is and how to prove who you are; any --tls-* flag turns TLS on",
    )
    g.add_argument(
        "--address",
        default=os.environ.get("REDACTOR_ADDRESS") or DEFAULT_ADDRESS,
        help=f"server host:port (default: $REDACTOR_ADDRESS, else {DEFAULT_ADDRESS}); several "
        "servers as IP:PORT,IP:PORT,... or dns:///NAME:PORT, over which streams are balanced",
    )
    g.add_argument(
        "--token",
        default=os.environ.get("REDACTOR_TOKEN") or None,
        help="bearer token of your role (default: $REDACTOR_TOKEN); on mutual TLS the "
        "client certificate decides the role instead",
    )
    g.add_argument(
        "--tls",
        action="store_true",
        help="use TLS, verifying the server with the system's CA certificates",
    )
    g.add_argument(
        "--tls-ca",
        type=Path,
        default=_env_path("REDACTOR_TLS_CA"),
        metavar="FILE",
        help="PEM CA certificate(s) that verify the server (default: $REDACTOR_TLS_CA, "
        "else the system's)",
    )
    g.add_argument(
        "--tls-cert",
        type=Path,
        default=_env_path("REDACTOR_TLS_CERT"),
        metavar="FILE",
        help="PEM client certificate for mutual TLS; needs --tls-key (default: $REDACTOR_TLS_CERT)",
    )
    g.add_argument(
        "--tls-key",
        type=Path,
        default=_env_path("REDACTOR_TLS_KEY"),
        metavar="FILE",
        help="PEM private key of --tls-cert (default: $REDACTOR_TLS_KEY)",
    )
    g.add_argument(
        "--tls-server-name",
        default=os.environ.get("REDACTOR_TLS_SERVER_NAME") or None,
        metavar="NAME",
        help="check the server's certificate for this name instead of the address's host "
        "(default: $REDACTOR_TLS_SERVER_NAME)",
    )


def tls_from_args(args: argparse.Namespace) -> Tls | None:
    """The TLS setting the flags ask for (None = plaintext). UsageError names the
    flag and file at fault."""
    if not (args.tls or args.tls_ca or args.tls_cert or args.tls_key or args.tls_server_name):
        return None
    if (args.tls_cert is None) != (args.tls_key is None):
        given, missing = (
            ("--tls-cert", "--tls-key") if args.tls_key is None else ("--tls-key", "--tls-cert")
        )
        raise UsageError(
            f"--tls-cert and --tls-key go together (mutual TLS): got {given} without {missing}"
        )
    try:
        tls = Tls(
            ca=args.tls_ca, cert=args.tls_cert, key=args.tls_key, server_name=args.tls_server_name
        )
        tls.read()  # every file exists, is readable and PEM, before any connection is tried
    except TlsError as e:
        flag, env = TLS_FLAGS[e.field]
        msg = f"{flag} {e.path}: {e.reason}" if e.path else f"{flag}: {e.reason}"
        if e.path and os.environ.get(env) == str(e.path):
            msg += f" (${env} holds this path)"
        raise UsageError(msg) from e
    return tls


def client_from_args(args: argparse.Namespace, timeout_s: float | None = None) -> RedactorClient:
    """A client for the flags of add_connection_args; UsageError for flags that cannot work."""
    address = args.address.strip()
    if not address:
        raise UsageError("--address is empty; give host:port, e.g. 127.0.0.1:50051")
    try:
        grpc_target(address)
    except ValueError as e:
        raise UsageError(f"--address {address!r}: {e}") from None
    tls = tls_from_args(args)
    if args.token and tls is None and not is_loopback(address):
        raise UsageError(
            f"refusing to send --token in plaintext to {address}; give --tls-ca (or --tls) "
            "for a TLS server, or leave the token out"
        )
    return RedactorClient(address, args.token, timeout_s=timeout_s, tls=tls)


def rpc_error_line(e: grpc.RpcError) -> str:
    """CODE: the server's details, on one line."""
    code = e.code() if hasattr(e, "code") else None
    details = (e.details() if hasattr(e, "details") else None) or str(e)
    return f"{code.name if code else 'UNKNOWN'}: {' '.join(details.split())}"
