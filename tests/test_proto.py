"""The committed generated code is exactly what the .proto files generate, and the
domain enums are numbered as the proto's (serde passes them across by value)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from redactor import types
from redactor.v1 import redactor_pb2 as pb

ROOT = Path(__file__).resolve().parent.parent


def test_generated_code_matches_proto(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("generate", ROOT / "proto" / "generate.py")
    assert spec and spec.loader
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    written = gen.generate(tmp_path)
    assert written, "protoc wrote nothing"
    for path in written:
        rel = path.relative_to(tmp_path)
        committed = ROOT / rel
        assert committed.is_file(), f"{rel} is generated but not committed: run `make proto`"
        assert committed.read_bytes() == path.read_bytes(), (
            f"{rel} differs from its .proto: run `make proto`"
        )


@pytest.mark.parametrize(
    "domain, proto, prefix",
    [
        (types.Label, pb.Label, "LABEL_"),
        (types.MaskReason, pb.MaskReason, "MASK_REASON_"),
        (types.FrameStatus, pb.FrameStatus, "FRAME_STATUS_"),
        (types.PixelFormat, pb.PixelFormat, "PIXEL_FORMAT_"),
    ],
)
def test_domain_enums_are_numbered_as_the_proto(domain: type, proto: object, prefix: str) -> None:
    ours = {m.name: int(m) for m in domain}  # type: ignore[attr-defined]
    theirs = {
        name.removeprefix(prefix): number
        for name, number in proto.items()  # type: ignore[attr-defined]
        if number != 0
    }
    assert ours == theirs
