"""The committed generated code is exactly what the .proto files generate."""

from __future__ import annotations

import importlib.util
from pathlib import Path

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
        assert committed.read_bytes() == path.read_bytes(), f"{rel} differs from its .proto: run `make proto`"
