"""Per-object masks of both plans (redactor.export.objects), on synthetic detections."""

from __future__ import annotations

import numpy as np
import pytest

from redactor.config import ExhaustivePlanConfig, FastPlanConfig
from redactor.errors import InvalidInput
from redactor.export.objects import plan_objects
from redactor.export.redact import LOOK_FULL, LOOK_NONE, LOOK_REGIONS
from redactor.track import TrackedFrame
from redactor.types import Detections, Label, MaskReason

FPS = 25
T_US = [i * 1_000_000 // FPS for i in range(200)]
NONE = Detections.empty()


def face(x: float, y: float = 100.0, size: float = 40.0) -> Detections:
    return Detections.create([[x, y, x + size, y + size]], [0.9], Label.FACE)


def boxes_of(tf: TrackedFrame) -> list[tuple[float, ...]]:
    return [tuple(round(float(v), 1) for v in b) for b in tf.detections.boxes]


def walker(frames: int, step: int, speed: float = 6.0) -> tuple[list[Detections], list[int]]:
    """A face moving right `speed` px a frame, looked at every `step` frames (regions)."""
    dets, looks = [], []
    for i in range(frames):
        looked = i % step == 0
        dets.append(face(100 + speed * i) if looked else NONE)
        looks.append(LOOK_REGIONS if looked else LOOK_NONE)
    return dets, looks


def test_the_mask_moves_with_the_object_between_its_detections() -> None:
    dets, looks = walker(31, step=3)
    cfg = FastPlanConfig(margin_per_frame=0.0, pad_frames=0)
    out = plan_objects(dets, looks, T_US[:31], cfg)
    for i, tf in enumerate(out):
        assert len(tf) == 1, f"frame {i}: one object, one box"
        x0 = float(tf.detections.boxes[0, 0])
        assert x0 == pytest.approx(100 + 6.0 * i, abs=1e-3), f"frame {i} box does not follow"
        want = MaskReason.DETECTED if i % 3 == 0 else MaskReason.TRACKED
        assert int(tf.reasons[0]) == int(want)
    assert len({int(tf.detections.track_ids[0]) for tf in out}) == 1, "one object, one id"


def test_boxes_between_detections_grow_with_the_distance_to_the_nearest() -> None:
    dets, looks = walker(7, step=6, speed=0.0)
    cfg = FastPlanConfig(margin_per_frame=0.05, max_margin=0.1, pad_frames=0)
    widths = [
        float(tf.detections.boxes[0, 2] - tf.detections.boxes[0, 0])
        for tf in plan_objects(dets, looks, T_US[:7], cfg)
    ]
    # the margin grows a share of the box per frame from the nearest detection, up to a cap
    assert widths == pytest.approx([40, 44, 48, 48, 48, 44, 40])


def test_an_object_moving_in_is_masked_before_its_first_look_along_its_path() -> None:
    dets, looks = walker(40, step=3)
    dets[:12] = [NONE] * 12  # first found on frame 12
    cfg = FastPlanConfig(margin_per_frame=0.0, pad_frames=3)
    out = plan_objects(dets, looks, T_US[:40], cfg)
    assert [len(tf) for tf in out[:9]] == [0] * 9
    for i in (9, 10, 11):
        assert int(out[i].reasons[0]) == int(MaskReason.LOOKAHEAD)
        # its velocity carried back: where it was, not where it was first seen
        assert float(out[i].detections.boxes[0, 0]) == pytest.approx(100 + 6.0 * i, abs=1e-3)


def test_a_still_object_found_by_sweeps_stays_masked_from_sweep_to_sweep() -> None:
    n = 201
    looks = [LOOK_FULL if i % 100 == 0 else LOOK_NONE for i in range(n)]
    dets = [face(500) if i == 100 else NONE for i in range(n)]  # seen by the middle sweep only
    out = plan_objects(dets, looks, T_US[:n] + [n * 40_000], FastPlanConfig())
    assert all(len(tf) == 1 for tf in out), "from the sweep before to the sweep after"
    assert int(out[100].reasons[0]) == int(MaskReason.DETECTED)
    assert int(out[0].reasons[0]) == int(out[200].reasons[0]) == int(MaskReason.LOOKAHEAD)


def test_a_walker_a_sweep_found_is_padded_along_its_path_not_held_still() -> None:
    """Held in place to the neighbouring sweep, a moving object's mask would only cover where
    it was; the looks see it where it goes, so only `pad_frames` along its path are added."""
    n = 201
    looks = [LOOK_FULL if i % 100 == 0 else LOOK_REGIONS for i in range(n)]
    dets = [face(100 + 6.0 * (i - 100)) if 100 <= i <= 130 else NONE for i in range(n)]
    cfg = FastPlanConfig(pad_frames=2, margin_per_frame=0.0)
    out = plan_objects(dets, looks, T_US[:n] + [n * 40_000], cfg)
    assert [len(tf) for tf in out[95:100]] == [0, 0, 0, 1, 1], "2 frames, not to the sweep at 0"
    assert float(out[98].detections.boxes[0, 0]) == pytest.approx(100 - 12.0, abs=1e-3)


def test_detections_too_far_apart_are_not_joined() -> None:
    n = 100  # 4 s; max_gap_s 2 s
    looks = [LOOK_REGIONS if i in (0, 99) else LOOK_NONE for i in range(n)]
    dets = [face(100) if i == 0 else face(1000) if i == 99 else NONE for i in range(n)]
    out = plan_objects(dets, looks, T_US[:n], FastPlanConfig(pad_frames=2))
    assert [len(tf) for tf in out[:4]] == [1, 1, 1, 0]
    assert [len(tf) for tf in out[-4:]] == [0, 1, 1, 1]
    assert all(len(tf) == 0 for tf in out[3:97]), "nothing invented across the gap"


def test_two_objects_keep_their_own_boxes() -> None:
    n = 10
    looks = [LOOK_REGIONS if i % 3 == 0 else LOOK_NONE for i in range(n)]
    both = [
        Detections.create(
            [[100 + 5 * i, 100, 140 + 5 * i, 140], [800 - 5 * i, 300, 840 - 5 * i, 340]],
            [0.9, 0.8],
            [int(Label.FACE), int(Label.PLATE)],
        )
        for i in range(n)
    ]
    dets = [both[i] if looks[i] else NONE for i in range(n)]
    out = plan_objects(dets, looks, T_US[:n], FastPlanConfig(margin_per_frame=0.0))
    for i, tf in enumerate(out):
        assert sorted(boxes_of(tf)) == sorted(boxes_of(TrackedFrame(both[i], np.zeros(2, np.int8))))
        assert sorted(tf.detections.labels.tolist()) == [int(Label.FACE), int(Label.PLATE)]


def test_detected_rows_point_at_their_detections() -> None:
    dets, looks = walker(7, step=3)
    out = plan_objects(dets, looks, T_US[:7], FastPlanConfig())
    assert out[3].det_index.tolist() == [0] and out[4].det_index.tolist() == [-1]


def test_lengths_must_agree() -> None:
    with pytest.raises(InvalidInput, match="3 frames of detections, 2 looks"):
        plan_objects([NONE] * 3, [LOOK_NONE] * 2, T_US[:3], FastPlanConfig())


def test_padding_beside_a_long_gap_follows_the_motion_at_that_end() -> None:
    # right at 6 px a frame on frames 0 and 3, then 3 s unseen, then left at 6 px a frame
    n = 120
    looks = [LOOK_REGIONS if i in (0, 3, 78, 81) else LOOK_NONE for i in range(n)]
    at = {0: 100.0, 3: 118.0, 78: 900.0, 81: 882.0}
    dets = [face(at[i]) if i in at else NONE for i in range(n)]
    cfg = FastPlanConfig(margin_per_frame=0.0, pad_frames=3, link_gate=100.0, max_gap_s=4.0)
    out = plan_objects(dets, looks, T_US[:n], cfg)
    ids = {int(out[i].detections.track_ids[0]) for i in at}
    assert len(ids) == 1, "one object, linked across the gap by the wide gate"
    cut = FastPlanConfig(margin_per_frame=0.0, pad_frames=3, link_gate=100.0, max_gap_s=2.0)
    out = plan_objects(dets, looks, T_US[:n], cut)
    assert float(out[5].detections.boxes[0, 0]) == pytest.approx(118.0 + 12.0, abs=1e-3)
    assert float(out[76].detections.boxes[0, 0]) == pytest.approx(900.0 + 12.0, abs=1e-3)


def test_the_exhaustive_plan_masks_each_object_along_its_path_not_held() -> None:
    """Every frame swept: an object seen on frames 50-70 is masked a few frames either
    side along its own velocity, not held in place to the neighbouring sweep or for
    seconds (the held masks of export.exhaustive.masks = "held")."""
    n = 120
    looks = [LOOK_FULL] * n
    dets = [face(100 + 6.0 * i) if 50 <= i <= 70 else NONE for i in range(n)]
    cfg = ExhaustivePlanConfig(margin_per_frame=0.0)
    out = plan_objects(dets, looks, T_US[:n], cfg)
    masked = [i for i, tf in enumerate(out) if len(tf)]
    assert masked == list(range(50 - cfg.pad_frames, 71 + cfg.pad_frames))
    pad = cfg.pad_frames
    assert pad >= 2
    for i in [*range(50 - pad, 50), *range(71, 71 + pad)]:
        assert int(out[i].reasons[0]) == int(MaskReason.LOOKAHEAD)
        assert float(out[i].detections.boxes[0, 0]) == pytest.approx(100 + 6.0 * i, abs=1e-3)
