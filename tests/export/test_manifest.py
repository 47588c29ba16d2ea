"""Signed manifests: what verification accepts, and each way it says no."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from redactor.export import keys, manifest


@pytest.fixture()
def signed(tmp_path: Path) -> tuple[Path, Path, Ed25519PrivateKey]:
    key = Ed25519PrivateKey.generate()
    video = tmp_path / "x.mp4"
    video.write_bytes(b"\x00\x01 not really a video, but bytes with a hash")
    body = {
        "format": manifest.FORMAT,
        "export_id": "abc",
        "output": {"sha256": manifest.sha256_file(video)},
        "request": {"recipient": "police-112", "officer": "경위 김"},
    }
    doc = tmp_path / "x.manifest.json"
    manifest.write(manifest.sign(body, key), doc)
    return video, doc, key


def failed(result: manifest.Verification) -> list[str]:
    return [c.name for c in result.failed]


def test_accepts_and_pins_the_key(signed: tuple[Path, Path, Ed25519PrivateKey]) -> None:
    video, doc, key = signed
    assert manifest.verify(video, doc).ok
    assert manifest.verify(video, doc, key.public_key()).ok
    other = Ed25519PrivateKey.generate().public_key()
    assert failed(manifest.verify(video, doc, other)) == ["key"]


def test_reformatting_keeps_the_signature(signed: tuple[Path, Path, Ed25519PrivateKey]) -> None:
    video, doc, _ = signed
    doc.write_text(json.dumps(json.loads(doc.read_text()), indent=4))
    assert manifest.verify(video, doc).ok


def test_each_failure_is_named(
    signed: tuple[Path, Path, Ed25519PrivateKey], tmp_path: Path
) -> None:
    video, doc, key = signed
    original = json.loads(doc.read_text())

    changed = json.loads(doc.read_text())
    changed["manifest"]["request"]["officer"] = "someone"
    doc.write_text(json.dumps(changed))
    assert failed(manifest.verify(video, doc)) == ["signature"]

    resigned = manifest.sign(
        changed["manifest"], Ed25519PrivateKey.generate()
    )  # a forger's own key
    doc.write_text(json.dumps(resigned))
    assert manifest.verify(video, doc).ok  # self-consistent ...
    assert failed(manifest.verify(video, doc, key.public_key())) == [
        "key"
    ]  # ... but not the center's

    doc.write_text(json.dumps(original))
    video.write_bytes(video.read_bytes() + b"!")
    assert failed(manifest.verify(video, doc)) == ["video_sha256"]
    assert failed(manifest.verify(tmp_path / "absent.mp4", doc)) == ["video_sha256"]

    doc.write_text("{not json")
    assert failed(manifest.verify(video, doc)) == ["manifest"]


def test_key_is_made_once_and_kept_private(tmp_path: Path) -> None:
    path = tmp_path / "k" / "signing_key.pem"
    a = keys.load_or_create(path)
    b = keys.load_or_create(path)
    assert keys.fingerprint(a.public_key()) == keys.fingerprint(b.public_key())
    assert path.stat().st_mode & 0o077 == 0
    assert keys.fingerprint(keys.load_public(keys.public_path(path))) == keys.fingerprint(
        a.public_key()
    )
