"""`redactor-client export ...` against a real server with an archive (the export
tests' fixtures): what an auditor types, end to end, and what it prints."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from export_helpers import CAMERA, RECORDING, Served

from redactor.clients.audit import main as audit
from redactor.clients.cli import main as client_main
from redactor.export import keys
from redactor.ledger import Ledger

REQUEST = [
    "--recipient",
    "police-112",
    "--officer",
    "Insp. Kim 1234",
    "--purpose",
    "hit-and-run investigation",
    "--legal-basis",
    "PIPA art. 18(2)7",
]
# 08:00:01 to 08:00:02 UTC, written in KST: frames 10 to 19 of the 08:00:00 recording
RANGE = [
    "--camera",
    CAMERA,
    "--start",
    "2024-05-01T17:00:01+09:00",
    "--end",
    "2024-05-01T17:00:02+09:00",
]


def cli(served: Served, *argv: str, token: str = "auditor-dev-token") -> int:
    return client_main(["--address", served.running.address, "--token", token, *argv])


def ledger_events(served: Served, export_id: str | None = None) -> list[str]:
    with Ledger(served.config.export.ledger_path, create=False) as ledger:
        return [str(e.event) for e in ledger.entries(export_id=export_id)]


def test_auditor_creates_waits_lists_and_downloads(
    served: Served, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli(served, "export", "create", *RANGE, *REQUEST, "--wait")
    out = capsys.readouterr()
    assert code == 0, out.err
    export_id = (
        out.out.strip()
    )  # stdout is the id alone: EXPORT=$(redactor-client export create ...)
    assert re.fullmatch(r"[0-9a-f]{16}", export_id), out.out
    progress = out.err.splitlines()
    assert progress and all(line.startswith(export_id) for line in progress), out.err
    assert "DONE" in progress[-1] and "100.0%" in progress[-1] and "10/10 frames" in progress[-1]
    assert "segments: 1/1 detected, 1/1 planned, 1/1 encoded" in progress[-1]
    assert "[" + "#" * 24 + "]" in progress[-1], "a full progress bar at the end"

    assert (
        cli(served, "export", "watch", export_id) == 0
    )  # an ended export: its final state, at once
    assert "DONE" in capsys.readouterr().out

    assert cli(served, "export", "list", "--camera", CAMERA) == 0
    out = capsys.readouterr()
    lines = out.out.splitlines()
    assert (
        len(lines) == 1
        and lines[0].startswith(export_id)
        and "DONE" in lines[0]
        and "police-112" in lines[0]
    )
    assert out.err.strip() == "1 export"
    assert cli(served, "export", "list", "--recipient", "fire-119") == 0
    out = capsys.readouterr()
    assert out.out == "" and out.err.strip() == "0 exports"

    assert cli(served, "export", "get", export_id, "--json") == 0
    job = json.loads(capsys.readouterr().out)
    assert (
        job["id"] == export_id
        and job["state"] == "EXPORT_STATE_DONE"
        and job["frames_total"] == "10"
    )
    assert (
        job["request"]["start"] == "2024-05-01T08:00:01Z"
        and job["request"]["end"] == "2024-05-01T08:00:02Z"
    )
    assert job["request"]["legal_basis"] == "PIPA art. 18(2)7" and job["requested_by"].startswith(
        "auditor@"
    )

    folder = tmp_path / "case-2024-0501"  # made by download
    assert cli(served, "export", "download", export_id, "-o", str(folder)) == 0
    out = capsys.readouterr()
    video, manifest = folder / f"{export_id}.mp4", folder / f"{export_id}.manifest.json"
    assert sorted(folder.iterdir()) == sorted([video, manifest])  # no temporary file left behind
    assert (
        str(video) in out.out
        and job["output_sha256"] in out.out
        and "redactor-audit verify" in out.err
    )
    doc = json.loads(manifest.read_text())["manifest"]
    assert doc["export_id"] == export_id and doc["output"]["frame_count"] == 10
    assert doc["request"]["purpose"] == "hit-and-run investigation"

    pub = str(keys.public_path(served.config.export.key_path))
    assert audit(["verify", str(video), str(manifest), "--key", pub]) == 0
    assert "VERIFIED" in capsys.readouterr().out

    # downloaded files are not overwritten unless asked
    before = video.read_bytes()
    assert cli(served, "export", "download", export_id, "-o", str(folder)) == 2
    err = capsys.readouterr().err
    assert "already exist" in err and "--force" in err
    assert (
        cli(
            served,
            "export",
            "download",
            export_id,
            "-o",
            str(folder),
            "--artifact",
            "video",
            "--force",
        )
        == 0
    )
    capsys.readouterr()
    assert video.read_bytes() == before and sorted(folder.iterdir()) == sorted([video, manifest])

    assert ledger_events(served, export_id) == [
        "approved",
        "completed",
        "downloaded",
        "downloaded",
        "downloaded",
    ]


def test_refusals_and_bad_arguments(
    served: Served, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recording = ["--recording", RECORDING]
    for flag, name in (("--purpose", "purpose"), ("--legal-basis", "legal_basis")):
        i = REQUEST.index(flag)
        assert cli(served, "export", "create", *recording, *REQUEST[:i], *REQUEST[i + 2 :]) == 1
        err = capsys.readouterr().err
        assert (
            err
            == f"redactor-client: INVALID_ARGUMENT: {name} is required: the law requires it on every export\n"
        )

    assert cli(served, "export", "create", *recording, *REQUEST, token="operator-dev-token") == 1
    err = capsys.readouterr().err
    assert err.startswith("redactor-client: PERMISSION_DENIED: ") and "auditor" in err
    assert cli(served, "export", "get", "0123456789abcdef") == 1
    assert capsys.readouterr().err.startswith("redactor-client: NOT_FOUND: ")
    out_dir = tmp_path / "out"
    assert cli(served, "export", "download", "0123456789abcdef", "-o", str(out_dir)) == 1
    assert capsys.readouterr().err.startswith("redactor-client: NOT_FOUND: ")
    assert list(out_dir.iterdir()) == []

    # wrong locally: exit 2, nothing sent
    with pytest.raises(SystemExit) as e:
        cli(
            served,
            "export",
            "create",
            "--camera",
            CAMERA,
            "--start",
            "2024-05-01T08:00:00",
            "--end",
            "2024-05-01T08:00:01Z",
            *REQUEST,
        )
    assert e.value.code == 2 and "no UTC offset" in capsys.readouterr().err
    assert cli(served, "export", "create", *recording, *REQUEST, "--subject-at", "0.8") == 2
    assert "--subject-at and --subject-box go together" in capsys.readouterr().err
    assert cli(served, "export", "download", "../../etc", "-o", str(out_dir)) == 2
    assert "cannot name a file" in capsys.readouterr().err

    assert ledger_events(served) == ["requested", "refused"] * 3
