"""bench.server: a server that cannot start is reported with why, at once."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bench.server import START_TIMEOUT_S, ServerProcess


def test_a_server_that_exits_at_start_is_reported_with_its_error(tmp_path: Path) -> None:
    bad = "[live.motion]\nprofile = 'no-such-profile'\n"
    t0 = time.monotonic()
    with pytest.raises(RuntimeError) as e:
        ServerProcess(tmp_path, tmp_path / "server.log", 1, bad).start()
    assert time.monotonic() - t0 < START_TIMEOUT_S / 2  # not the whole start timeout
    assert "exited with code" in str(e.value)
    assert "no-such-profile" in str(e.value)  # the configuration error itself
