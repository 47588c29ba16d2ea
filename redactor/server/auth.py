"""Who is calling, and in which role.

Embedded default (loopback): a bearer token per role from the configuration,
sent as metadata `authorization: Bearer <token>`. Roles: relay, auditor, operator.
"""

from __future__ import annotations

import hmac

import grpc

from redactor.config import AuthConfig
from redactor.errors import PolicyDenied, Unauthenticated

ROLES = ("relay", "auditor", "operator")


def caller_role(context: grpc.ServicerContext, auth: AuthConfig) -> str | None:
    """The role whose token the call carries, or None without a valid one."""
    for key, value in context.invocation_metadata() or ():
        if key == "authorization" and isinstance(value, str) and value.startswith("Bearer "):
            token = value[len("Bearer "):].encode()
            for role, expected in auth.tokens.items():
                if hmac.compare_digest(token, expected.encode()):
                    return role
            return None
    return None


def caller_identity(context: grpc.ServicerContext, auth: AuthConfig) -> str:
    """A printable identity for the ledger: role and peer address."""
    return f"{caller_role(context, auth) or 'anonymous'}@{context.peer()}"


def require_role(context: grpc.ServicerContext, auth: AuthConfig, *roles: str) -> str:
    """The caller's role if it is one of `roles`; else Unauthenticated / PolicyDenied."""
    role = caller_role(context, auth)
    if role is None:
        if auth.required or roles:
            raise Unauthenticated(
                "expected metadata 'authorization: Bearer <token>' with a valid token; "
                "got none or an unknown token"
            )
        return "anonymous"
    if roles and role not in roles:
        raise PolicyDenied(f"this call needs role {' or '.join(roles)}; the caller has role {role}")
    return role
