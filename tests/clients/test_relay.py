"""redactor-relay plays a source like a camera: at the source's rate, or at a camera
rate it is told (the sample clips are 10 fps, the center's cameras 25-30)."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import pytest

from redactor.clients.client import RedactorClient
from redactor.clients.relay import camera_access_units, relay
from redactor.clients.relay import main as relay_main
from redactor.server.app import RunningServer


def _source_times_us(path: Path) -> list[int]:
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        return [int(round(Fraction(f.pts) * f.time_base * 1_000_000)) for f in c.decode(s)]


def test_source_rate_keeps_the_source_timestamps(short_clip: Path) -> None:
    fps, units = camera_access_units(str(short_clip), max_frames=12)
    got = [(seq, ts) for seq, ts, au in units if au]
    assert fps == pytest.approx(10.0)
    assert [ts for _, ts in got] == _source_times_us(short_clip)[:12]


def test_camera_rate_restamps_every_frame(short_clip: Path) -> None:
    fps, units = camera_access_units(str(short_clip), max_frames=12, rate=25.0)
    got = list(units)
    assert fps == 25.0
    assert [seq for seq, _, _ in got] == list(range(12))
    assert [ts for _, ts, _ in got] == [i * 40_000 for i in range(12)]
    assert all(au for _, _, au in got)  # zerolatency: one access unit per frame, none buffered


def test_rate_must_be_positive(short_clip: Path) -> None:
    with pytest.raises(ValueError, match="rate must be a frame rate > 0, got 0"):
        camera_access_units(str(short_clip), rate=0.0)


@pytest.mark.parametrize("value", ["0", "-25", "nan", "1000"])
def test_bad_fps_flag_is_a_usage_error(
    short_clip: Path, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert relay_main([str(short_clip), "--fps", value]) == 2
    assert "--fps must be a frame rate in (0, 240]" in capsys.readouterr().err


def test_relay_at_camera_rate_through_the_server(
    server: RunningServer, short_clip: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out.h264"
    assert (
        relay_main(
            [
                str(short_clip),
                "--address",
                server.address,
                "--fps",
                "25",
                "--frames",
                "10",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    assert "10/10 frames" in capsys.readouterr().out
    with av.open(str(out), format="h264") as c:
        assert sum(1 for _ in c.decode(video=0)) == 10


def test_the_output_says_which_frame_each_picture_written_is(
    server: RunningServer, short_clip: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out.h264"
    with RedactorClient(server.address) as client:
        result = relay(client, str(short_clip), max_frames=8, realtime=False, output=out)
    with av.open(str(out), format="h264") as c:
        pictures = sum(1 for _ in c.decode(video=0))
    assert result.output_seqs == list(range(8)) and pictures == 8


def test_budget_flag_reaches_the_server_and_bad_values_are_usage_errors(
    server: RunningServer, short_clip: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert relay_main([str(short_clip), "--budget-ms", "-1"]) == 2
    assert "--budget-ms must be >= 0, got -1" in capsys.readouterr().err
    # a budget hardly any frame can meet: every frame still comes back, masked
    assert (
        relay_main(
            [str(short_clip), "--address", server.address, "--frames", "12", "--budget-ms", "1"]
        )
        == 0
    )
    assert "12/12 frames" in capsys.readouterr().out


def test_fps_counts_from_the_first_frame_sent_to_the_last_answered() -> None:
    """25 frames answered within a second of the first one sent are 25 fps, however long
    the stream took to open."""
    from redactor.clients.relay import RelayResult

    assert RelayResult(frames_out=25, active_s=1.0, seconds=1.4).fps == pytest.approx(25.0)
    assert RelayResult(frames_out=1, seconds=0.5).fps == pytest.approx(
        2.0
    )  # nothing timed: the call
    assert RelayResult().fps == 0.0


def test_the_summary_says_why_frames_were_not_simply_redacted() -> None:
    from redactor.clients.relay import RelayResult

    r = RelayResult(
        frames_in=3,
        frames_out=3,
        statuses={"REDACTED": 2, "FULLY_MASKED": 1},
        reasons={"no detection yet": 1, "coarse mosaic: the first sweep is not done": 1},
    )
    assert r.summary().endswith(
        "; why: coarse mosaic: the first sweep is not done (1), no detection yet (1)"
    )
    assert "why" not in RelayResult(frames_in=1, frames_out=1).summary()
