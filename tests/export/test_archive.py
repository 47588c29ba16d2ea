"""Finding recordings under the archive root, and refusing what lies outside it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from redactor.errors import FailedPrecondition, InvalidInput, NotFound, RedactorError
from redactor.export.archive import Archive

T = datetime(2024, 5, 1, 8, 0, 0, tzinfo=UTC)


@pytest.fixture()
def root(tmp_path: Path, clip_file: Path) -> Path:
    """gate-1 has two 3 s recordings, at 08:00:00 and 08:00:10 (a gap between them)."""
    r = tmp_path / "archive"
    (r / "gate-1").mkdir(parents=True)
    for name in ("20240501T080000.avi", "20240501T080010.avi"):
        (r / "gate-1" / name).write_bytes(clip_file.read_bytes())
    (r / "gate-1" / "notes.txt").write_text("not a recording")
    (r / "gate-1" / "badname.avi").write_bytes(b"")
    return r


def test_range_picks_the_covering_recording_and_offsets(root: Path) -> None:
    sel = Archive(root).select_range(
        "gate-1", T + timedelta(seconds=11), T + timedelta(seconds=12, milliseconds=500)
    )
    assert sel.relative == "gate-1/20240501T080010.avi"
    assert (sel.start_us, sel.end_us) == (1_000_000, 2_500_000)
    assert sel.camera_id == "gate-1" and sel.info.rate == 10 and sel.info.frames == 30


@pytest.mark.parametrize(
    ("start_s", "end_s", "error", "words"),
    [
        (-5, 1, NotFound, "starts at or before"),  # before the first recording
        (5, 6, NotFound, "no recording at"),  # in the gap
        (2, 11, FailedPrecondition, "continues in 20240501T080010.avi"),  # spans two recordings
        (2, 1, InvalidInput, "must be after"),
    ],
)
def test_range_errors(
    root: Path, start_s: int, end_s: int, error: type[RedactorError], words: str
) -> None:
    with pytest.raises(error, match=words):
        Archive(root).select_range(
            "gate-1", T + timedelta(seconds=start_s), T + timedelta(seconds=end_s)
        )


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("../x.avi", InvalidInput),
        ("gate-1/../../x.avi", InvalidInput),
        ("/etc/passwd", InvalidInput),
        ("~/x.avi", InvalidInput),
        ("C:/x.avi", InvalidInput),
        ("gate-1\\..\\..\\x.avi", InvalidInput),
        ("gate-1/link.avi", InvalidInput),  # symlink to a file outside the root
        ("linked-dir/x.avi", InvalidInput),  # symlinked folder outside the root
        ("gate-1/absent.avi", NotFound),
        ("", InvalidInput),
    ],
)
def test_paths_outside_the_root_are_refused(
    root: Path, tmp_path: Path, name: str, error: type[RedactorError]
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "x.avi").write_bytes(b"secret")
    (root / "gate-1" / "link.avi").symlink_to(outside / "x.avi")
    (root / "linked-dir").symlink_to(outside)
    with pytest.raises(error) as e:
        Archive(root).select_file(name)
    assert str(outside) not in str(e.value)


@pytest.mark.parametrize("camera", ["..", ".", "a/b", "../gate-1", "", "x" * 200])
def test_camera_ids_that_are_paths_are_refused(root: Path, camera: str) -> None:
    with pytest.raises(InvalidInput, match="camera_id"):
        Archive(root).select_range(camera, T, T + timedelta(seconds=1))


def test_a_symlink_inside_the_root_to_inside_the_root_is_fine(root: Path) -> None:
    (root / "gate-1" / "alias.avi").symlink_to(root / "gate-1" / "20240501T080000.avi")
    assert Archive(root).select_file("gate-1/alias.avi").relative == "gate-1/20240501T080000.avi"
