"""Addresses: what the server and the clients both need to know about one."""

from __future__ import annotations

import ipaddress


def is_loopback(address: str) -> bool:
    """Whether `address` (host:port, [v6]:port or unix:path) stays on this machine.

    The server allows plaintext and no auth only there; the clients send a bearer
    token in plaintext only there."""
    if address.startswith(("unix:", "unix-abstract:")):
        return True
    if "," in address or address.startswith("dns:"):
        _target, named, _many = grpc_target(address)
        return all(is_loopback(a) for a in named) if named != [address] else False
    host = address.rsplit(":", 1)[0].strip("[]") if ":" in address else address
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name, "", 0.0.0.0, [::]: reachable from elsewhere


def grpc_target(address: str) -> tuple[str, list[str], bool]:
    """(gRPC target, the addresses it names, whether to balance over several).

    `address` is one host:port; several IP host:port joined by commas (the relay hub's list
    of servers: `ipv4:`/`ipv6:` targets); or `dns:///name:port`, which gRPC resolves to
    every address of the name (a Kubernetes headless Service). Several, or a name, are
    balanced per call with round_robin. ValueError names what is wrong."""
    address = address.strip()
    if address.startswith("dns:"):
        host = address.split("///", 1)[-1] if "///" in address else address[4:]
        return address, [host], True
    parts = [p.strip() for p in address.split(",") if p.strip()]
    if len(parts) <= 1:
        return address, [address], False
    families: set[int] = set()
    for p in parts:
        host, sep, port = p.rpartition(":")
        if not sep or not port.isdigit():
            raise ValueError(f"expected host:port, got {p!r}")
        try:
            families.add(ipaddress.ip_address(host.strip("[]")).version)
        except ValueError:
            raise ValueError(
                f"several addresses must be IP host:port each (got {p!r}); for a name give "
                "dns:///name:port, which resolves to all of its servers"
            ) from None
    if len(families) > 1:
        raise ValueError(f"give IPv4 or IPv6 addresses, not both: {address!r}")
    scheme = "ipv4:" if families == {4} else "ipv6:"
    return scheme + ",".join(parts), parts, True
