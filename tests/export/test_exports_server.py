"""Exports against a real server (port 0), real SQLite ledger, real clip, real codecs."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import av
import grpc
import numpy as np
import pytest
from export_helpers import (
    AUDITOR,
    CAMERA,
    CLIP_SECONDS,
    FILL_POLICY,
    OPERATOR,
    RECORDING,
    Served,
    download,
    request,
    wait_done,
)

from redactor.clients.audit import main as audit
from redactor.export import keys
from redactor.ledger import Event, Ledger
from redactor.v1 import redactor_pb2 as pb

VIDEO, MANIFEST = pb.EXPORT_ARTIFACT_VIDEO, pb.EXPORT_ARTIFACT_MANIFEST


def frame_times(path: Path) -> tuple[list[Fraction], list[np.ndarray], av.container.InputContainer]:
    """Presentation times (exact, seconds) and BGR pixels of every frame."""
    times, frames = [], []
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        for f in c.decode(s):
            assert f.pts is not None and s.time_base is not None
            times.append(Fraction(f.pts) * Fraction(s.time_base))
            frames.append(f.to_ndarray(format="bgr24"))
    return times, frames, c


def ledger_rows(served: Served, export_id: str = "", event: Event | None = None) -> list[str]:
    with Ledger(served.config.export.ledger_path, create=False) as ledger:
        rows = ledger.entries(export_id=export_id or None, event=event)
    return [str(e.event) for e in rows]


def test_export_completes_with_source_timing_and_verifies(
    served: Served, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    job = served.stub.CreateExport(request(), metadata=AUDITOR)
    assert job.state == pb.EXPORT_STATE_QUEUED and job.id
    assert job.expires_at.ToDatetime(tzinfo=UTC) - job.created_at.ToDatetime(
        tzinfo=UTC
    ) == timedelta(days=30)
    updates = wait_done(served.stub, job.id)
    final = updates[-1]
    assert final.state == pb.EXPORT_STATE_DONE, final.error
    assert final.frames_done == final.frames_total == CLIP_SECONDS * 10
    progress = [u.progress for u in updates]
    assert progress == sorted(progress) and progress[-1] == 1.0 and len(updates) > 2
    assert (
        served.stub.GetExport(pb.GetExportRequest(id=job.id), metadata=OPERATOR).state
        == pb.EXPORT_STATE_DONE
    )
    listed = served.stub.ListExports(pb.ListExportsRequest(camera_id=CAMERA), metadata=AUDITOR).jobs
    assert [j.id for j in listed] == [job.id]
    assert (
        served.stub.ListExports(pb.ListExportsRequest(recipient="fire-119"), metadata=AUDITOR).jobs
        == []
    )

    video = download(served.stub, job.id, VIDEO, tmp_path / "out.mp4")
    manifest = download(served.stub, job.id, MANIFEST, tmp_path / "out.manifest.json")

    # exactly the source's frames and timing, H.264, no audio
    src_times, src_frames, _ = frame_times(served.config.export.archive_root / RECORDING)
    out_times, out_frames, _ = frame_times(video)
    assert len(out_times) == len(src_times) == CLIP_SECONDS * 10
    assert out_times == src_times
    with av.open(str(video)) as c:
        assert len(c.streams) == 1 and len(c.streams.audio) == 0
        assert c.streams.video[0].codec_context.name == "h264"
        assert c.streams.video[0].average_rate == 10

    doc = json.loads(manifest.read_text())["manifest"]
    assert doc["output"]["frame_count"] == 30 and doc["output"]["sha256"] == final.output_sha256
    assert doc["request"]["legal_basis"] == "PIPA art. 18(2)7" and doc["export_id"] == job.id
    assert [d["name"] for d in doc["detection"]["detectors"]] and all(
        len(d["model_sha256"]) >= 64 for d in doc["detection"]["detectors"]
    )
    assert doc["detection"]["profile"] == "thorough"
    assert len(doc["masks"]) == 30 and sum(len(m) for m in doc["masks"]) > 30  # faces are masked
    assert job.id in doc["output"]["mark"] and "police-112" in doc["output"]["mark"]

    # the mark is burned into every frame: an opaque dark band with light text, top left
    for src, out in zip(src_frames, out_frames, strict=True):
        band, before = out[2:14, 2:200].astype(int), src[2:14, 2:200].astype(int)
        assert band.mean() < 60 and (band > 180).mean() > 0.03
        assert np.abs(band - before).mean() > 30

    # verify: accepted as downloaded, pinned to the center's key
    pub = str(keys.public_path(served.config.export.key_path))
    assert audit(["verify", str(video), str(manifest), "--key", pub]) == 0
    assert "VERIFIED" in capsys.readouterr().out

    # one byte of the video changed → the hash check fails, the signature still holds
    bad_video = tmp_path / "bad.mp4"
    data = bytearray(video.read_bytes())
    data[len(data) // 2] ^= 0x01
    bad_video.write_bytes(bytes(data))
    assert audit(["verify", str(bad_video), str(manifest)]) == 1
    cap = capsys.readouterr()
    assert "FAILED video_sha256" in cap.out and "OK     signature" in cap.out

    # one field of the manifest changed → the signature check fails, the hash still holds
    signed = json.loads(manifest.read_text())
    signed["manifest"]["request"]["recipient"] = "someone-else"
    bad_manifest = tmp_path / "bad.manifest.json"
    bad_manifest.write_text(json.dumps(signed))
    assert audit(["verify", str(video), str(bad_manifest)]) == 1
    cap = capsys.readouterr()
    assert "FAILED signature" in cap.out and "OK     video_sha256" in cap.out

    # the whole provision is on the ledger, and the ledger holds
    assert ledger_rows(served, job.id) == ["approved", "completed", "downloaded", "downloaded"]
    with Ledger(served.config.export.ledger_path, create=False) as ledger:
        got = ledger.entries(export_id=job.id, event=Event.DOWNLOADED)
    # the access log: the caller's address on every download
    assert all(str(e.detail["client"]).startswith("ipv4:127.0.0.1:") for e in got)
    assert (
        audit(["ledger", "verify", "--db", str(served.config.export.ledger_path), "--key", pub])
        == 0
    )


def test_non_auditor_is_refused_and_the_refusal_is_on_the_ledger(served: Served) -> None:
    with pytest.raises(grpc.RpcError) as e:
        served.stub.CreateExport(request(), metadata=OPERATOR)
    assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.RpcError) as e:
        served.stub.CreateExport(request())  # no token at all
    assert e.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert served.stub.ListExports(pb.ListExportsRequest(), metadata=AUDITOR).jobs == []

    with Ledger(served.config.export.ledger_path, create=False) as ledger:
        rows = ledger.entries()
    assert [str(r.event) for r in rows] == ["requested", "refused", "requested", "refused"]
    assert rows[0].actor.startswith("operator@") and rows[0].recipient == "police-112"
    assert rows[0].detail["officer"] == "Insp. Kim 1234"
    assert "auditor" in rows[1].detail["reason"] and "operator" in rows[1].detail["reason"]
    assert rows[2].actor.startswith("anonymous@")

    with pytest.raises(grpc.RpcError) as e:
        list(
            served.stub.DownloadExport(
                pb.DownloadExportRequest(id="x", artifact=VIDEO), metadata=OPERATOR
            )
        )
    assert e.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert ledger_rows(served, "x") == ["download_refused"]
    with Ledger(served.config.export.ledger_path, create=False) as ledger:
        [refused] = ledger.entries(export_id="x")
    assert str(refused.detail["client"]).startswith("ipv4:127.0.0.1:")


@pytest.mark.parametrize("missing", ["recipient", "officer", "purpose", "legal_basis"])
def test_missing_legal_field_is_invalid_argument_naming_it(served: Served, missing: str) -> None:
    with pytest.raises(grpc.RpcError) as e:
        served.stub.CreateExport(request(**{missing: ""}), metadata=AUDITOR)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert missing in e.value.details()
    assert ledger_rows(served) == ["requested", "refused"]


@pytest.mark.parametrize(
    "fields",
    [
        {"recording": "../outside.avi"},
        {"recording": f"{CAMERA}/../../outside.avi"},
        {"recording": "/etc/passwd"},
        {"recording": f"{CAMERA}/escape.avi"},  # a symlink inside the root, pointing outside
        {
            "recording": "",
            "camera_id": "../cam-1",
            "start": datetime(2024, 5, 1, 8, tzinfo=UTC),
            "end": datetime(2024, 5, 1, 8, 0, 1, tzinfo=UTC),
        },
    ],
    ids=["dotdot", "nested-dotdot", "absolute", "symlink", "camera-dotdot"],
)
def test_path_outside_the_archive_is_refused(
    served: Served, tmp_path: Path, fields: dict[str, object]
) -> None:
    outside = tmp_path / "outside.avi"
    outside.write_bytes((served.config.export.archive_root / RECORDING).read_bytes())
    (served.config.export.archive_root / CAMERA / "escape.avi").symlink_to(outside)
    with pytest.raises(grpc.RpcError) as e:
        served.stub.CreateExport(request(**fields), metadata=AUDITOR)
    assert e.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert (
        "archive root" in e.value.details()
        or "'..'" in e.value.details()
        or "camera_id" in e.value.details()
    )
    assert str(tmp_path) not in e.value.details()  # nothing about what lies outside
    assert ledger_rows(served) == ["requested", "refused"]


def test_time_range_export_takes_the_frames_of_that_range(served: Served, tmp_path: Path) -> None:
    start = datetime(2024, 5, 1, 8, 0, 1, tzinfo=UTC)  # the recording starts at 08:00:00
    job = served.stub.CreateExport(
        request(recording="", camera_id=CAMERA, start=start, end=start + timedelta(seconds=1)),
        metadata=AUDITOR,
    )
    final = wait_done(served.stub, job.id)[-1]
    assert final.state == pb.EXPORT_STATE_DONE, final.error
    video = download(served.stub, job.id, VIDEO, tmp_path / "range.mp4")
    src_times, _, _ = frame_times(served.config.export.archive_root / RECORDING)
    out_times, _, _ = frame_times(video)
    assert out_times == src_times[10:20]

    with pytest.raises(grpc.RpcError) as e:  # past the end of the only recording
        served.stub.CreateExport(
            request(recording="", camera_id=CAMERA, start=start, end=start + timedelta(hours=1)),
            metadata=AUDITOR,
        )
    assert e.value.code() == grpc.StatusCode.FAILED_PRECONDITION


def test_expired_export_is_deleted_and_the_deletion_is_on_the_ledger(
    served: Served, tmp_path: Path
) -> None:
    start = datetime(2024, 5, 1, 8, 0, 0, tzinfo=UTC)
    job = served.stub.CreateExport(
        request(
            recording="",
            camera_id=CAMERA,
            start=start,
            end=start + timedelta(seconds=1),
            expiry_days=1,
        ),
        metadata=AUDITOR,
    )
    assert wait_done(served.stub, job.id)[-1].state == pb.EXPORT_STATE_DONE
    files = sorted(p.name for p in served.config.export.output_dir.iterdir())
    assert files == [f"{job.id}.manifest.json", f"{job.id}.mp4"]

    # the service's clock moves past the expiry; its expiry thread (every 0.1 s here) does the rest
    served.exports.service.clock = lambda: datetime.now(UTC) + timedelta(days=1, seconds=1)
    deadline = time.monotonic() + 10
    while (
        served.stub.GetExport(pb.GetExportRequest(id=job.id), metadata=AUDITOR).state
        != pb.EXPORT_STATE_EXPIRED
    ):
        assert time.monotonic() < deadline, "the expiry thread did not expire the export"
        time.sleep(0.05)
    assert list(served.config.export.output_dir.iterdir()) == []
    assert ledger_rows(served, job.id) == ["approved", "completed", "expired", "deleted"]
    with Ledger(served.config.export.ledger_path, create=False) as ledger:
        deleted = ledger.entries(export_id=job.id, event=Event.DELETED)[0]
        assert deleted.actor == "service" and len(deleted.detail["files"]) == 2
        assert ledger.verify().ok

    with pytest.raises(grpc.RpcError) as e:
        list(
            served.stub.DownloadExport(
                pb.DownloadExportRequest(id=job.id, artifact=VIDEO), metadata=AUDITOR
            )
        )
    assert e.value.code() == grpc.StatusCode.FAILED_PRECONDITION and "expired" in e.value.details()
    assert ledger_rows(served, job.id)[-1] == "download_refused"


# Subject access is tested on 0.5 s to 1.5 s of the clip (source frames 5 to 14).
SUBJECT_RANGE = {
    "recording": "",
    "camera_id": CAMERA,
    "policy": FILL_POLICY,
    "start": datetime(2024, 5, 1, 8, 0, 0, 500_000, tzinfo=UTC),
    "end": datetime(2024, 5, 1, 8, 0, 1, 500_000, tzinfo=UTC),
}
FIRST = 5  # the first source frame of SUBJECT_RANGE
AT = 8  # the source frame the subject is chosen on (0.8 s)


def test_subject_access_leaves_the_subject_visible_and_masks_the_others(
    served: Served, tmp_path: Path
) -> None:
    """At 0.8 s two faces are in view (see the manifest): one is the subject, the other is not."""
    subject_face = (579, 244, 587, 252)  # the core of the walker on the right's face
    other_face = (314, 216, 322, 224)  # the core of the walker on the left's face
    box = pb.Box(x0=565, y0=230, x1=601, y1=266)
    job = served.stub.CreateExport(
        request(**SUBJECT_RANGE, subject=pb.SubjectSelector(timestamp_us=AT * 100_000, box=box)),
        metadata=AUDITOR,
    )
    final = wait_done(served.stub, job.id)[-1]
    assert final.state == pb.EXPORT_STATE_DONE, final.error
    video = download(served.stub, job.id, VIDEO, tmp_path / "subject.mp4")
    doc = json.loads(download(served.stub, job.id, MANIFEST, tmp_path / "m.json").read_text())[
        "manifest"
    ]
    assert doc["subject"]["track_ids"] and doc["subject"]["visible_frames"] >= 5

    _, src_all, _ = frame_times(served.config.export.archive_root / RECORDING)
    src = src_all[FIRST : FIRST + 10]
    _, out, _ = frame_times(video)
    i = AT - FIRST

    def diff(b: tuple[int, int, int, int]) -> float:
        x0, y0, x1, y1 = b
        return float(
            np.abs(out[i][y0:y1, x0:x1].astype(int) - src[i][y0:y1, x0:x1].astype(int)).mean()
        )

    def dark(b: tuple[int, int, int, int]) -> float:
        x0, y0, x1, y1 = b
        return float((out[i][y0:y1, x0:x1] < 20).all(axis=2).mean())

    assert diff(subject_face) < 12  # codec noise only: the subject is visible
    assert dark(other_face) > 0.95  # the other face is filled
    assert diff(other_face) > 3 * diff(subject_face)
    # the same request without a subject masks both faces
    assert (
        _covered(_masks_without_subject(served, tmp_path)[i], subject_face, out[i].shape[:2]) > 0.95
    )


def _covered(
    masks: list[list[float]], box: tuple[int, int, int, int], shape: tuple[int, ...]
) -> float:
    """Share of `box` under the union of the manifest's mask boxes."""
    union = np.zeros(shape, bool)
    for m in masks:
        union[int(m[1]) : int(np.ceil(m[3])), int(m[0]) : int(np.ceil(m[2]))] = True
    x0, y0, x1, y1 = box
    return float(union[y0:y1, x0:x1].mean())


def _masks_without_subject(served: Served, tmp_path: Path) -> list[list[list[float]]]:
    job = served.stub.CreateExport(request(**SUBJECT_RANGE), metadata=AUDITOR)
    assert wait_done(served.stub, job.id)[-1].state == pb.EXPORT_STATE_DONE
    doc = json.loads(download(served.stub, job.id, MANIFEST, tmp_path / "n.json").read_text())[
        "manifest"
    ]
    masks: list[list[list[float]]] = doc["masks"]
    return masks
