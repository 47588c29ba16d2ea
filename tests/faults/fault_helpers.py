"""Fault injection for tests: a real server run as a subprocess (`python -m
redactor.cli serve`) that can be killed or starved of disk, and the auditor's
ledger check (`redactor-audit ledger verify`) run as a command. The detectors
that fail or hang are in support.fakes."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from redactor.data import data_dir
from redactor.v1 import redactor_pb2 as pb
from redactor.v1 import redactor_pb2_grpc as pb_grpc

AUDITOR = (("authorization", "Bearer auditor-dev-token"),)
CAMERA = "cam-1"
RECORDING_NAME = "20240501T080000.avi"
START_TIMEOUT_S = 180.0  # a cold start on 2 busy cores loads three models and compiles kernels


# ---------------------------------------------------------------- a server as a process


def source_video() -> Path:
    root = data_dir()
    if root is None or not (root / "videos" / "opencv_vtest.avi").is_file():
        pytest.skip("shared data (videos/opencv_vtest.avi) is absent; set REDACTOR_DATA")
    return root / "videos" / "opencv_vtest.avi"


def cut_clip(src: Path, dst: Path, seconds: float) -> Path:
    """The first `seconds` of `src`, packets copied (frames and timestamps are the source's)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(src)) as inp, av.open(str(dst), "w") as out:
        s = inp.streams.video[0]
        o = out.add_stream_from_template(s)
        assert s.time_base is not None
        for packet in inp.demux(s):
            if packet.pts is None or packet.pts * s.time_base >= seconds:
                break
            packet.stream = o
            out.mux(packet)
    return dst


def write_config(folder: Path, crf: int = 18, extra: str = "") -> Path:
    """A TOML config with its archive, exports, ledger and key under `folder`, and a
    light (one real model) detection profile, so exports are quick on 2 cores."""
    detect = '[{ kind = "centerface", max_side = 640, min_score = 0.2 }]'
    path = folder / "redactor.toml"
    path.write_text(
        f'[server]\naddress = "127.0.0.1:0"\ngrace_s = 1.0\n'
        f'[export]\narchive_root = "{folder}/archive"\noutput_dir = "{folder}/exports"\n'
        f'ledger_path = "{folder}/ledger.sqlite"\nkey_path = "{folder}/keys/signing_key.pem"\n'
        f'crf = {crf}\npreset = "ultrafast"\nencoder_threads = 1\n'
        # released unreviewed: these test faults, tests/review tests review
        f'[export.review]\nrequired = "never"\n'
        f"[detect.profiles.realtime]\ndetectors = {detect}\n"
        f"[detect.profiles.live]\ndetectors = {detect}\n"
        f"[detect.profiles.thorough]\ndetectors = {detect}\n"
        f"[detect.profiles.roi]\ndetectors = {detect}\n"
        f"[detect.profiles.look]\ndetectors = {detect}\n"
        f"[detect.profiles.sweep]\ndetectors = {detect}\n" + extra
    )
    return path


@dataclass
class ServerProcess:
    proc: subprocess.Popen[str]
    port: int
    log: Path

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def channel(self) -> grpc.Channel:
        return grpc.insecure_channel(self.address)

    def exports(self, ch: grpc.Channel) -> pb_grpc.ExportsStub:
        return pb_grpc.ExportsStub(ch)  # type: ignore[no-untyped-call]

    def kill(self) -> None:
        """SIGKILL: no handler runs, nothing is flushed or closed."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.kill()


def start_server(config: Path, log: Path, max_file_bytes: int | None = None) -> ServerProcess:
    """`python -m redactor.cli serve --config CONFIG`; waits for its address line.

    `max_file_bytes` sets RLIMIT_FSIZE in the child: any write that would make a
    file larger fails with EFBIG, as on a full disk (CPython ignores SIGXFSZ).
    The child sets it itself, first thing: a preexec_fn would run Python in a
    fork of this process, whose gRPC threads (earlier tests' channels) then left
    the child broken before its exec, once in a CI run ("epoll_wait error: Bad
    file descriptor", no server)."""
    args = ["serve", "--config", str(config), "--metrics-port", "0", "--no-console"]
    if max_file_bytes is None:
        cmd = [sys.executable, "-m", "redactor.cli", *args]
    else:
        launch = (
            "import resource, runpy, sys; "
            f"resource.setrlimit(resource.RLIMIT_FSIZE, ({max_file_bytes}, {max_file_bytes})); "
            f"sys.argv = ['redactor.cli', *{args!r}]; runpy.run_module('redactor.cli', run_name='__main__')"
        )
        cmd = [sys.executable, "-c", launch]
    err = log.open("a")
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        stderr=err,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    err.close()
    assert proc.stdout is not None
    line = ""
    t0 = time.monotonic()
    while time.monotonic() - t0 < START_TIMEOUT_S:
        line = proc.stdout.readline()
        if line or proc.poll() is not None:
            break
    m = re.search(r"serving on 127\.0\.0\.1:(\d+)", line)
    if m is None:
        proc.kill()
        raise AssertionError(f"server did not start: {line!r}\n{log.read_text()[-3000:]}")
    return ServerProcess(proc, int(m.group(1)), log)


def healthy(address: str, timeout: float = 5.0) -> bool:
    with grpc.insecure_channel(address) as ch:
        resp = health_pb2_grpc.HealthStub(ch).Check(
            health_pb2.HealthCheckRequest(), timeout=timeout
        )
    return bool(resp.status == health_pb2.HealthCheckResponse.SERVING)


def export_request(**fields: object) -> pb.CreateExportRequest:
    base: dict[str, object] = {
        "recording": f"{CAMERA}/{RECORDING_NAME}",
        "recipient": "police-112",
        "officer": "Insp. Kim 1234",
        "purpose": "fault test",
        "legal_basis": "PIPA art. 18(2)7",
    }
    base.update(fields)
    return pb.CreateExportRequest(**base)  # type: ignore[arg-type]


def watch(
    stub: pb_grpc.ExportsStub, export_id: str, timeout: float = 300.0
) -> Iterator[pb.ExportJob]:
    yield from stub.WatchExport(
        pb.WatchExportRequest(id=export_id), metadata=AUDITOR, timeout=timeout
    )


# ---------------------------------------------------------------- the auditor's checks


def audit(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`redactor-audit --config CONFIG ARGS...` as the auditor runs it."""
    return subprocess.run(
        [sys.executable, "-m", "redactor.clients.audit", "--config", str(config), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def ledger_verify(config: Path, head: str | None = None) -> str:
    """Runs `redactor-audit ledger verify` (with `--head` where given); fails the test
    if the chain is broken or the noted head is gone; returns the new head."""
    pub = Path(str(config.parent / "keys" / "signing_key.pem") + ".pub")
    args = ["ledger", "verify", "--key", str(pub)] + (["--head", head] if head else [])
    r = audit(config, *args)
    assert r.returncode == 0, f"ledger verify failed:\n{r.stdout}\n{r.stderr}"
    m = re.search(r"head: (\d+:[0-9a-f]{64})", r.stdout)
    assert m is not None, r.stdout
    return m.group(1)


def ledger_rows(config: Path) -> int:
    r = audit(config, "ledger", "show", "--json")
    assert r.returncode == 0, r.stderr
    return len([line for line in r.stdout.splitlines() if line.strip()])
