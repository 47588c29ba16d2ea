"""Who is calling, and in which role.

Roles: relay (sends live streams), operator (streams and single images, reads
exports), auditor (creates, reads and downloads exports).

Two ways to carry a role, one per deployment:

- **Mutual TLS (production).** `server.tls_cert`, `server.tls_key` and
  `server.tls_client_ca` set: the TLS handshake refuses any caller without a
  certificate issued by the client CA, so only verified certificates reach a
  handler. The role is read from the verified certificate: its subject CN looked
  up in `auth.cert_roles` first; a CN not listed there takes the one
  organizational unit (OU) of its subject that names a role. A certificate
  with no such role, or several OUs naming roles, has no role (PERMISSION_DENIED).
  On such a connection bearer tokens are ignored: the certificate is the identity.
  Trusting the OU is only safe with a CA that issues client certificates for
  this service alone; otherwise list every CN in `auth.cert_roles`.
- **Bearer tokens (embedded loopback default).** A token per role in
  `auth.tokens`, sent as metadata `authorization: Bearer <token>`. Over TLS
  without a client CA tokens are the credential too (encrypted in transit).

A call that presents a token that is not configured is UNAUTHENTICATED even
where `auth.required` is off: credentials that do not check out are an error,
never a silent fall back to anonymous.

Config example (mutual TLS)::

    [server]
    address = "0.0.0.0:50051"
    tls_cert = "/etc/redactor/server.crt"
    tls_key = "/etc/redactor/server.key"
    tls_client_ca = "/etc/redactor/clients-ca.crt"
    [auth]
    required = true
    tokens = {}
    cert_roles = { "hub-seoul-1" = "relay", "audit-desk" = "auditor" }
"""

from __future__ import annotations

import functools
import hmac
from dataclasses import dataclass
from typing import get_args

import grpc
from cryptography import x509
from cryptography.x509.oid import NameOID

from redactor.config import AuthConfig, Role
from redactor.errors import PolicyDenied, Unauthenticated

ROLES: tuple[str, ...] = get_args(Role)
REDACT_ROLES = ("relay", "operator")  # RedactImage and RedactStream, where auth is required
_BEARER = "Bearer "


@dataclass(frozen=True, slots=True)
class Caller:
    """The identity a call proved: a role (None = none proven) and how it proved it."""

    role: str | None
    via: str  # "certificate", "token" or "none"
    name: str = ""  # the certificate's CN, or the role for a token
    bad_token: bool = False  # a token was sent and matched no role


def _cert_role(pem: bytes, auth: AuthConfig) -> tuple[str, str | None]:
    """(CN, role) of a verified client certificate."""
    cert = _load_cert(pem)
    cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    cn = str(cns[0].value) if cns else ""
    if cn and cn in auth.cert_roles:
        return cn, auth.cert_roles[cn]
    ous = {
        str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)
    }
    named = ous & set(ROLES)
    return cn, (named.pop() if len(named) == 1 else None)


@functools.lru_cache(maxsize=256)
def _load_cert(pem: bytes) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem)


def caller(context: grpc.ServicerContext, auth: AuthConfig) -> Caller:
    """What the call proves: its verified client certificate, else its bearer token."""
    props = context.auth_context() or {}
    pems = props.get("x509_pem_cert")
    # grpc only reports a peer certificate the handshake verified against the client CA
    if pems and props.get("transport_security_type") == [b"ssl"]:
        cn, role = _cert_role(pems[0], auth)
        return Caller(role, "certificate", cn)
    for key, value in context.invocation_metadata() or ():
        if key != "authorization":
            continue
        if isinstance(value, str) and value.startswith(_BEARER):
            token = value[len(_BEARER) :].encode()
            for role, expected in auth.tokens.items():
                if hmac.compare_digest(token, expected.encode()):
                    return Caller(role, "token", role)
        return Caller(None, "token", bad_token=True)
    return Caller(None, "none")


def caller_role(context: grpc.ServicerContext, auth: AuthConfig) -> str | None:
    """The role the call proves, or None without valid credentials."""
    return caller(context, auth).role


def caller_identity(context: grpc.ServicerContext, auth: AuthConfig) -> str:
    """A printable identity for the ledger: role and peer address (and the certificate's CN)."""
    c = caller(context, auth)
    who = f"{c.role or 'anonymous'}@{context.peer()}"
    return f"{who} cn={c.name}" if c.via == "certificate" else who


def caller_key(context: grpc.ServicerContext, auth: AuthConfig) -> str:
    """Whom per-caller limits count: the certificate's CN, else the token's role, else the
    peer's host. Never the peer's port: a new connection must not be a new caller."""
    c = caller(context, auth)
    if c.via == "certificate":
        return f"cert:{c.name}"
    if c.role is not None:
        return f"role:{c.role}"
    return f"host:{_peer_host(context.peer())}"


def _peer_host(peer: str) -> str:
    """'ipv4:127.0.0.1:5555' → 'ipv4:127.0.0.1', 'ipv6:[::1]:5555' → 'ipv6:[::1]'."""
    if peer.startswith(("ipv4:", "ipv6:")):
        return peer.rsplit(":", 1)[0]
    return peer


def require_role(
    context: grpc.ServicerContext, auth: AuthConfig, *roles: str, anonymous: bool = False
) -> str:
    """The caller's role if it is one of `roles` (any role where none are named).

    Without credentials: "anonymous" where `anonymous` is set and `auth.required`
    is off, else Unauthenticated. Credentials that prove no role (an unknown token, a
    certificate without a role) are refused; so is a role outside `roles` (PolicyDenied).
    """
    c = caller(context, auth)
    if c.bad_token:
        raise Unauthenticated(
            "expected metadata 'authorization: Bearer <token>' with a configured token; "
            "got a token that matches no role"
        )
    if c.role is None:
        if c.via == "certificate":
            raise PolicyDenied(
                f"the client certificate CN={c.name!r} has no role: list its CN in auth.cert_roles "
                f"or give it one OU of {', '.join(ROLES)}"
            )
        if anonymous and not auth.required:
            return "anonymous"
        raise Unauthenticated(
            "expected a client certificate or metadata 'authorization: Bearer <token>' "
            "with a valid token; got neither"
        )
    if roles and c.role not in roles:
        raise PolicyDenied(
            f"this call needs role {' or '.join(roles)}; the caller has role {c.role}"
        )
    return c.role
