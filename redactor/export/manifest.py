"""The signed JSON manifest that travels beside every export, and its verification.

File layout (UTF-8 JSON):

    {"manifest": {...}, "signature": {"algorithm": "Ed25519", "public_key": <b64 raw>,
                                      "key_fingerprint": <sha256 hex>, "value": <b64>}}

The signature covers the canonical JSON of "manifest" (sorted keys, no spaces,
UTF-8), so re-indenting the file does not break it but changing any value does.
"manifest.output.sha256" binds the video. The public key in the file only says
which key signed; trust comes from comparing it with the center's published key
(`redactor-audit verify --key signing_key.pem.pub`, or its fingerprint).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from redactor.export import keys
from redactor.ledger.ledger import canonical_json

FORMAT = "redactor-export-manifest/1"
ALGORITHM = "Ed25519"
_HASH_BLOCK = 1 << 20


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with Path(path).open("rb") as f:
        while block := f.read(_HASH_BLOCK):
            h.update(block)
    return h.hexdigest()


def sign(manifest: Mapping[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    """The signed document: the manifest and its signature block."""
    body = dict(manifest)
    pub = key.public_key()
    value = key.sign(canonical_json(body).encode())
    return {
        "manifest": body,
        "signature": {
            "algorithm": ALGORITHM,
            "public_key": keys.public_b64(pub),
            "key_fingerprint": keys.fingerprint(pub),
            "value": base64.b64encode(value).decode(),
        },
    }


def write(doc: Mapping[str, Any], path: Path) -> None:
    Path(path).write_text(json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False) + "\n")


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    message: str


@dataclass(frozen=True, slots=True)
class Verification:
    checks: tuple[Check, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    @property
    def failed(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if not c.ok)


def verify(
    video: Path, manifest_path: Path, trusted: Ed25519PublicKey | None = None
) -> Verification:
    """Checks the manifest's signature, the video's SHA-256 and (given `trusted`) the key.

    Every check runs even when an earlier one fails, so the report says all that
    is wrong, each by name: "manifest" (readable, well-formed), "signature",
    "key" (signed by the trusted key) and "video_sha256".
    """
    checks: list[Check] = []
    try:
        doc = json.loads(Path(manifest_path).read_text(encoding="utf-8"))
        body = doc["manifest"]
        sig = doc["signature"]
        if not isinstance(body, dict) or not isinstance(sig, dict):
            raise TypeError("manifest and signature must be JSON objects")
        expected_hash = str(body["output"]["sha256"])
    except (OSError, ValueError, KeyError, TypeError) as e:
        return Verification((Check("manifest", False, f"cannot read {manifest_path}: {e}"),))
    checks.append(
        Check("manifest", True, f"{FORMAT if body.get('format') == FORMAT else 'unknown format'}")
    )

    signer: Ed25519PublicKey | None = None
    try:
        if sig.get("algorithm") != ALGORITHM:
            raise ValueError(f"expected algorithm {ALGORITHM}, got {sig.get('algorithm')!r}")
        signer = keys.public_from_b64(str(sig["public_key"]))
        signer.verify(
            base64.b64decode(str(sig["value"]), validate=True), canonical_json(body).encode()
        )
        checks.append(
            Check(
                "signature",
                True,
                f"valid Ed25519 signature by key {keys.fingerprint(signer)[:16]}…",
            )
        )
    except InvalidSignature:
        checks.append(
            Check(
                "signature",
                False,
                "the signature does not match the manifest: the manifest was altered "
                "after signing (or signed by another key)",
            )
        )
    except (ValueError, KeyError, TypeError) as e:
        checks.append(Check("signature", False, f"the signature block is malformed: {e}"))

    if trusted is not None:
        want = keys.fingerprint(trusted)
        got = keys.fingerprint(signer) if signer is not None else "none"
        checks.append(
            Check(
                "key",
                signer is not None and got == want,
                f"signed by the trusted key {want[:16]}…"
                if got == want
                else f"signed by key {got[:16]}…, expected the trusted key {want[:16]}…",
            )
        )

    try:
        actual = sha256_file(video)
    except OSError as e:
        checks.append(Check("video_sha256", False, f"cannot read {video}: {e}"))
    else:
        checks.append(
            Check(
                "video_sha256",
                actual == expected_hash,
                f"SHA-256 {actual} matches the manifest"
                if actual == expected_hash
                else f"SHA-256 of the video is {actual}, the manifest says {expected_hash}: "
                "the video was altered or is another file",
            )
        )
    return Verification(tuple(checks))
