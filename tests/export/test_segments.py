"""Cutting a recording at keyframes, decoding a segment alone, joining encoded segments."""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from export_helpers import SEGMENTED_SOURCE, cut_clip, source_video

from redactor.errors import FailedPrecondition
from redactor.export import segments
from redactor.export.archive import probe
from redactor.export.tasks import EncodeTask, Expected, run_encode
from redactor.export.video import read_frames
from redactor.types import Masks

pytestmark = pytest.mark.timeout(60)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The first 6 s (60 frames, a keyframe every 10) of an H.264 recording with B-frames."""
    path = tmp_path_factory.mktemp("segments") / "clip.mp4"
    cut_clip(source_video(SEGMENTED_SOURCE), path, 6)
    return path


def keyframes(path: Path) -> set[int]:
    with av.open(str(path)) as c:
        return {int(p.pts) for p in c.demux(video=0) if p.is_keyframe and p.pts is not None}


def decoded_pts(path: Path) -> tuple[list[int], Fraction]:
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        assert s.time_base is not None
        return [int(f.pts) for f in c.decode(s) if f.pts is not None], Fraction(s.time_base)


def encode(clip: Path, segment: segments.Segment, preset: str = "veryfast") -> bytes:
    info = probe(clip)
    task = EncodeTask(
        "test",
        str(clip),
        segment,
        info.width,
        info.height,
        str(info.rate),
        str(info.time_base),
        {},
        [Masks.none()] * len(segment.pts),
        "EXPORT test FOR nobody",
        23,
        preset,
        1,
        Expected("", {}, None),
    )
    return run_encode(task).mp4


def test_cut_points_are_keyframes_and_cover_every_frame(clip: Path) -> None:
    cuts = segments.cut(clip, 2.0)
    source = [(f.pts, f.t_us) for f in read_frames(clip)]
    assert [(p, t) for c in cuts for p, t in zip(c.pts, c.t_us, strict=True)] == source
    assert [c.t_us[0] for c in cuts] == [0, 2_000_000, 4_000_000]
    keys = keyframes(clip)
    assert all(c.pts[0] in keys and c.seek_pts == c.pts[0] for c in cuts)
    assert [c.first for c in cuts] == [0, 20, 40]


def test_a_range_starting_mid_way_decodes_from_the_keyframe_before(clip: Path) -> None:
    cuts = segments.cut(clip, 1.0, start_us=1_500_000, end_us=3_500_000)
    # at least 1 s each: the keyframe at 2 s comes too early for the first cut
    assert [c.t_us[0] for c in cuts] == [1_500_000, 3_000_000]
    assert [len(c.pts) for c in cuts] == [15, 5]
    first = cuts[0]
    assert first.seek_pts in keyframes(clip) and first.seek_pts < first.pts[0]
    reference = list(read_frames(clip, 1_500_000, 3_500_000))
    decoded = [f for c in cuts for f in segments.decode(clip, c)]
    assert [f.index for f in decoded] == list(range(len(reference)))
    for a, b in zip(reference, decoded, strict=True):
        assert (a.pts, a.t_us) == (b.pts, b.t_us)
        assert np.array_equal(a.bgr, b.bgr), f"frame {a.index} decodes differently alone"


def test_frames_an_edit_list_drops_are_not_the_recordings() -> None:
    """intel_person-bicycle-car's MP4 starts with 8 frames (pts -16000 to -2000, its
    keyframe among them) that its edit list drops: the first frame shown is pts 0, and it
    is decoded from that keyframe."""
    src = source_video("intel_person-bicycle-car-detection.mp4")
    with av.open(str(src)) as c:
        first = next(p for p in c.demux(video=0) if p.pts is not None)
        assert first.is_discard and first.is_keyframe, "the source still drops its first frames"
    cuts = segments.cut(src, 1.0, end_us=2_000_000)
    reference = list(read_frames(src, 0, 2_000_000))
    assert cuts[0].pts[0] == reference[0].pts == 0
    assert cuts[0].seek_pts < 0, "decoded from the dropped keyframe"
    decoded = [f for c in cuts for f in segments.decode(src, c)]
    assert [(f.pts, f.t_us) for f in decoded] == [(f.pts, f.t_us) for f in reference]
    assert all(np.array_equal(a.bgr, b.bgr) for a, b in zip(reference, decoded, strict=True))


def test_a_segment_whose_frames_differ_fails(clip: Path) -> None:
    cut = segments.cut(clip, 10.0)[0]
    wrong = replace(cut, pts=(*cut.pts[:5], cut.pts[5] + 1, *cut.pts[6:]))
    with pytest.raises(FailedPrecondition, match="changed while exporting"):
        list(segments.decode(clip, wrong))


def test_joined_segments_keep_frames_and_timestamps(clip: Path, tmp_path: Path) -> None:
    cuts = segments.cut(clip, 2.0)
    parts = []
    for c in cuts:
        parts.append(tmp_path / f"{c.index}.mp4")
        parts[-1].write_bytes(encode(clip, c))
    out = tmp_path / "joined.mp4"
    assert segments.join(parts, out, probe(clip).time_base) == 60
    got, tb = decoded_pts(out)
    want, src_tb = decoded_pts(clip)
    assert len(got) == len(want) == 60
    assert [p * tb for p in got] == [p * src_tb for p in want]  # the same times, exactly
    with av.open(str(out)) as c:
        assert c.streams.video[0].average_rate == probe(clip).rate
        keys = {int(p.pts) * tb for p in c.demux(video=0) if p.is_keyframe and p.pts is not None}
    assert {c.pts[0] * src_tb for c in cuts} <= keys, "each segment starts with an IDR frame"


def test_join_refuses_segments_with_other_parameter_sets(clip: Path, tmp_path: Path) -> None:
    cuts = segments.cut(clip, 2.0)[:2]
    parts = [tmp_path / "0.mp4", tmp_path / "1.mp4"]
    parts[0].write_bytes(encode(clip, cuts[0]))
    parts[1].write_bytes(encode(clip, cuts[1], preset="ultrafast"))  # CAVLC: another PPS
    with pytest.raises(FailedPrecondition, match="SPS/PPS"):
        segments.join(parts, tmp_path / "joined.mp4", probe(clip).time_base)


def test_preroll_starts_at_a_keyframe_far_enough_before(clip: Path) -> None:
    cuts = segments.cut(clip, 2.0, preroll_s=1.5)
    keys = keyframes(clip)
    # keyframes every 1 s: 1.5 s before 2 s and 4 s are the keyframes at 0 s and 2 s
    starts = [c.preroll_pts for c in cuts]
    assert all(p in keys for p in starts if p is not None)
    assert starts[0] == cuts[0].pts[0], "the recording's first segment has nothing before it"
    assert starts[1:] == [cuts[0].pts[0], cuts[1].pts[0]]
    seen: list[np.ndarray] = []
    decoded = list(segments.decode(clip, cuts[2], preroll=seen.append))
    assert len(seen) == 20 and len(decoded) == 20, "the 2 s before the segment, then its frames"
    reference = list(read_frames(clip))
    assert np.array_equal(seen[0], reference[20].bgr)
    assert np.array_equal(decoded[0].bgr, reference[40].bgr)
    assert [f.index for f in decoded] == list(range(40, 60))
