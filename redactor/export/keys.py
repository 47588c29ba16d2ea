"""The service's Ed25519 signing key: loaded from a PEM file, made once if absent.

The private key is written with mode 0600; its public half is written beside
it (`<key>.pub`, SubjectPublicKeyInfo PEM) for auditors, who verify manifests
and ledger rows with it and never need the private key.
"""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from redactor.errors import ConfigError


def public_path(key_path: Path) -> Path:
    return key_path.with_name(key_path.name + ".pub")


def load_or_create(key_path: Path) -> Ed25519PrivateKey:
    """The key at `key_path`; a new one (and its .pub) where no file exists."""
    key_path = Path(key_path)
    if key_path.exists():
        try:
            key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        except (OSError, ValueError, TypeError) as e:
            raise ConfigError(
                f"export.key_path {key_path}: cannot read an Ed25519 PEM key: {e}"
            ) from e
        if not isinstance(key, Ed25519PrivateKey):
            raise ConfigError(
                f"export.key_path {key_path}: expected an Ed25519 key, got {type(key).__name__}"
            )
    else:
        key = Ed25519PrivateKey.generate()
        key_path.parent.mkdir(parents=True, exist_ok=True)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        # O_EXCL: two services starting at once never overwrite each other's key
        fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(pem)
    pub = public_path(key_path)
    if not pub.exists():
        pub.write_bytes(public_pem(key.public_key()))
    return key


def public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_b64(key: Ed25519PublicKey) -> str:
    return base64.b64encode(raw_public(key)).decode()


def fingerprint(key: Ed25519PublicKey) -> str:
    """SHA-256 of the raw public key, hex: short enough to read aloud, compare and pin."""
    return hashlib.sha256(raw_public(key)).hexdigest()


def load_public(path: Path) -> Ed25519PublicKey:
    """A public key from a PEM file (public, or a private key whose public half is taken)."""
    data = Path(path).read_bytes()
    try:
        key = serialization.load_pem_public_key(data)
    except ValueError:
        priv = serialization.load_pem_private_key(data, password=None)
        if not isinstance(priv, Ed25519PrivateKey):
            raise ConfigError(
                f"{path}: expected an Ed25519 key, got {type(priv).__name__}"
            ) from None
        return priv.public_key()
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigError(f"{path}: expected an Ed25519 public key, got {type(key).__name__}")
    return key


def public_from_b64(text: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(base64.b64decode(text, validate=True))
