"""The Prometheus endpoint listens where server.metrics_host says (a pod: 0.0.0.0)."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

import pytest
from support.configs import export_config
from support.fakes import EmptyDetector
from support.ports import free_port

from redactor.config import Config, ServerConfig
from redactor.server.app import create_server


def test_metrics_listen_on_the_configured_host_only(tmp_path: Path) -> None:
    port = free_port()
    config = Config(
        server=ServerConfig(metrics_port=port, metrics_host="127.0.0.2"),
        export=export_config(tmp_path),
    )
    running = create_server(config, "127.0.0.1:0", detector_factory=lambda n, c: EmptyDetector())
    try:
        body = urllib.request.urlopen(f"http://127.0.0.2:{port}/metrics", timeout=5).read()
        assert b"redactor_cases_overdue" in body and b"redactor_streams_active" in body
        with pytest.raises(urllib.error.URLError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2)
    finally:
        running.stop(0)
