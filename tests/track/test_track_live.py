"""The live tracker on synthetic moving boxes: masks follow, hold, expire, never mix labels."""

from __future__ import annotations

import numpy as np
import pytest
from support.boxes import box, covered, dets

from redactor.errors import ConfigError
from redactor.pipeline.background import Motion
from redactor.track import TrackedFrame, Tracker, TrackerParams
from redactor.types import Detections, Label, MaskReason

FRAME_US = 40_000  # 25 fps
DETECTED, TRACKED = int(MaskReason.DETECTED), int(MaskReason.TRACKED)


def id_of(frame: TrackedFrame, det_row: int) -> int:
    (row,) = np.flatnonzero(frame.det_index == det_row)
    return int(frame.detections.track_ids[row])


def test_mask_follows_a_moving_face_through_detector_misses() -> None:
    rng = np.random.default_rng(1)
    tracker = Tracker()
    ids = set()
    for i in range(60):
        truth = box(200 + 8 * i, 300 + 3 * i, 80, 80)  # 200 px/s: 2.5 face widths a second
        missed = 20 <= i < 32 or 45 <= i < 50  # 480 ms and 200 ms without a detection
        seen = Detections.empty() if missed else dets([truth + rng.normal(0, 2, 4)])
        out = tracker.update(seen, i * FRAME_US)
        assert len(out) == 1
        assert out.reasons[0] == (TRACKED if missed else DETECTED)
        if missed:  # a detected box is the detector's own (jittered) box
            assert covered(truth, out.detections.boxes) >= 0.95, f"frame {i}"
        ids.add(int(out.detections.track_ids[0]))
    assert ids == {1}


def test_mask_is_dropped_after_hold_s() -> None:
    tracker = Tracker(TrackerParams(hold_s=0.5))
    tracker.update(dets([box(100, 100, 50, 50)]), 1_000_000)
    held = tracker.update(Detections.empty(), 1_000_000 + 500_000)  # exactly hold_s later
    assert len(held) == 1 and held.reasons[0] == TRACKED
    gone = tracker.update(Detections.empty(), 1_000_000 + 500_001)
    assert len(gone) == 0 and len(tracker) == 0


def test_held_box_grows_with_time_unseen() -> None:
    tracker = Tracker(TrackerParams(hold_s=2.0))
    tracker.update(dets([box(100, 100, 50, 50)]), 0)
    widths = []
    for t in (40_000, 500_000, 1_500_000):
        b = tracker.update(None, t).detections.boxes[0]
        widths.append(float(b[2] - b[0]))
    assert 50 < widths[0] < widths[1] < widths[2]


def test_hold_zero_masks_only_while_detected() -> None:
    tracker = Tracker(TrackerParams(hold_s=0.0))
    assert len(tracker.update(dets([box(100, 100, 50, 50)]), 0)) == 1
    assert len(tracker.update(Detections.empty(), FRAME_US)) == 0


def test_two_crossing_faces_keep_their_ids() -> None:
    rng = np.random.default_rng(7)
    tracker = Tracker()
    first: dict[int, int] = {}
    for i in range(70):
        a = box(100 + 10 * i, 300, 60, 60)  # left to right
        b = box(790 - 10 * i, 330, 60, 60)  # right to left, half a face lower
        boxes = [a + rng.normal(0, 1.5, 4), b + rng.normal(0, 1.5, 4)]
        out = tracker.update(dets(boxes), i * FRAME_US)
        for k in (0, 1):
            first.setdefault(k, id_of(out, k))
            assert id_of(out, k) == first[k], f"object {k} changed id on frame {i}"
    assert first[0] != first[1]


def test_crossing_faces_keep_ids_when_one_is_missed_while_they_overlap() -> None:
    tracker = Tracker()
    first: dict[int, int] = {}
    for i in range(70):
        a = box(100 + 10 * i, 300, 60, 60)
        b = box(790 - 10 * i, 330, 60, 60)
        seen = [0] if 30 <= i < 36 else [0, 1]  # b hidden behind a around the crossing
        out = tracker.update(dets([(a, b)[k] for k in seen]), i * FRAME_US)
        for row, k in enumerate(seen):
            first.setdefault(k, id_of(out, row))
            assert id_of(out, row) == first[k], f"object {k} changed id on frame {i}"
        if 30 <= i < 36:
            assert covered(b, out.detections.boxes[out.reasons == TRACKED]) >= 0.9


def test_faces_and_plates_never_share_a_track() -> None:
    tracker = Tracker()
    same = box(300, 300, 80, 40)
    out = tracker.update(
        Detections.concat([dets([same], Label.FACE), dets([same], Label.PLATE)]), 0
    )
    assert len(set(out.detections.track_ids.tolist())) == 2
    face_id = int(out.detections.track_ids[out.detections.labels == Label.FACE][0])
    # next frame only a plate, where the face was: it must not continue the face's track
    out = tracker.update(dets([same], Label.PLATE), FRAME_US)
    plate_rows = out.detections.labels == Label.PLATE
    face_rows = out.detections.labels == Label.FACE
    assert face_id not in out.detections.track_ids[plate_rows].tolist()
    assert out.detections.track_ids[face_rows].tolist() == [face_id]
    assert out.reasons[face_rows].tolist() == [TRACKED]
    # and a face track never takes a plate detection even with no plate track around
    lone = Tracker()
    lone.update(dets([same], Label.FACE), 0)
    out = lone.update(dets([same], Label.PLATE), FRAME_US)
    assert sorted(out.detections.track_ids.tolist()) == [1, 2]
    assert set(out.detections.labels.tolist()) == {int(Label.FACE), int(Label.PLATE)}


def test_reduced_cadence_predicts_between_detections() -> None:
    tracker = Tracker()
    for i in range(40):
        truth = box(100 + 12 * i, 400, 60, 60)  # 300 px/s
        ran = i % 4 == 0  # the detector runs on every 4th frame
        out = tracker.update(dets([truth]) if ran else None, i * FRAME_US)
        assert len(out) == 1 and out.detections.track_ids[0] == 1
        assert out.reasons[0] == (DETECTED if ran else TRACKED)
        if i >= 8:  # velocity known: the prediction itself sits on the object
            pred = out.detections.boxes[0]
            centre = (pred[:2] + pred[2:]) / 2
            assert np.abs(centre - (truth[:2] + truth[2:]) / 2).max() < 6, f"frame {i}"
            assert covered(truth, out.detections.boxes) >= 0.95, f"frame {i}"


def test_fast_small_plate_at_low_cadence_keeps_its_track_by_centre_distance() -> None:
    def run(params: TrackerParams) -> set[int]:
        tracker = Tracker(params)
        ids: set[int] = set()
        for i in range(0, 30, 3):  # detection every 3rd frame: 120 ms apart
            truth = box(100 + 14 * i, 500, 40, 12)  # 350 px/s, a plate width per detection
            out = tracker.update(dets([truth], Label.PLATE), i * FRAME_US)
            ids.add(id_of(out, 0))
        return ids

    assert run(TrackerParams()) == {1}
    assert len(run(TrackerParams(centre_gate=0.0))) > 1  # IoU alone loses it at first


def test_output_is_valid_and_keeps_detector_boxes_exactly() -> None:
    tracker = Tracker()
    given = dets([box(100, 100, 40, 40), box(400, 100, 40, 40)])
    out = tracker.update(given, 0)
    assert out.detections.track_ids.dtype == np.int64
    assert (out.detections.track_ids > 0).all()
    assert out.reasons.dtype == np.int8
    np.testing.assert_array_equal(out.detections.boxes[np.argsort(out.det_index)], given.boxes)


def test_max_tracks_never_drops_a_detected_box() -> None:
    tracker = Tracker(TrackerParams(max_tracks=3))
    tracker.update(dets([box(100 + 100 * k, 100, 40, 40) for k in range(2)]), 0)
    out = tracker.update(dets([box(100 + 100 * k, 400, 40, 40) for k in range(4)]), FRAME_US)
    assert int((out.reasons == DETECTED).sum()) == 4  # over the limit, all detections kept
    assert len(tracker) == 4
    out = tracker.update(Detections.empty(), 2 * FRAME_US)
    assert len(out) == 3
    # the tracks unseen the longest go first: the two from frame 0
    assert sorted(out.detections.track_ids.tolist()) == [4, 5, 6]


def test_timestamp_going_back_keeps_tracks() -> None:
    tracker = Tracker()
    tracker.update(dets([box(100, 100, 40, 40)]), 5_000_000)
    out = tracker.update(None, 1_000)  # camera restart: clock jumps back
    assert len(out) == 1
    assert len(tracker.update(None, 1_000 + 900_000)) == 1
    assert len(tracker.update(None, 1_000 + 1_100_000)) == 0


def test_reset_forgets_tracks_and_restarts_ids() -> None:
    tracker = Tracker()
    tracker.update(dets([box(100, 100, 40, 40)]), 0)
    tracker.update(dets([box(500, 100, 40, 40)]), FRAME_US)
    tracker.reset()
    assert len(tracker) == 0
    out = tracker.update(dets([box(100, 100, 40, 40)]), 10)
    assert out.detections.track_ids.tolist() == [1]


def test_fifty_boxes_for_a_thousand_frames() -> None:
    rng = np.random.default_rng(3)
    start = np.stack(
        [np.repeat(np.arange(10) * 180.0 + 60, 5), np.tile(np.arange(5) * 200.0 + 60, 10)], axis=1
    )
    vel = rng.uniform(-0.5, 0.5, (50, 2))  # px per frame, so the grid never overlaps
    tracker = Tracker()
    id_per_object = np.zeros(50, np.int64)
    for i in range(1000):
        centres = start + vel * i
        seen = (rng.random(50) > 0.1) | (i == 0)  # every box missed on 10 % of frames
        boxes = np.concatenate([centres - 20, centres + 20], axis=1)[seen]
        out = tracker.update(dets(list(boxes)), i * FRAME_US)
        assert len(out) == 50  # every object masked: detected or held
        ids = out.detections.track_ids[out.det_index >= 0][
            np.argsort(out.det_index[out.det_index >= 0])
        ]
        objects = np.flatnonzero(seen)
        fresh = id_per_object[objects] == 0
        id_per_object[objects[fresh]] = ids[fresh]
        np.testing.assert_array_equal(ids, id_per_object[objects], err_msg=f"frame {i}")
    assert len(set(id_per_object.tolist())) == 50


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("hold_s", -1.0),
        ("iou_match", 0.0),
        ("iou_match", 1.5),
        ("growth_per_s", -0.1),
        ("max_tracks", 0),
        ("accel_std", 0.0),
        ("meas_std", float("nan")),
        ("max_size_ratio", 0.5),
        ("centre_gate", -1.0),
        ("face_sigma_cap", -0.5),
    ],
)
def test_params_reject_out_of_range_values(field: str, value: float) -> None:
    with pytest.raises(ConfigError, match=field):
        TrackerParams(**{field: value})  # type: ignore[arg-type]


def test_peek_predicts_without_moving_the_tracks() -> None:
    # The live path masks frames from peek() while their detections run, and folds
    # each detection in at its own frame's time once done: peeking ahead must not
    # change what that fold sees.
    moving = [box(100 + 8 * i, 200, 40, 40) for i in range(12)]
    plain, peeked = Tracker(), Tracker()
    for i in range(0, 12, 3):
        a = plain.update(dets([moving[i]]), i * FRAME_US)
        for k in range(i + 1, 12):  # frames up to 8 ahead of this detection
            peeked.peek(k * FRAME_US)
        b = peeked.update(dets([moving[i]]), i * FRAME_US)
        np.testing.assert_array_equal(a.detections.boxes, b.detections.boxes)
        np.testing.assert_array_equal(a.detections.track_ids, b.detections.track_ids)
    ahead = peeked.peek(11 * FRAME_US)
    assert len(ahead) == 1 and ahead.reasons[0] == TRACKED
    assert covered(moving[11], ahead.detections.boxes) == 1.0  # velocity known: predicted onto it


def test_peek_widens_a_once_seen_track_by_its_uncertainty_and_ends_at_hold() -> None:
    # A track seen once has no velocity: 360 ms ahead, an object moving 2.5 box sizes a
    # second may be 0.9 box sizes away. The capped margin (sigma_cap 0.5) would not
    # reach it; peek's does.
    tracker = Tracker(TrackerParams(hold_s=0.5))
    tracker.update(dets([box(100, 100, 40, 40)]), 0)
    truth = box(100 + 36, 100, 40, 40)
    assert covered(truth, tracker.peek(360_000).detections.boxes) == 1.0
    assert covered(truth, tracker.update(None, 360_000).detections.boxes) < 1.0
    assert len(Tracker(TrackerParams(hold_s=0.5)).peek(0)) == 0
    tracker = Tracker(TrackerParams(hold_s=0.5))
    tracker.update(dets([box(100, 100, 40, 40)]), 0)
    assert len(tracker.peek(500_000)) == 1 and len(tracker.peek(500_001)) == 0
    assert len(tracker) == 1  # peek dropped nothing


def test_face_sigma_cap_narrows_held_faces_and_leaves_plates_as_they_were() -> None:
    # A live stream masks the top of each moving blob, where a moving face is; a plate on
    # a moving car is below it and keeps the whole uncertainty margin.
    def held_width(params: TrackerParams, label: Label) -> float:
        tracker = Tracker(params)
        tracker.update(dets([box(100, 100, 40, 40)], label), 0)
        (held,) = tracker.peek(360_000).detections.boxes
        return float(held[2] - held[0])

    for label in (Label.FACE, Label.PLATE):
        assert held_width(TrackerParams(), label) > 2.5 * 40  # a box size each side, nearly
    assert held_width(TrackerParams(face_sigma_cap=0.0), Label.FACE) < 1.2 * 40  # growth only
    assert held_width(TrackerParams(face_sigma_cap=0.25), Label.FACE) < 1.7 * 40
    assert held_width(TrackerParams(face_sigma_cap=0.0), Label.PLATE) == held_width(
        TrackerParams(), Label.PLATE
    )


def test_a_frames_face_cap_narrows_its_held_faces_only_and_changes_no_track() -> None:
    # Where a look of the frame itself found its faces, held faces may widen less for what
    # their tracks do not know of the path; plates keep their margin, and the next frame
    # without the cap is as wide as ever (the cap moves no track).
    tracker = Tracker(TrackerParams(face_sigma_cap=1.0))
    tracker.update(
        Detections(
            np.array([box(100, 100, 40, 40), box(300, 100, 40, 40)], np.float32),
            np.array([0.9, 0.9], np.float32),
            np.array([int(Label.FACE), int(Label.PLATE)], np.int8),
        ),
        0,
    )

    def widths(frame: TrackedFrame) -> list[float]:
        return [float(b[2] - b[0]) for b in frame.detections.boxes]

    wide = widths(tracker.peek(360_000))
    narrow = widths(tracker.peek(360_000, face_cap=0.25))
    assert wide[0] > 2.5 * 40 and narrow[0] < 1.7 * 40  # the face
    assert narrow[1] == wide[1]  # the plate
    assert widths(tracker.peek(360_000)) == wide
    folded = widths(tracker.update(None, 360_000, face_cap=0.25))
    assert folded[0] < 1.7 * 40 and folded[1] > 1.7 * 40
    assert widths(tracker.update(None, 400_000))[0] > 1.7 * 40  # sigma_cap 0.5 again


def _blobs(*blobs: tuple[float, float, float, float]) -> Motion:
    """What moved on a frame: these blobs (frame px), the model trusted."""
    return Motion(np.array(blobs, np.float32).reshape(-1, 4), np.zeros((4, 4), np.uint8), 1.0, True)


def test_a_held_box_where_nothing_moves_stays_where_and_as_large_as_last_seen() -> None:
    # A false plate a detector reads on still ground on some frames only: a track seen
    # once has no velocity, and two readings of different size give it a size velocity.
    # Where nothing moves, its object has gone nowhere: neither widens its mask.
    def held(motion: Motion | None, fold: bool = False) -> np.ndarray:
        tracker = Tracker(TrackerParams(hold_s=1.0))
        tracker.update(dets([box(300, 100, 120, 60)], Label.PLATE), 0)
        tracker.update(dets([box(310, 105, 100, 50)], Label.PLATE), 200_000)
        reach = None if motion is None else motion.reach
        out = (
            tracker.update(None, 900_000, reach=reach)
            if fold
            else tracker.peek(900_000, reach=reach)
        )
        assert len(out) == 1 and out.reasons[0] == TRACKED
        return out.detections.boxes[0]

    seen = box(310, 105, 100, 50)
    for fold in (False, True):
        wide, quiet = held(None, fold), held(_blobs((600, 300, 700, 500)), fold)
        assert covered(seen, quiet[None]) == 1.0  # still masked where it was seen
        grown = 1 + TrackerParams().growth_per_s * 0.7  # the steady growth only
        assert quiet[2] - quiet[0] == pytest.approx(100 * grown, rel=0.05)
        assert quiet[3] - quiet[1] == pytest.approx(50 * grown, rel=0.05)
        assert (wide[2] - wide[0]) > 1.3 * (quiet[2] - quiet[0])
        learning = Motion(np.zeros((0, 4), np.float32), np.zeros((4, 4), np.uint8), 1.0, False)
        np.testing.assert_array_equal(held(learning, fold), wide)  # not known: as wide


def test_a_late_face_is_held_on_its_walker_not_on_the_ground_it_left() -> None:
    # A face detected late has no velocity yet: held, it widens a face size each side.
    # Its walker's blob has moved right of where it was seen; the mask follows the blob
    # (grown half a face) within that widened box, not the ground left behind.
    tracker = Tracker()
    face = box(200, 100, 20, 20)
    tracker.update(dets([face]), 0)
    wide = tracker.peek(300_000).detections.boxes[0]
    walker = (205, 88, 260, 300)  # its head now a little right, its body below
    cut = tracker.peek(300_000, reach=_blobs(walker).reach).detections.boxes[0]
    assert cut[0] == pytest.approx(205 - 10) and cut[1] == pytest.approx(max(wide[1], 88 - 10))
    np.testing.assert_array_equal(cut[2:], wide[2:])  # the walker reaches beyond the box
    head = box(215, 100, 20, 20)  # where the face is now
    assert covered(head, cut[None]) == 1.0
    assert (cut[2] - cut[0]) * (cut[3] - cut[1]) < 0.8 * (wide[2] - wide[0]) * (wide[3] - wide[1])


def test_a_held_face_where_a_passer_by_moves_near_keeps_where_it_was_seen() -> None:
    # A person who stopped is no longer foreground; someone walking past reaches into
    # the held box's edge. The face may still be where it was seen: that stays masked.
    tracker = Tracker()
    face = box(200, 100, 20, 20)
    tracker.update(dets([face]), 0)
    wide = tracker.peek(300_000).detections.boxes[0]
    passer = (float(wide[2]) - 4, 60, float(wide[2]) + 60, 300)
    cut = tracker.peek(300_000, reach=_blobs(passer).reach).detections.boxes[0]
    assert covered(face, cut[None]) == 1.0
    assert cut[2] == pytest.approx(wide[2])  # and the passer's side as far as the box goes
    # the passer over the spot where it was seen: the blob there, cut to the box
    over = (190, 60, 260, 300)
    cut = tracker.peek(300_000, reach=_blobs(over).reach).detections.boxes[0]
    assert cut[0] == pytest.approx(max(wide[0], 190 - 10))
    assert covered(face, cut[None]) == 1.0


def test_reach_is_asked_about_the_widest_box_and_changes_no_track() -> None:
    tracker = Tracker()
    tracker.update(dets([box(100, 100, 40, 40), box(400, 100, 40, 40)]), 0)
    asked: list[np.ndarray] = []
    pads: list[np.ndarray] = []

    def reach(boxes: np.ndarray, pad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        asked.append(boxes.copy())
        pads.append(pad.copy())
        return boxes.copy(), np.array([False, True])

    wide = tracker.peek(360_000).detections.boxes
    out = tracker.peek(360_000, reach=reach).detections.boxes
    np.testing.assert_array_equal(asked[0], wide)  # where the object may be
    np.testing.assert_allclose(pads[0], 20.0)  # its blobs grown half the objects' size
    assert out[0][2] - out[0][0] < wide[0][2] - wide[0][0]
    np.testing.assert_array_equal(out[1], wide[1])
    np.testing.assert_array_equal(tracker.peek(360_000).detections.boxes, wide)
