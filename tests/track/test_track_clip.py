"""Offline tracking of a clip: the backward pass covers an object before it is first detected."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest
from support.boxes import box, covered, dets

from redactor.errors import InvalidInput
from redactor.track import TrackedFrame, Tracker, TrackerParams, track_clip
from redactor.types import Detections, Label, MaskReason

FRAME_US = 40_000
DETECTED = int(MaskReason.DETECTED)
TRACKED = int(MaskReason.TRACKED)
LOOKAHEAD = int(MaskReason.LOOKAHEAD)


def stamps(n: int) -> list[int]:
    return [i * FRAME_US for i in range(n)]


def walker(i: int) -> npt.NDArray[np.float64]:
    return box(100 + 6 * i, 300)  # 150 px/s


def test_backward_pass_covers_frames_before_first_detection() -> None:
    n, first, last = 90, 40, 60  # detected on frames 40..59 only
    per_frame = [dets([walker(i)]) if first <= i < last else Detections.empty() for i in range(n)]
    out = track_clip(per_frame, stamps(n))
    hold = round(TrackerParams().hold_s * 1e6 / FRAME_US)  # 25 frames
    fwd_id = int(out[first].detections.track_ids[0])
    for i in range(n):
        f = out[i]
        if i < first - hold or i > last - 1 + hold:
            assert len(f) == 0, f"frame {i}: held beyond hold_s"
            continue
        assert len(f) == 1, f"frame {i}"
        assert int(f.detections.track_ids[0]) == fwd_id
        want = DETECTED if first <= i < last else (LOOKAHEAD if i < first else TRACKED)
        assert f.reasons[0] == want, f"frame {i}"
        if first - 10 <= i < last + 10:  # within 400 ms of a detection: on the object
            assert covered(walker(i), f.detections.boxes) >= 0.95, f"frame {i}"


def test_gap_between_detections_is_covered_from_both_ends() -> None:
    n = 50
    per_frame = [dets([walker(i)]) if not 15 <= i < 35 else Detections.empty() for i in range(n)]
    out = track_clip(per_frame, stamps(n))
    for i in range(15, 35):
        f = out[i]
        assert f.detections.track_ids.tolist() == [1], f"frame {i}"
        assert f.reasons.tolist() == [TRACKED]
        assert covered(walker(i), f.detections.boxes) >= 0.95, f"frame {i}"


def test_ids_are_the_forward_trackers_and_late_objects_get_theirs_before_they_appear() -> None:
    n = 60
    per_frame: list[Detections | None] = []
    for i in range(n):
        parts = [dets([box(100 + 5 * i, 200)])]  # a face on every frame
        if i >= 30:  # a plate appears on frame 30
            parts.append(dets([box(800 - 5 * i, 500, 80, 20)], Label.PLATE))
        per_frame.append(Detections.concat(parts) if i % 2 == 0 else None)  # detector every 2nd
    out = track_clip(per_frame, stamps(n))

    live = Tracker()
    forward = [live.update(d, t) for d, t in zip(per_frame, stamps(n), strict=True)]
    for i in range(0, n, 2):  # detected frames: the clip's ids are the live tracker's
        np.testing.assert_array_equal(_ids_by_row(out[i]), _ids_by_row(forward[i]))
    plate_id = int(
        forward[30].detections.track_ids[forward[30].detections.labels == Label.PLATE][0]
    )
    for i in range(10, 30):  # before the plate is first detected: covered, under its id
        f = out[i]
        plate = f.detections.labels == Label.PLATE
        assert f.detections.track_ids[plate].tolist() == [plate_id], f"frame {i}"
        assert f.reasons[plate].tolist() == [LOOKAHEAD]
        assert covered(box(800 - 5 * i, 500, 80, 20), f.detections.boxes[plate]) >= 0.95
    assert all(set(f.detections.track_ids.tolist()) <= {1, plate_id} for f in out)


def _ids_by_row(f: TrackedFrame) -> npt.NDArray[np.int64]:
    hit = f.det_index >= 0
    return f.detections.track_ids[hit][np.argsort(f.det_index[hit])]


def test_id_switch_in_the_backward_pass_never_uncovers_the_other_object() -> None:
    # Two faces; the detector sees b only on frames 0..9, then only a (b walks away).
    n = 20
    per_frame = []
    for i in range(n):
        a = box(200, 200)
        b = box(600 + 10 * i, 200)
        per_frame.append(dets([a, b] if i < 10 else [a]))
    out = track_clip(per_frame, stamps(n))
    for i in range(10, 20):  # b is held by the forward pass after its last detection
        assert covered(box(600 + 10 * i, 200), out[i].detections.boxes) >= 0.95, f"frame {i}"
        assert covered(box(200, 200), out[i].detections.boxes) == 1.0


def test_clip_of_fifty_boxes_for_a_thousand_frames() -> None:
    rng = np.random.default_rng(5)
    start = np.stack(
        [np.repeat(np.arange(10) * 180.0 + 60, 5), np.tile(np.arange(5) * 200.0 + 60, 10)], axis=1
    )
    vel = rng.uniform(-0.5, 0.5, (50, 2))
    per_frame = []
    for i in range(1000):
        c = start + vel * i
        seen = rng.random(50) > 0.1
        per_frame.append(dets(list(np.concatenate([c - 20, c + 20], axis=1)[seen])))
    out = track_clip(per_frame, stamps(1000))
    assert len(out) == 1000
    assert all(len(f) == 50 for f in out)  # every object, every frame, once
    assert {int(i) for f in out for i in f.detections.track_ids} == set(range(1, 51))


def test_clip_checks_its_inputs() -> None:
    with pytest.raises(InvalidInput, match="one timestamp per frame"):
        track_clip([Detections.empty()] * 3, [0, 1])
    with pytest.raises(InvalidInput, match="must not decrease"):
        track_clip([Detections.empty()] * 3, [0, 2, 1])
    assert track_clip([], []) == []
    assert [len(f) for f in track_clip([None, Detections.empty()], [0, 1])] == [0, 0]


def test_merge_rules_per_track_id() -> None:
    from redactor.track.clip import _merge

    fwd = TrackedFrame(
        Detections.create([[0, 0, 10, 10], [0, 50, 10, 60]], [0.9, 0.8], Label.FACE, [1, 2]),
        np.array([DETECTED, TRACKED], np.int8),
        np.array([0, -1], np.intp),
    )
    bwd = Detections.create(
        [[0, 0, 10, 10], [2, 2, 12, 12], [100, 100, 110, 110], [20, 50, 30, 60], [300, 0, 310, 9]],
        [0.9, 0.7, 0.7, 0.6, 0.5],
        Label.FACE,
        [1, 1, 1, 2, 3],
    )
    why = np.array([DETECTED, TRACKED, TRACKED, TRACKED, TRACKED], np.int8)
    out = _merge(fwd, bwd, why)
    got = {
        (int(t), int(r), tuple(b.tolist()))
        for t, r, b in zip(out.detections.track_ids, out.reasons, out.detections.boxes, strict=True)
    }
    assert got == {
        (1, DETECTED, (0.0, 0.0, 10.0, 10.0)),  # the detection, as the detector gave it
        (1, LOOKAHEAD, (100.0, 100.0, 110.0, 110.0)),  # disjoint: another object, kept
        (2, TRACKED, (0.0, 50.0, 30.0, 60.0)),  # held from both sides: enclosed
        (3, LOOKAHEAD, (300.0, 0.0, 310.0, 9.0)),  # only the backward pass has it
    }
    assert out.det_index[out.reasons == DETECTED].tolist() == [0]
