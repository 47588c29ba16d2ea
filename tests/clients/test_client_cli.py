"""`redactor-client redact` against a real server: H.264 MP4 with the input's
frame count, rate and timing, and no audio."""

from __future__ import annotations

import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av

from redactor.server.app import RunningServer


def _timeline(path: Path) -> tuple[list[Fraction], Fraction, int, str]:
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        times = [Fraction(f.pts) * f.time_base for f in c.decode(s)]
        return times, Fraction(s.average_rate), len(c.streams.audio), s.codec_context.name


def test_redact_video_keeps_timing(server: RunningServer, short_clip: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.mp4"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "redactor.clients.cli",
            "--address",
            server.address,
            "redact",
            str(short_clip),
            "-o",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "30 frames" in proc.stdout and "fps" in proc.stdout
    src_times, src_rate, _, _ = _timeline(short_clip)
    out_times, out_rate, audio, codec = _timeline(out)
    assert codec == "h264"
    assert audio == 0
    assert out_rate == src_rate
    assert out_times == src_times


def test_missing_input_is_a_clear_error(server: RunningServer, tmp_path: Path) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "redactor.clients.cli",
            "--address",
            server.address,
            "redact",
            str(tmp_path / "nope.mp4"),
            "-o",
            str(tmp_path / "o.mp4"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2
    assert "no such file" in proc.stderr
