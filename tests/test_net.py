"""Addresses: one server, several, or a name that resolves to several (redactor.net)."""

from __future__ import annotations

import pytest

from redactor.net import grpc_target, is_loopback


def test_one_address_is_used_as_it_is() -> None:
    assert grpc_target("127.0.0.1:50051") == ("127.0.0.1:50051", ["127.0.0.1:50051"], False)


def test_several_addresses_are_balanced() -> None:
    target, named, balanced = grpc_target("127.0.0.1:1, 127.0.0.1:2,127.0.0.1:3")
    assert target == "ipv4:127.0.0.1:1,127.0.0.1:2,127.0.0.1:3" and balanced
    assert named == ["127.0.0.1:1", "127.0.0.1:2", "127.0.0.1:3"]
    assert grpc_target("[::1]:1,[::1]:2")[0] == "ipv6:[::1]:1,[::1]:2"


def test_a_dns_name_is_balanced_over_what_it_resolves_to() -> None:
    assert grpc_target("dns:///redactor-live.center.svc:50051") == (
        "dns:///redactor-live.center.svc:50051",
        ["redactor-live.center.svc:50051"],
        True,
    )


@pytest.mark.parametrize(
    ("address", "message"),
    [
        ("redactor-1:50051,redactor-2:50051", "for a name give dns:///name:port"),
        ("127.0.0.1:1,[::1]:2", "not both"),
        ("127.0.0.1,127.0.0.1:2", "expected host:port"),
    ],
)
def test_bad_lists_say_what_to_give(address: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        grpc_target(address)


def test_several_are_loopback_only_if_all_are() -> None:
    assert is_loopback("127.0.0.1:1,127.0.0.1:2")
    assert not is_loopback("127.0.0.1:1,10.0.0.7:2")
    assert is_loopback("dns:///localhost:50051")
    assert not is_loopback("dns:///redactor-live.center.svc:50051")
