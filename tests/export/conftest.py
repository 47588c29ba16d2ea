"""Fixtures for export tests: a short real clip in a temporary archive, a config around
it, and a real server on a free port with a real SQLite ledger."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from export_helpers import (
    CAMERA,
    CLIP_SECONDS,
    FILL_POLICY,
    RECORDING_NAME,
    MakeConfig,
    Served,
    cut_clip,
    source_video,
)

from redactor.config import (
    AuthConfig,
    Config,
    ExportConfig,
    PolicyConfig,
    PolicyRouting,
    ReviewConfig,
)
from redactor.server.app import create_server
from redactor.server.exports import ExportsServicer
from redactor.v1 import redactor_pb2_grpc as pb_grpc


@pytest.fixture(scope="session")
def clip_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("clip") / RECORDING_NAME
    cut_clip(source_video(), path, CLIP_SECONDS)
    return path


@pytest.fixture()
def archive(tmp_path: Path, clip_file: Path) -> Path:
    root = tmp_path / "archive"
    (root / CAMERA).mkdir(parents=True)
    (root / CAMERA / RECORDING_NAME).write_bytes(clip_file.read_bytes())
    return root


@pytest.fixture()
def make_config(tmp_path: Path, archive: Path) -> MakeConfig:
    def make(**export: object) -> Config:
        policies = dict(Config().policy.policies)
        policies[FILL_POLICY] = policies["export"].model_copy(update={"style": "fill"})
        assert isinstance(policies[FILL_POLICY], PolicyConfig)
        settings: dict[str, object] = {
            "expiry_period_s": 0.1,
            # released unreviewed unless a test asks for review (tests/review)
            "review": ReviewConfig(required="never"),
            **export,
        }
        return Config(
            auth=AuthConfig(required=True),
            policy=PolicyRouting(policies=policies),
            export=ExportConfig(
                archive_root=archive,
                output_dir=tmp_path / "exports",
                ledger_path=tmp_path / "ledger.sqlite",
                key_path=tmp_path / "keys" / "signing_key.pem",
                **settings,
            ),
        )

    return make


@pytest.fixture()
def config(make_config: MakeConfig) -> Config:
    return make_config()


@pytest.fixture()
def served(config: Config) -> Iterator[Served]:
    running = create_server(config, "127.0.0.1:0")
    exports = next(c for c in running.closables if isinstance(c, ExportsServicer))
    channel = grpc.insecure_channel(running.address)
    try:
        yield Served(running, pb_grpc.ExportsStub(channel), exports, config)  # type: ignore[no-untyped-call]
    finally:
        channel.close()
        running.stop(0)
