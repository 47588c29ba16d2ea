"""Fixtures of the security tests: a throwaway PKI and a mutual-TLS server
(roles from client certificates), one of each per test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from security_pki import CA, TOKENS, Issued
from support.configs import export_config

from redactor.config import AuthConfig, Config, ServerConfig
from redactor.server.app import RunningServer, create_server


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Issued | CA]:
    folder = tmp_path_factory.mktemp("pki")
    ca = CA(folder / "ca")
    rogue = CA(folder / "rogue", "rogue CA")
    return {
        "ca": ca,
        "server": ca.server(),
        "relay": ca.client("hub-seoul-1", "relay"),  # role from the OU
        "operator": ca.client("ops-desk", "operator"),
        "auditor": ca.client("audit-desk-7"),  # role from auth.cert_roles (no OU)
        "mapped-over-ou": ca.client(
            "hub-busan-2", "auditor"
        ),  # cert_roles says relay: the map wins
        "norole": ca.client("printer", "facilities"),
        "two-roles": ca.client("greedy", "relay", "auditor"),
        "expired": ca.client("old-hub", "relay", valid_days=-1),
        "rogue": rogue.client("hub-seoul-1", "relay"),
    }


@pytest.fixture(scope="module")
def mtls_server(
    pki: dict[str, Issued | CA], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    ca, srv = pki["ca"], pki["server"]
    assert isinstance(ca, CA) and isinstance(srv, Issued)
    cfg = Config(
        server=ServerConfig(tls_cert=srv.cert, tls_key=srv.key, tls_client_ca=ca.issued.cert),
        auth=AuthConfig(
            required=True,
            tokens=TOKENS,
            cert_roles={"audit-desk-7": "auditor", "hub-busan-2": "relay"},
        ),
        export=export_config(tmp_path_factory.mktemp("mtls")),
    )
    running = create_server(cfg, "127.0.0.1:0")
    yield running
    running.stop(0)
