"""Fixtures for retention tests: tiny real recordings in a temporary archive, a clock the
test moves, and holds and retention over a real SQLite ledger."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from retention_helpers import T0, Clock, Env, make_clip

from redactor.retention import RetentionService


@pytest.fixture(scope="session")
def clip(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return make_clip(tmp_path_factory.mktemp("clip") / "clip.mp4").read_bytes()


@pytest.fixture()
def env(tmp_path: Path, clip: bytes) -> Env:
    return Env(tmp_path, clip)


@pytest.fixture()
def clock() -> Clock:
    return Clock(T0 + timedelta(hours=1))


@pytest.fixture()
def svc(env: Env, clock: Clock) -> Iterator[RetentionService]:
    """Holds and retention on a real signed ledger; the ledger must verify afterwards."""
    service = RetentionService.open(env.config(), clock)
    yield service
    env.verify_ledger(service)
    service.close()
