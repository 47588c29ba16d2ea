"""Exports under faults, with the real server as a process: the disk filling up
during an export, and the server killed with SIGKILL mid-export and started again.
The export is failed with its reason (never left looking finished), the next one
completes, and the auditor's `redactor-audit ledger verify` passes after each fault
with every row noted before it still there (no row lost)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import grpc
import pytest
from fault_helpers import (
    AUDITOR,
    CAMERA,
    RECORDING_NAME,
    audit,
    cut_clip,
    export_request,
    healthy,
    ledger_rows,
    ledger_verify,
    source_video,
    start_server,
    watch,
    write_config,
)

from redactor.v1 import redactor_pb2 as pb
from redactor.v1 import redactor_pb2_grpc as pb_grpc

CLIP_SECONDS = 2.0  # 20 frames of opencv_vtest.avi (768x576, 10 fps)
# The export killed mid-way: long enough to still run while the auditor's two CLI calls
# note the ledger (seconds each on busy cores); 20 frames were sometimes done by then.
LONG_RECORDING = "20240501T090000.avi"
LONG_CLIP_SECONDS = 20.0


@pytest.fixture()
def site(tmp_path: Path) -> Path:
    """A service folder: archive with one recording, config, empty ledger."""
    clip = cut_clip(source_video(), tmp_path / "archive" / CAMERA / RECORDING_NAME, CLIP_SECONDS)
    assert clip.stat().st_size > 0
    return tmp_path


def _create(address: str, recording: str = RECORDING_NAME) -> pb.ExportJob:
    with grpc.insecure_channel(address) as ch:
        stub = pb_grpc.ExportsStub(ch)  # type: ignore[no-untyped-call]
        request = export_request(recording=f"{CAMERA}/{recording}")
        job: pb.ExportJob = stub.CreateExport(request, metadata=AUDITOR, timeout=60)
    return job


def _final(address: str, export_id: str, until_running: bool = False) -> pb.ExportJob:
    """The job when it ends (or, with `until_running`, once it has made progress)."""
    with grpc.insecure_channel(address) as ch:
        stub = pb_grpc.ExportsStub(ch)  # type: ignore[no-untyped-call]
        last = None
        for job in watch(stub, export_id):
            last = job
            if (
                until_running
                and job.state == pb.EXPORT_STATE_RUNNING
                and job.frames_done + job.progress > 0
            ):
                return job
        assert last is not None
        return last


def _leftovers(site: Path, export_id: str) -> list[str]:
    out = site / "exports"
    return sorted(p.name for p in out.glob(f"{export_id}*")) if out.exists() else []


def test_disk_full_during_export(site: Path) -> None:
    """RLIMIT_FSIZE makes any file over 2 MB fail to grow (EFBIG), as a full disk does:
    the lossless export video hits it, the small ledger does not."""
    config = write_config(site, crf=0)  # lossless: 20 frames of 768x576 are far over 2 MB
    server = start_server(config, site / "server.log", max_file_bytes=2 << 20)
    try:
        job = _create(server.address)
        head = ledger_verify(config)
        final = _final(server.address, job.id)
        assert final.state == pb.EXPORT_STATE_FAILED, final
        assert "File too large" in final.error or "No space" in final.error, final.error
        assert _leftovers(site, job.id) == [], "a failed export must leave no file behind"
        ledger_verify(config, head)
        assert healthy(server.address)  # the service carries on
        rows = audit(config, "ledger", "show", "--export", job.id, "--json").stdout.splitlines()
        events = [json.loads(r)["event"] for r in rows]
        assert events == ["approved", "failed"], events
        assert "File too large" in json.loads(rows[-1])["detail"]["reason"]
    finally:
        server.stop()
    ledger_verify(config)


def test_sigkill_during_export_then_restart(site: Path) -> None:
    cut_clip(source_video(), site / "archive" / CAMERA / LONG_RECORDING, LONG_CLIP_SECONDS)
    config = write_config(site)
    server = start_server(config, site / "server.log")
    try:
        job = _create(server.address, LONG_RECORDING)
        running = _final(server.address, job.id, until_running=True)
        assert running.state == pb.EXPORT_STATE_RUNNING, running
        head = ledger_verify(config)  # noted while the export runs
        rows_before = ledger_rows(config)
    finally:
        server.kill()
    ledger_verify(config, head)  # what a SIGKILL leaves verifies, every noted row still there

    server = start_server(config, site / "server2.log")
    try:
        with grpc.insecure_channel(server.address) as ch:
            stub = pb_grpc.ExportsStub(ch)  # type: ignore[no-untyped-call]
            after = stub.GetExport(pb.GetExportRequest(id=job.id), metadata=AUDITOR, timeout=30)
        assert after.state == pb.EXPORT_STATE_FAILED, after
        assert "stopped while the export was running" in after.error
        assert _leftovers(site, job.id) == [], "no partial file survives a restart"
        head = ledger_verify(config, head)
        assert ledger_rows(config) >= rows_before + 1  # nothing lost, the failure recorded

        # the service works after the fault: a new export completes and verifies
        again = _create(server.address)
        done = _final(server.address, again.id)
        assert done.state == pb.EXPORT_STATE_DONE, done.error
        video = site / "exports" / f"{again.id}.mp4"
        manifest = site / "exports" / f"{again.id}.manifest.json"
        pub = Path(str(site / "keys" / "signing_key.pem") + ".pub")
        r = audit(config, "verify", str(video), str(manifest), "--key", str(pub))
        assert r.returncode == 0, r.stdout + r.stderr
        ledger_verify(config, head)
    finally:
        server.stop()
    shutil.rmtree(site / "exports", ignore_errors=True)
