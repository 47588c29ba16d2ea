"""The clients on the production setting: RedactorClient with Tls, and the shared
connection flags of redactor-client and redactor-relay, against the mutual-TLS
server (tests/security/conftest.py) with certificates from the throwaway PKI."""

from __future__ import annotations

from pathlib import Path

import cv2
import grpc
import numpy as np
import pytest
from security_pki import CA, Issued

from redactor.clients.cli import main as client_main
from redactor.clients.client import OutFrame, RedactorClient, Tls, TlsError
from redactor.clients.relay import main as relay_main
from redactor.server.app import RunningServer
from redactor.v1 import redactor_pb2 as pb

PNG = bytes(cv2.imencode(".png", np.full((24, 32, 3), 90, np.uint8))[1])
Pki = dict[str, Issued | CA]


def _ca(pki: Pki) -> Path:
    ca = pki["ca"]
    assert isinstance(ca, CA)
    return ca.issued.cert


def _who(pki: Pki, name: str) -> Issued:
    issued = pki[name]
    assert isinstance(issued, Issued)
    return issued


def tls_for(pki: Pki, who: str | None, **kw: object) -> Tls:
    if who is None:
        return Tls(ca=_ca(pki), **kw)  # type: ignore[arg-type]
    c = _who(pki, who)
    return Tls(ca=_ca(pki), cert=c.cert, key=c.key, **kw)  # type: ignore[arg-type]


def tls_flags(pki: Pki, who: str) -> list[str]:
    c = _who(pki, who)
    return ["--tls-ca", str(_ca(pki)), "--tls-cert", str(c.cert), "--tls-key", str(c.key)]


def test_relay_certificate_can_redact_images_and_streams(
    mtls_server: RunningServer, pki: Pki
) -> None:
    with RedactorClient(
        f"localhost:{mtls_server.port}", tls=tls_for(pki, "relay"), timeout_s=60
    ) as client:
        assert client.health() == "SERVING"
        resp = client.redact_image(pb.Image(format=pb.PIXEL_FORMAT_PNG, data=PNG))
        assert resp.status == pb.FRAME_STATUS_REDACTED
        header = pb.StreamHeader(format=pb.PIXEL_FORMAT_PNG, recipient="police-112")
        accepted: list[pb.StreamAccepted] = []
        frames = list(
            client.stream(header, [OutFrame(1, 0, PNG), OutFrame(2, 100_000, PNG)], accepted)
        )
        assert [f.seq for f in frames] == [1, 2] and accepted and accepted[0].stream_id
        # the certificate is the role: a relay may not read exports, token or not
        with pytest.raises(grpc.RpcError) as e:
            client.list_exports()
        assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED


@pytest.mark.parametrize("who", [None, "rogue", "expired"], ids=["no-cert", "other-ca", "expired"])
def test_without_a_valid_client_certificate_the_handshake_fails(
    mtls_server: RunningServer, pki: Pki, who: str | None
) -> None:
    with RedactorClient(
        f"localhost:{mtls_server.port}", tls=tls_for(pki, who), timeout_s=10
    ) as client:
        with pytest.raises(grpc.RpcError) as e:
            client.health()
        assert e.value.code() == grpc.StatusCode.UNAVAILABLE
        with pytest.raises(grpc.RpcError) as e:
            client.redact_image(pb.Image(format=pb.PIXEL_FORMAT_PNG, data=PNG))
        assert e.value.code() == grpc.StatusCode.UNAVAILABLE


def test_server_name_override(mtls_server: RunningServer, pki: Pki) -> None:
    """The server's certificate names localhost and 127.0.0.1: another name fails
    verification, the right one works whatever the address says."""
    address = f"127.0.0.1:{mtls_server.port}"
    with RedactorClient(address, tls=tls_for(pki, "relay", server_name="localhost")) as client:
        assert client.health() == "SERVING"
    with (
        RedactorClient(
            address, tls=tls_for(pki, "relay", server_name="redactor.example.org"), timeout_s=10
        ) as client,
        pytest.raises(grpc.RpcError) as e,
    ):
        client.health()
    assert e.value.code() == grpc.StatusCode.UNAVAILABLE


def test_tls_setting_is_checked_before_connecting(pki: Pki, tmp_path: Path) -> None:
    relay = _who(pki, "relay")
    with pytest.raises(TlsError, match="needs its key"):
        Tls(ca=_ca(pki), cert=relay.cert)
    with pytest.raises(TlsError, match="no such file"):
        RedactorClient("localhost:1", tls=Tls(ca=tmp_path / "absent.pem"))
    not_pem = tmp_path / "ca.der"
    not_pem.write_bytes(b"\x30\x82\x01\x0a")
    with pytest.raises(TlsError, match="not a PEM file"):
        RedactorClient("localhost:1", tls=Tls(ca=not_pem))


def test_cli_health_over_mutual_tls(
    mtls_server: RunningServer, pki: Pki, capsys: pytest.CaptureFixture[str]
) -> None:
    code = client_main(
        ["--address", f"localhost:{mtls_server.port}", *tls_flags(pki, "relay"), "health"]
    )
    out = capsys.readouterr()
    assert code == 0, out.err
    assert out.out.strip() == "SERVING"


def test_cli_without_client_certificate_is_refused(
    mtls_server: RunningServer, pki: Pki, capsys: pytest.CaptureFixture[str]
) -> None:
    code = client_main(
        ["--address", f"localhost:{mtls_server.port}", "--tls-ca", str(_ca(pki)), "health"]
    )
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("redactor-client: UNAVAILABLE: ") and err.count("\n") == 1, err


def test_cli_auditor_from_environment(
    mtls_server: RunningServer,
    pki: Pki,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """$REDACTOR_ADDRESS and $REDACTOR_TLS_* stand in for the flags; the auditor's
    certificate may list exports, the relay's may not."""
    auditor = _who(pki, "auditor")
    monkeypatch.delenv("REDACTOR_TOKEN", raising=False)
    monkeypatch.setenv("REDACTOR_ADDRESS", f"localhost:{mtls_server.port}")
    monkeypatch.setenv("REDACTOR_TLS_CA", str(_ca(pki)))
    monkeypatch.setenv("REDACTOR_TLS_CERT", str(auditor.cert))
    monkeypatch.setenv("REDACTOR_TLS_KEY", str(auditor.key))
    assert client_main(["export", "list"]) == 0
    assert capsys.readouterr().err.strip() == "0 exports"
    relay = _who(pki, "relay")
    assert (
        client_main(["--tls-cert", str(relay.cert), "--tls-key", str(relay.key), "export", "list"])
        == 1
    )
    err = capsys.readouterr().err
    assert err.startswith("redactor-client: PERMISSION_DENIED: ") and "auditor" in err, err


@pytest.mark.parametrize(
    ("flags", "words"),
    [
        (["--tls-cert", "{cert}"], ["--tls-cert", "--tls-key", "go together"]),
        (["--tls-key", "{key}"], ["--tls-cert", "--tls-key", "go together"]),
        (["--tls-ca", "{tmp}/absent-ca.pem"], ["--tls-ca", "absent-ca.pem", "no such file"]),
        (["--tls-cert", "{tmp}", "--tls-key", "{key}"], ["--tls-cert", "not a file"]),
        (
            ["--tls-cert", "{cert}", "--tls-key", "{tmp}/nokey.pem"],
            ["--tls-key", "nokey.pem", "no such file"],
        ),
    ],
    ids=["cert-without-key", "key-without-cert", "missing-ca", "cert-is-a-folder", "missing-key"],
)
def test_cli_bad_tls_flags_exit_2(
    pki: Pki, tmp_path: Path, capsys: pytest.CaptureFixture[str], flags: list[str], words: list[str]
) -> None:
    relay = _who(pki, "relay")
    argv = [f.format(cert=relay.cert, key=relay.key, tmp=tmp_path) for f in flags]
    assert client_main(["--address", "localhost:1", *argv, "health"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("redactor-client: ") and err.count("\n") == 1, err
    for w in words:
        assert w in err, err


def test_no_token_in_plaintext_off_loopback(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        client_main(["--address", "10.1.2.3:50051", "--token", "auditor-secret-0001", "health"])
        == 2
    )
    err = capsys.readouterr().err
    assert "plaintext" in err and "--tls-ca" in err and "auditor-secret" not in err, err
    with pytest.raises(ValueError, match="plaintext"):
        RedactorClient("redactor.example.org:443", token="auditor-secret-0001")


def test_relay_takes_the_same_flags(pki: Pki, capsys: pytest.CaptureFixture[str]) -> None:
    relay = _who(pki, "relay")
    assert (
        relay_main([str(relay.cert), "--address", "localhost:1", "--tls-cert", str(relay.cert)])
        == 2
    )
    err = capsys.readouterr().err
    assert "--tls-cert" in err and "--tls-key" in err, err


def test_relay_over_mutual_tls(
    mtls_server: RunningServer, pki: Pki, short_clip: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = relay_main(
        [
            str(short_clip),
            "--address",
            f"localhost:{mtls_server.port}",
            *tls_flags(pki, "relay"),
            "--frames",
            "5",
            "--fast",
        ]
    )
    out = capsys.readouterr()
    assert code == 0, out.err
    assert out.out.startswith("5/5 frames"), out.out
