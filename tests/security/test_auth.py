"""Strangers: TLS on every non-loopback listener, mutual TLS with roles from client
certificates, tokens on loopback. Every call of both services is tried with every
kind of caller; a call without valid credentials is UNAUTHENTICATED (or never gets
past the TLS handshake), a call outside the caller's role PERMISSION_DENIED.

The CA, server and client certificates are made per module in a temporary
folder (tests/security/security_pki.py; fixtures `pki` and `mtls_server` in
tests/security/conftest.py); no key is committed.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import grpc
import numpy as np
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from security_pki import CA, TOKENS, Issued
from support.configs import export_config

from redactor.config import AuthConfig, Config, ServerConfig
from redactor.errors import ConfigError
from redactor.ledger import Ledger
from redactor.net import is_loopback
from redactor.server.app import RunningServer, create_server
from redactor.v1 import redactor_pb2 as pb
from redactor.v1 import redactor_pb2_grpc as pb_grpc

OK = grpc.StatusCode.OK
UNAUTH = grpc.StatusCode.UNAUTHENTICATED
DENIED = grpc.StatusCode.PERMISSION_DENIED
NOT_FOUND = grpc.StatusCode.NOT_FOUND
INVALID = grpc.StatusCode.INVALID_ARGUMENT
UNAVAILABLE = grpc.StatusCode.UNAVAILABLE

PNG = bytes(cv2.imencode(".png", np.full((24, 32, 3), 90, np.uint8))[1])
CALLS = (
    "RedactImage",
    "RedactStream",
    "CreateExport",
    "GetExport",
    "WatchExport",
    "ListExports",
    "DownloadExport",
)

# What each role gets from each call (with requests that are harmless when allowed:
# unknown export ids, an incomplete export request).
ALLOWED = {
    "relay": {"RedactImage": OK, "RedactStream": OK},
    "operator": {
        "RedactImage": OK,
        "RedactStream": OK,
        "GetExport": NOT_FOUND,
        "WatchExport": NOT_FOUND,
        "ListExports": OK,
    },
    "auditor": {
        "CreateExport": INVALID,
        "GetExport": NOT_FOUND,
        "WatchExport": NOT_FOUND,
        "ListExports": OK,
        "DownloadExport": NOT_FOUND,
    },
}


def expected(role: str, call: str) -> grpc.StatusCode:
    return ALLOWED.get(role, {}).get(call, DENIED)


def invoke(
    channel: grpc.Channel, call: str, metadata: tuple[tuple[str, str], ...] = ()
) -> grpc.StatusCode:
    """Makes one call; returns its status code (OK when it succeeded)."""
    red = pb_grpc.RedactorStub(channel)  # type: ignore[no-untyped-call]
    exp = pb_grpc.ExportsStub(channel)  # type: ignore[no-untyped-call]
    kw = {"metadata": metadata, "timeout": 30}
    try:
        if call == "RedactImage":
            r = red.RedactImage(
                pb.RedactImageRequest(image=pb.Image(format=pb.PIXEL_FORMAT_PNG, data=PNG)), **kw
            )
            assert r.status == pb.FRAME_STATUS_REDACTED
        elif call == "RedactStream":
            reqs = [
                pb.StreamRequest(
                    header=pb.StreamHeader(format=pb.PIXEL_FORMAT_PNG, recipient="police-112")
                ),
                pb.StreamRequest(frame=pb.StreamFrame(seq=1, data=PNG)),
            ]
            frames = [
                r.frame
                for r in red.RedactStream(iter(reqs), **kw)
                if r.WhichOneof("kind") == "frame"
            ]
            assert [f.seq for f in frames] == [1]
        elif call == "CreateExport":
            exp.CreateExport(pb.CreateExportRequest(recipient="police-112"), **kw)
        elif call == "GetExport":
            exp.GetExport(pb.GetExportRequest(id="no-such-export"), **kw)
        elif call == "WatchExport":
            list(exp.WatchExport(pb.WatchExportRequest(id="no-such-export"), **kw))
        elif call == "ListExports":
            exp.ListExports(pb.ListExportsRequest(), **kw)
        elif call == "DownloadExport":
            list(
                exp.DownloadExport(
                    pb.DownloadExportRequest(
                        id="no-such-export", artifact=pb.EXPORT_ARTIFACT_VIDEO
                    ),
                    **kw,
                )
            )
        else:
            raise AssertionError(call)
    except grpc.RpcError as e:
        assert e.details(), f"{call}: {e.code()} without a message"
        return e.code()  # type: ignore[no-any-return]
    return OK


def mtls_channel(
    server: RunningServer, pki: dict[str, Issued | CA], who: str | None
) -> grpc.Channel:
    ca = pki["ca"]
    assert isinstance(ca, CA)
    if who is None:
        creds = grpc.ssl_channel_credentials(ca.pem)
    else:
        client = pki[who]
        assert isinstance(client, Issued)
        creds = grpc.ssl_channel_credentials(ca.pem, client.key_pem, client.cert_pem)
    return grpc.secure_channel(f"localhost:{server.port}", creds)


@pytest.mark.parametrize("role", ["relay", "operator", "auditor"])
def test_mtls_certificate_roles(
    mtls_server: RunningServer, pki: dict[str, Issued | CA], role: str
) -> None:
    with mtls_channel(mtls_server, pki, role) as ch:
        got = {call: invoke(ch, call) for call in CALLS}
    assert got == {call: expected(role, call) for call in CALLS}


def test_cert_roles_map_wins_over_ou(
    mtls_server: RunningServer, pki: dict[str, Issued | CA]
) -> None:
    with mtls_channel(mtls_server, pki, "mapped-over-ou") as ch:
        assert invoke(ch, "RedactImage") == OK  # relay by the map
        assert invoke(ch, "ListExports") == DENIED  # not auditor, whatever its OU says


@pytest.mark.parametrize("who", ["norole", "two-roles"])
def test_certificate_without_one_role_is_denied_everything(
    mtls_server: RunningServer, pki: dict[str, Issued | CA], who: str
) -> None:
    with mtls_channel(mtls_server, pki, who) as ch:
        got = {call: invoke(ch, call) for call in CALLS}
    assert set(got.values()) == {DENIED}, got


def test_certificate_overrides_token(
    mtls_server: RunningServer, pki: dict[str, Issued | CA]
) -> None:
    """On a mutual-TLS connection the certificate is the identity: an auditor token
    does not lift a relay certificate to auditor."""
    with mtls_channel(mtls_server, pki, "relay") as ch:
        meta = (("authorization", f"Bearer {TOKENS['auditor']}"),)
        assert invoke(ch, "ListExports", meta) == DENIED
        assert invoke(ch, "RedactImage", meta) == OK


@pytest.mark.parametrize("who", [None, "rogue", "expired"], ids=["no-cert", "other-ca", "expired"])
def test_no_valid_certificate_never_reaches_a_handler(
    mtls_server: RunningServer, pki: dict[str, Issued | CA], who: str | None
) -> None:
    with mtls_channel(mtls_server, pki, who) as ch:
        for call in ("RedactImage", "ListExports"):
            assert (
                invoke(ch, call, (("authorization", f"Bearer {TOKENS['auditor']}"),)) == UNAVAILABLE
            )
        with pytest.raises(grpc.RpcError) as e:
            health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=10)
        assert e.value.code() == UNAVAILABLE


def test_plaintext_client_cannot_talk_to_tls_port(mtls_server: RunningServer) -> None:
    with grpc.insecure_channel(f"127.0.0.1:{mtls_server.port}") as ch:
        assert (
            invoke(ch, "RedactImage", (("authorization", f"Bearer {TOKENS['relay']}"),))
            == UNAVAILABLE
        )


def test_refusals_name_the_certificate_on_the_ledger(
    mtls_server: RunningServer, pki: dict[str, Issued | CA]
) -> None:
    with mtls_channel(mtls_server, pki, "relay") as ch:
        assert invoke(ch, "CreateExport") == DENIED
    ledger_path = Path(mtls_server.engine.config.export.ledger_path)
    with Ledger(ledger_path, create=False) as ledger:
        refused = [e for e in ledger.entries() if str(e.event) == "refused"]
        assert ledger.verify(None, None).ok
    assert any(e.actor.startswith("relay@") and "cn=hub-seoul-1" in e.actor for e in refused), [
        e.actor for e in refused
    ]


# ---------------------------------------------------------------- TLS with tokens


@pytest.fixture(scope="module")
def tls_token_server(
    pki: dict[str, Issued | CA], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningServer]:
    srv = pki["server"]
    assert isinstance(srv, Issued)
    cfg = Config(
        server=ServerConfig(tls_cert=srv.cert, tls_key=srv.key),
        auth=AuthConfig(required=True, tokens=TOKENS),
        export=export_config(tmp_path_factory.mktemp("tls")),
    )
    running = create_server(cfg, "127.0.0.1:0")
    yield running
    running.stop(0)


@pytest.mark.parametrize("role", ["relay", "operator", "auditor", "nobody", "wrong-token"])
def test_tls_with_tokens(
    tls_token_server: RunningServer, pki: dict[str, Issued | CA], role: str
) -> None:
    meta: tuple[tuple[str, str], ...] = ()
    if role in TOKENS:
        meta = (("authorization", f"Bearer {TOKENS[role]}"),)
    elif role == "wrong-token":
        meta = (
            ("authorization", "Bearer relay-dev-token"),
        )  # the public dev token: not configured here
    with mtls_channel(tls_token_server, pki, None) as ch:
        got = {call: invoke(ch, call, meta) for call in CALLS}
    want = {call: expected(role, call) if role in TOKENS else UNAUTH for call in CALLS}
    assert got == want


# ---------------------------------------------------------------- loopback defaults


@pytest.fixture(scope="module")
def loopback_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServer]:
    running = create_server(
        Config(export=export_config(tmp_path_factory.mktemp("loop"))), "127.0.0.1:0"
    )
    yield running
    running.stop(0)


@pytest.mark.parametrize(
    ("who", "meta"),
    [
        ("anonymous", ()),
        ("unknown token", (("authorization", "Bearer not-a-configured-token"),)),
        ("not bearer", (("authorization", "Basic cmVsYXk6cmVsYXk="),)),
        ("auditor", (("authorization", "Bearer auditor-dev-token"),)),
        ("operator", (("authorization", "Bearer operator-dev-token"),)),
    ],
)
def test_loopback_default(
    loopback_server: RunningServer, who: str, meta: tuple[tuple[str, str], ...]
) -> None:
    """auth.required off (the embedded default): single images and streams are open to
    anonymous callers on loopback; exports still need a role; a credential that does
    not check out is refused, never treated as anonymous."""
    with grpc.insecure_channel(loopback_server.address) as ch:
        got = {call: invoke(ch, call, meta) for call in CALLS}
    if who == "anonymous":
        want = {call: OK if call in ("RedactImage", "RedactStream") else UNAUTH for call in CALLS}
    elif who in ("auditor", "operator"):
        want = {call: expected(who, call) for call in CALLS}
    else:
        want = {call: UNAUTH for call in CALLS}
    assert got == want


# ---------------------------------------------------------------- listeners


@pytest.mark.parametrize(
    ("address", "loopback"),
    [
        ("127.0.0.1:50051", True),
        ("127.8.9.10:1", True),
        ("localhost:0", True),
        ("[::1]:50051", True),
        ("unix:/tmp/redactor.sock", True),
        ("0.0.0.0:50051", False),
        ("[::]:50051", False),
        ("10.1.2.3:50051", False),
        ("redactor.example.org:443", False),
        (":50051", False),
    ],
)
def test_is_loopback(address: str, loopback: bool) -> None:
    assert is_loopback(address) is loopback


def _config(tmp: Path, tls: Issued | None, required: bool, tokens: dict[str, str] | None) -> Config:
    server = ServerConfig() if tls is None else ServerConfig(tls_cert=tls.cert, tls_key=tls.key)
    auth = (
        AuthConfig(required=required)
        if tokens is None
        else AuthConfig(required=required, tokens=tokens)
    )
    return Config(server=server, auth=auth, export=export_config(tmp))


@pytest.mark.parametrize(
    ("tls", "required", "tokens", "words"),
    [
        (False, True, TOKENS, ["0.0.0.0:0", "not loopback", "server.tls_cert"]),
        (True, False, TOKENS, ["auth.required = true"]),
        (True, True, None, ["embedded dev tokens", "auditor, operator, relay"]),
        (False, False, None, ["server.tls_cert", "auth.required", "dev tokens"]),
    ],
)
def test_non_loopback_listener_refused_without_tls_and_auth(
    pki: dict[str, Issued | CA],
    tmp_path: Path,
    tls: bool,
    required: bool,
    tokens: dict[str, str] | None,
    words: list[str],
) -> None:
    srv = pki["server"]
    assert isinstance(srv, Issued)
    cfg = _config(tmp_path, srv if tls else None, required, tokens)
    t0 = time.perf_counter()
    with pytest.raises(ConfigError) as e:
        create_server(cfg, "0.0.0.0:0")
    for w in words:
        assert w in str(e.value), str(e.value)
    assert time.perf_counter() - t0 < 5, "refused before loading models"


def test_non_loopback_listener_with_mtls_serves(
    pki: dict[str, Issued | CA], tmp_path: Path
) -> None:
    ca, srv = pki["ca"], pki["server"]
    assert isinstance(ca, CA) and isinstance(srv, Issued)
    cfg = Config(
        server=ServerConfig(tls_cert=srv.cert, tls_key=srv.key, tls_client_ca=ca.issued.cert),
        auth=AuthConfig(required=True, tokens={}),
        export=export_config(tmp_path),
    )
    running = create_server(cfg, "0.0.0.0:0")
    try:
        with mtls_channel(running, pki, "relay") as ch:
            assert invoke(ch, "RedactImage") == OK
        with mtls_channel(running, pki, None) as ch:
            assert invoke(ch, "RedactImage") == UNAVAILABLE
    finally:
        running.stop(0)


def test_tls_config_fields_go_together(tmp_path: Path) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="go together"):
        ServerConfig(tls_cert=tmp_path / "c.pem")
    with pytest.raises(ValidationError, match="needs server.tls_cert"):
        ServerConfig(tls_client_ca=tmp_path / "ca.pem")
    with pytest.raises(ValidationError, match="differ between roles"):
        AuthConfig(tokens={"relay": "same-token-1", "auditor": "same-token-1"})
    with pytest.raises(ValidationError, match="at least 8"):
        AuthConfig(tokens={"relay": ""})


# ---------------------------------------------------------------- `redactor serve`


def _serve(config: Path, *extra: str) -> subprocess.Popen[str]:
    """`redactor serve`; its log goes to a file beside the config (a full pipe would block it)."""
    with (config.parent / "serve.log").open("a") as log:
        return subprocess.Popen(
            [
                sys.executable,
                "-m",
                "redactor.cli",
                "serve",
                "--config",
                str(config),
                "--metrics-port",
                "0",
                "--no-console",  # tests/console serves it on a free port
                *extra,
            ],
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )


def test_serve_refuses_public_address_without_tls(tmp_path: Path) -> None:
    cfg = tmp_path / "public.toml"
    cfg.write_text('[server]\naddress = "0.0.0.0:0"\n')
    proc = _serve(cfg)
    out, _ = proc.communicate(timeout=120)
    err = (tmp_path / "serve.log").read_text()
    assert proc.returncode == 2, (out, err)
    assert "refusing to listen on 0.0.0.0:0" in err and "server.tls_cert" in err


def test_serve_with_mutual_tls_from_config(pki: dict[str, Issued | CA], tmp_path: Path) -> None:
    """The documented production setting, through `redactor serve --config`."""
    ca, srv = pki["ca"], pki["server"]
    assert isinstance(ca, CA) and isinstance(srv, Issued)
    cfg = tmp_path / "mtls.toml"
    cfg.write_text(
        f'[server]\naddress = "127.0.0.1:0"\ntls_cert = "{srv.cert}"\ntls_key = "{srv.key}"\n'
        f'tls_client_ca = "{ca.issued.cert}"\n'
        '[auth]\nrequired = true\ntokens = {}\ncert_roles = { "audit-desk-7" = "auditor" }\n'
        f'[export]\narchive_root = "{tmp_path}/archive"\noutput_dir = "{tmp_path}/exports"\n'
        f'ledger_path = "{tmp_path}/ledger.sqlite"\nkey_path = "{tmp_path}/key.pem"\n'
    )
    proc = _serve(cfg)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "serving on 127.0.0.1:" in line, (line, (tmp_path / "serve.log").read_text()[-3000:])
        port = int(line.split("127.0.0.1:")[1].split()[0])
        fake = RunningServer.__new__(RunningServer)
        fake.port = port
        for who, call, code in (
            ("auditor", "ListExports", OK),
            ("relay", "RedactImage", OK),
            ("relay", "ListExports", DENIED),
        ):
            with mtls_channel(fake, pki, who) as ch:
                assert invoke(ch, call) == code, (who, call)
    finally:
        proc.terminate()
        proc.wait(timeout=60)


Check = Callable[[grpc.Channel], None]
