"""Segmented exports on a real Dask cluster (scheduler and worker processes on 127.0.0.1),
against the same export in process and the single pass it replaced; and the faults:
a worker killed, a worker with another model file, the scheduler unreachable or lost,
the coordinator killed."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import grpc
import pytest
from export_helpers import SEGMENTED_SOURCE, cut_clip, source_video
from support.ports import free_port

from bench.cluster import Cluster, dask_cluster, kill
from redactor.config import (
    CenterFaceConfig,
    ClusterConfig,
    Config,
    DetectConfig,
    ExportConfig,
    FastPlanConfig,
    PolicyRouting,
    ProfileConfig,
    ReviewConfig,
)
from redactor.detect.registry import ProfileDetector
from redactor.errors import ClusterUnavailable
from redactor.export import manifest
from redactor.export.archive import Archive
from redactor.export.jobs import ExportJob, ExportRequest, ExportState
from redactor.export.redact import detect_clip, plan_masks, track
from redactor.export.service import ExportService
from redactor.models import model_path
from redactor.track import TrackerParams
from redactor.v1 import redactor_pb2 as pb
from redactor.v1 import redactor_pb2_grpc as pb_grpc

pytestmark = [pytest.mark.timeout(90), pytest.mark.data]

CAMERA = "cam-2"
START = datetime(2024, 5, 1, 9, 0, 0, tzinfo=UTC)  # the recording's name
RECORDING = f"{CAMERA}/{START:%Y%m%dT%H%M%S}.mp4"
PROFILE = "quick"  # CenterFace once per frame: real detections, a few per second on 2 cores


def request(start_s: float, end_s: float) -> ExportRequest:
    """Seconds of the recording; faces walk through from 8 s on. Segments are 1 s here."""
    return ExportRequest(
        camera_id=CAMERA,
        start=START + timedelta(seconds=start_s),
        end=START + timedelta(seconds=end_s),
        recipient="police-112",
        officer="Insp. Kim 1234",
        purpose="investigation",
        legal_basis="PIPA art. 18(2)7",
    )


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("recording") / "clip.mp4"
    cut_clip(source_video(SEGMENTED_SOURCE), path, 20)
    return path


def make_config(
    tmp: Path, recording: Path, scheduler: str = "", plan: str = "fast", **cluster: Any
) -> Config:
    archive = tmp / "archive"
    (archive / CAMERA).mkdir(parents=True, exist_ok=True)
    shutil.copy(recording, archive / RECORDING)
    profiles = {
        **DetectConfig().profiles,
        PROFILE: ProfileConfig(detectors=(CenterFaceConfig(scale=1.0, min_score=0.12),)),
    }
    policies = dict(PolicyRouting().policies)
    policies["export"] = policies["export"].model_copy(update={"profile": PROFILE})
    return Config(
        detect=DetectConfig(profiles=profiles, warmup_size=(0, 0)),
        policy=PolicyRouting(policies=policies),
        export=ExportConfig(
            archive_root=archive,
            output_dir=tmp / "exports",
            ledger_path=tmp / "ledger.sqlite",
            key_path=tmp / "keys" / "signing_key.pem",
            segment_s=1.0,
            plan=plan,
            review=ReviewConfig(required="never"),
            fast=FastPlanConfig(region_profile=PROFILE),
            cluster=ClusterConfig(
                scheduler=scheduler,
                **{"connect_timeout_s": 10.0, "task_timeout_s": 30.0, **cluster},
            ),
        ),
    )


def finish(service: ExportService, job: ExportJob) -> list[ExportJob]:
    return list(service.watch(job.id))


def masks_of(job: ExportJob) -> list[list[list[float]]]:
    doc = json.loads(Path(job.manifest_path).read_text())["manifest"]
    masks: list[list[list[float]]] = doc["masks"]
    return masks


def single_pass_masks(config: Config, req: ExportRequest) -> list[list[list[float]]]:
    """The export's masks as the single pass before segments made them, formatted as the
    manifest writes them."""
    assert req.start is not None and req.end is not None
    selection = Archive(config.export.archive_root).select_range(CAMERA, req.start, req.end)
    detector = ProfileDetector(PROFILE, config.detect.profiles[PROFILE], config.models.dir)
    try:
        found = detect_clip(selection, detector)
    finally:
        detector.close()
    params = TrackerParams(hold_s=config.export.lookahead_s)
    policy = config.policy.policies["export"]
    plan = plan_masks(found, track(found, params), policy)
    return [
        [
            [round(float(v), 1) for v in b] + [int(lab), int(r)]
            for b, lab, r in zip(m.boxes, m.labels, m.reasons, strict=True)
        ]
        for m in plan.masks
    ]


def times(path: Path) -> list[Fraction]:
    """Each decoded frame's pts in seconds."""
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        assert s.time_base is not None
        tb = Fraction(s.time_base)
        return [int(f.pts) * tb for f in c.decode(s) if f.pts is not None]


def assert_complete(service: ExportService, job: ExportJob, recording: Path, frames: int) -> None:
    """Done, verifying, `frames` frames from 8 s on, with the source's own timestamps."""
    assert job.state is ExportState.DONE, job.error
    assert manifest.verify(Path(job.video_path), Path(job.manifest_path)).ok
    assert len(masks_of(job)) == frames
    src = times(recording)
    assert times(Path(job.video_path)) == [t for t in src if 8 <= t - src[0] < 8 + frames / 10]
    assert service.ledger.verify(service.key.public_key()).ok


def only_finished_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with dask_cluster(tmp_path_factory.mktemp("cluster"), workers=2) as c:
        yield c


@pytest.mark.parametrize("plan", ["fast", "exhaustive"])
def test_cluster_equals_in_process_and_the_single_pass(
    cluster: Cluster, recording: Path, tmp_path: Path, plan: str
) -> None:
    req = request(8.0, 11.0)  # 30 frames, 3 segments
    results = {}
    for name, scheduler in (("in-process", ""), ("cluster", cluster.address)):
        config = make_config(tmp_path / name, recording, scheduler, plan)
        service = ExportService(config)
        try:
            updates = finish(service, service.create(req, "auditor@test"))
            job = updates[-1]
            assert_complete(service, job, recording, 30)
            assert job.segments_total == job.segments_encoded == 3, name
            assert [u.segments_detected for u in updates] == sorted(
                u.segments_detected for u in updates
            )
            assert any(u.segments_planned == 3 and u.segments_encoded < 3 for u in updates)
            results[name] = masks_of(job)
            planned = json.loads(Path(job.manifest_path).read_text())["manifest"]["plan"]
            assert planned["name"] == plan
            if (
                plan == "fast"
            ):  # a sweep starts each segment; the other frames look closer or not at all
                assert planned["frames_swept"] >= 3 and planned["frames_regions"] > 0
        finally:
            service.close()
    assert results["cluster"] == results["in-process"]
    assert sum(len(m) for m in results["cluster"]) > 10, "the clip should have faces to mask"
    if plan == "fast":
        return
    reference = single_pass_masks(config, req)
    assert results["cluster"] == reference
    assert sum(len(m) for m in reference) > 10, "the clip should have faces to mask"


def test_a_killed_worker_s_segments_run_elsewhere(recording: Path, tmp_path: Path) -> None:
    req = request(8.0, 14.0)  # 60 frames, 6 segments
    with dask_cluster(tmp_path / "cluster", workers=2) as c:
        pids = c.worker_pids()
        config = make_config(tmp_path / "export", recording, c.address)
        service = ExportService(config)
        try:
            job = service.create(req, "auditor@test")
            from distributed import Client

            with Client(c.address, timeout=30, set_as_default=False) as watcher:
                deadline = time.monotonic() + 30
                busy: list[str] = []
                while not busy and time.monotonic() < deadline:
                    busy = [w for w, keys in watcher.processing().items() if keys]
                    time.sleep(0.02)
                assert busy, "no worker took a task"
                os.kill(pids[busy[0]], signal.SIGKILL)
            done = finish(service, job)[-1]
            assert_complete(service, done, recording, 60)
        finally:
            service.close()
    local = ExportService(make_config(tmp_path / "local", recording))
    try:
        same = finish(local, local.create(req, "auditor@test"))[-1]
    finally:
        local.close()
    assert masks_of(done) == masks_of(same), "the re-run segments planned other masks"


def test_a_worker_with_another_model_file_is_refused(recording: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    real = model_path("centerface")
    altered = models / real.name
    altered.write_bytes(real.read_bytes() + b"\0")
    with dask_cluster(
        tmp_path / "cluster", workers=1, env={"REDACTOR_MODEL_DIR": str(models)}
    ) as c:
        config = make_config(tmp_path / "export", recording, c.address, retries=0)
        service = ExportService(config)
        try:
            job = finish(service, service.create(request(8.0, 9.0), "auditor@test"))[-1]
            assert job.state is ExportState.FAILED
            assert str(altered) in job.error and "sha256" in job.error, job.error
            assert "worker tcp://127.0.0.1:" in job.error
            assert only_finished_files(config.export.output_dir) == []
        finally:
            service.close()


def test_an_unreachable_scheduler_stops_the_start(recording: Path, tmp_path: Path) -> None:
    address = f"tcp://127.0.0.1:{free_port()}"
    config = make_config(tmp_path, recording, address, connect_timeout_s=1.0)
    with pytest.raises(ClusterUnavailable, match=re.escape(address)):
        ExportService(config)
    (tmp_path / "center.toml").write_text(
        f'[export.cluster]\nconnect_timeout_s = 1.0\n[export]\noutput_dir = "{tmp_path}/out"\n'
        f'ledger_path = "{tmp_path}/ledger.sqlite"\nkey_path = "{tmp_path}/key.pem"\n'
        "[detect]\nwarmup_size = [0, 0]\n"
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "redactor.cli",
            "serve",
            "--config",
            str(tmp_path / "center.toml"),
            "--no-console",
        ]
        + ["--address", "127.0.0.1:0", "--metrics-port", "0", "--scheduler", address],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    assert address in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


def test_a_lost_scheduler_fails_the_job_closed(recording: Path, tmp_path: Path) -> None:
    with dask_cluster(tmp_path / "cluster", workers=2) as c:
        config = make_config(tmp_path / "export", recording, c.address)
        service = ExportService(config)
        try:
            job = service.create(request(8.0, 16.0), "auditor@test")
            for update in service.watch(job.id):
                if update.state is ExportState.RUNNING and update.segments_total:
                    kill(c.scheduler)
                    break
            failed = finish(service, job)[-1]
            assert failed.state is ExportState.FAILED
            assert c.address in failed.error, failed.error
            assert only_finished_files(config.export.output_dir) == []
            assert service.ledger.verify(service.key.public_key()).ok
            # the scheduler back at its address: the next export reconnects and completes
            port = int(c.address.rsplit(":", 1)[1])
            with dask_cluster(tmp_path / "again", workers=1, port=port):
                again = finish(service, service.create(request(8.0, 9.0), "auditor@test"))[-1]
                assert again.state is ExportState.DONE, again.error
        finally:
            service.close()


def test_a_killed_coordinator_leaves_a_failed_job_and_a_sound_ledger(
    cluster: Cluster, recording: Path, tmp_path: Path
) -> None:
    config = make_config(tmp_path, recording, cluster.address)
    e = config.export
    (tmp_path / "center.toml").write_text(
        f'[export]\narchive_root = "{e.archive_root}"\noutput_dir = "{e.output_dir}"\n'
        f'ledger_path = "{e.ledger_path}"\nkey_path = "{e.key_path}"\nsegment_s = 1.0\n'
        "[detect]\nwarmup_size = [0, 0]\n"
    )
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "redactor.cli",
            "serve",
            "--config",
            str(tmp_path / "center.toml"),
            "--no-console",
        ]
        + ["--address", "127.0.0.1:0", "--metrics-port", "0", "--scheduler", cluster.address],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        assert server.stdout is not None
        address = ""
        for line in server.stdout:
            if m := re.search(r"serving on (\S+)", line):
                address = m.group(1)
                break
        assert address, "the server did not start"
        channel = grpc.insecure_channel(address)
        stub = pb_grpc.ExportsStub(channel)  # type: ignore[no-untyped-call]
        auditor = (("authorization", "Bearer auditor-dev-token"),)
        created = stub.CreateExport(
            pb.CreateExportRequest(
                recording=RECORDING,
                recipient="police-112",
                officer="Insp. Kim 1234",
                purpose="investigation",
                legal_basis="PIPA art. 18(2)7",
            ),
            metadata=auditor,
            timeout=30,
        )
        for update in stub.WatchExport(
            pb.WatchExportRequest(id=created.id), metadata=auditor, timeout=60
        ):
            assert update.state != pb.EXPORT_STATE_DONE, "the export ended before the kill"
            if update.segments_total:
                break  # cut, detection under way: the export is mid-way
        channel.close()
    finally:
        kill(server)
    service = ExportService(
        config.model_copy(update={"export": e.model_copy(update={"cluster": ClusterConfig()})})
    )
    try:
        job = service.get(created.id)
        assert (
            job.state is ExportState.FAILED and "stopped while the export was running" in job.error
        )
        assert service.ledger.verify(service.key.public_key()).ok
        assert str(service.ledger.entries(export_id=job.id)[-1].event) == "failed"
        assert only_finished_files(e.output_dir) == []
    finally:
        service.close()


def test_a_task_lost_with_its_workers_is_named_for_an_operator() -> None:
    from types import SimpleNamespace

    from distributed import KilledWorker

    from redactor.errors import ClusterUnavailable
    from redactor.export.executor import cluster_failure

    lost = KilledWorker("detect-1", SimpleNamespace(address="tcp://127.0.0.1:40001"), 3)  # type: ignore[arg-type]
    err = cluster_failure(lost, "tcp://127.0.0.1:8786")
    assert isinstance(err, ClusterUnavailable)
    assert "3 times" in str(err) and "tcp://127.0.0.1:40001" in str(err)
    assert "tcp://127.0.0.1:8786" in str(err)
    assert cluster_failure(ValueError("x"), "a").__class__ is ValueError


def test_a_worker_checks_the_model_files_of_all_its_profiles_together() -> None:
    from redactor.export.tasks import check_worker, expected

    profiles = DetectConfig().profiles
    both = [profiles["roi"], profiles["thorough"]]  # roi loads a subset of thorough's files
    check_worker(expected(both, None), both)  # the files are here: no refusal


def test_a_cluster_started_again_in_the_same_folder_reaches_its_own_scheduler(
    tmp_path: Path,
) -> None:
    """The scheduler file of a cluster stopped earlier names a dead address: a new cluster
    in that folder must not wait on it (bench.export starts one per plan in one folder)."""
    folder = tmp_path / "cluster-1"
    with dask_cluster(folder, workers=0) as first:
        old = first.address
    with dask_cluster(folder, workers=1) as second:
        assert second.address != old
        assert len(second.worker_pids()) == 1


@pytest.mark.parametrize("plan", ["exhaustive", "fast"])
def test_a_one_core_task_runs_on_its_own_thread(recording: Path, plan: str) -> None:
    """A worker of one thread must use one core, or two workers on two cores are no faster
    than one: with `cores=1` the detectors, the decoder, OpenCV and the encoder all run on
    the task's thread, so the process spends no CPU beside it."""
    from redactor.export import segments, tasks
    from redactor.export.archive import probe
    from redactor.types import Masks

    config = Config()
    profile = "realtime"  # two detectors (faces, plate text): run at once unless capped
    assert len(config.detect.profiles[profile].detectors) > 1
    assert config.detect.profiles[profile].parallel
    info = probe(recording)
    seg = segments.cut(recording, 1.0)[8]  # faces walk through from 8 s on
    profiles = {profile: config.detect.profiles[profile].model_dump(mode="json")}
    expected = tasks.expected([config.detect.profiles[profile]], None)
    fast = FastPlanConfig(region_profile=profile, looks="windows", sweep_s=0.2)
    detect = tasks.DetectTask(
        "t", str(recording), seg, info.width, info.height, profile, profiles, 1, 0, expected,
        fast.model_dump(mode="json") if plan == "fast" else None, 1,
    )  # fmt: skip
    policy = PolicyRouting().policies["export"].model_dump(mode="json")
    encode = tasks.EncodeTask(
        "t", str(recording), seg, info.width, info.height, str(info.rate),
        str(info.time_base), policy, [Masks.none()] * len(seg.pts), "mark", 18, "veryfast",
        2, expected, 1,
    )  # fmt: skip
    tasks.detect_segment(detect)  # detectors made and warmed up
    for run in (lambda: tasks.detect_segment(detect), lambda: tasks.encode_segment(encode)):
        process, thread = time.process_time(), time.thread_time()
        run()
        process, thread = time.process_time() - process, time.thread_time() - thread
        assert thread > 0.02  # it ran on this thread; the ratio below is the check
        assert process - thread < 0.1 * thread, (process, thread)
