"""Addresses: what the server and the clients both need to know about one."""

from __future__ import annotations

import ipaddress


def is_loopback(address: str) -> bool:
    """Whether `address` (host:port, [v6]:port or unix:path) stays on this machine.

    The server allows plaintext and no auth only there; the clients send a bearer
    token in plaintext only there."""
    if address.startswith(("unix:", "unix-abstract:")):
        return True
    host = address.rsplit(":", 1)[0].strip("[]") if ":" in address else address
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name, "", 0.0.0.0, [::]: reachable from elsewhere
