"""bench.live_metrics: what the live masks cost the picture, on hand-made boxes."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import av
import numpy as np
import pytest

from bench import live_metrics as lm
from bench.live import (
    ClipResult,
    body_cost_table,
    camera_id,
    leak_table,
    masked_share,
    moving_ground,
    picture_table,
    spread_table,
)
from bench.live import main as live_main
from bench.live_people import detector, find_people
from bench.report import _live_body_cost, _live_leak_places, _live_picture
from redactor.config import Config
from redactor.data import data_dir
from redactor.types import Label, MaskReason

W, H = 100, 50
FACE, PLATE = int(Label.FACE), int(Label.PLATE)
FULL = [(0.0, 0.0, float(W), float(H))]  # how the server sends a fully masked frame


def boxes(*rows: tuple[float, float, float, float]) -> np.ndarray:
    return np.array(rows, np.float32).reshape(-1, 4)


@pytest.mark.parametrize(
    ("masks", "full"),
    [
        (FULL, True),
        ([(-1.0, -1.0, W + 1.0, H + 1.0)], True),  # clipped or not, it is the whole frame
        ([(0.0, 0.0, W - 1.0, H)], False),  # one column of picture left
        (FULL + [(10.0, 10.0, 20.0, 20.0)], True),  # a start's coarse mosaic, a face on top
        ([], False),
    ],
)
def test_a_frame_masked_whole_has_a_box_over_the_whole_frame(
    masks: list[tuple[float, float, float, float]], full: bool
) -> None:
    assert lm.fully_masked(masks, W, H) is full


def test_redacted_frames_leave_out_the_start_and_later_fully_masked_frames() -> None:
    masks = {0: FULL, 1: [], 2: [(10.0, 10.0, 20.0, 20.0)], 3: FULL, 4: []}
    # frame 1 came back with no masks before the first redacted frame: dropped
    assert sorted(lm.redacted_frames(masks, W, H, first_redacted=2)) == [2, 4]
    assert lm.redacted_frames(masks, W, H, first_redacted=None) == {}


def test_masked_share_of_redacted_frames_is_not_swamped_by_fully_masked_ones() -> None:
    masks = {0: FULL, 1: [(0.0, 0.0, 10.0, 50.0)]}  # 100% then 10%
    assert masked_share(masks, W, H) == pytest.approx(0.55)
    redacted = lm.redacted_frames(masks, W, H, first_redacted=1)
    assert lm.mean_share(redacted, W, H) == pytest.approx(0.10)


def test_oracle_share_is_the_union_of_grown_boxes_averaged_over_frames() -> None:
    # two 10x10 boxes overlapping by half; grown 2x: (5,5,25,25) and (10,5,30,25),
    # union 25x20 = 500 px of 5000; the second frame has no reference: 0
    ref = [boxes((10, 10, 20, 20), (15, 10, 25, 20)), boxes()]
    assert lm.oracle_share(ref, W, H, 2.0) == pytest.approx((0.1 + 0.0) / 2)
    # not grown: 15x10 = 150 px, the overlap counted once
    assert lm.oracle_share(ref[:1], W, H, 1.0) == pytest.approx(0.03)


@pytest.mark.parametrize(
    ("mask", "far"),
    [
        (boxes((35, 15, 55, 35)), 0.0),  # exactly the reference grown 2x
        (boxes((40, 20, 50, 30)), 0.0),  # the reference itself
        (boxes((0, 0, 10, 10)), 100 / (W * H)),  # far from it
        (boxes((45, 25, 65, 35)), 100 / (W * H)),  # half inside the grown box, half beyond
        (boxes((35, 15, 55, 35), (0, 0, 10, 10)), 100 / (W * H)),
    ],
)
def test_far_share_is_what_is_masked_beyond_reference_boxes_grown_2x(
    mask: np.ndarray, far: float
) -> None:
    ref = [boxes((40, 20, 50, 30))]  # 10x10 about (45, 25): grown 2x, (35, 15, 55, 35)
    assert lm.far_share({0: mask}, ref, W, H) == pytest.approx(far)


def test_far_share_without_any_reference_counts_every_masked_pixel() -> None:
    assert lm.far_share({0: boxes((0, 0, 10, 50))}, [boxes()], W, H) == pytest.approx(0.1)


def test_far_share_averages_over_redacted_frames_only() -> None:
    masks = {0: FULL, 1: [(0.0, 0.0, 10.0, 50.0)], 2: []}
    redacted = lm.redacted_frames(masks, W, H, first_redacted=1)
    assert lm.far_share(redacted, [boxes()] * 3, W, H) == pytest.approx((0.1 + 0.0) / 2)


def test_a_body_is_the_lower_75_percent_of_a_person_box() -> None:
    assert lm.bodies(boxes((0, 0, 20, 40))).tolist() == [[0, 10, 20, 40]]


def test_body_visibility_half_covered_head_only_and_fully_masked() -> None:
    person = boxes((0, 0, 20, 40))  # body: (0, 10, 20, 40), 600 px
    people = [person, person, person, boxes()]
    masks = {
        0: FULL,  # no picture: nothing of the body is visible
        1: [(0.0, 10.0, 10.0, 40.0)],  # left half of the body
        2: [(0.0, 0.0, 20.0, 10.0)],  # the head only: the whole body visible
        3: [],
    }
    redacted = lm.redacted_frames(masks, W, H, first_redacted=1)
    visible, n = lm.body_visibility(people, redacted, W, H)
    assert n == 3
    assert visible == pytest.approx((0.0 + 0.5 + 1.0) / 3)


def test_a_person_in_a_frame_never_answered_is_not_visible() -> None:
    visible, n = lm.body_visibility([boxes((0, 0, 20, 40))], {}, W, H)
    assert (visible, n) == (0.0, 1)


def test_no_person_found_gives_no_figure() -> None:
    assert lm.body_visibility([boxes(), boxes()], {0: boxes()}, W, H) == (None, 0)


def test_leaks_are_placed_on_moving_or_still_ground_and_on_bodies() -> None:
    person = boxes((40, 0, 60, 40))  # body: (40, 10, 60, 40)
    reference = [
        boxes((0, 0, 10, 10), (45, 20, 55, 30), (80, 0, 90, 10)),  # covered, on a body, still
        boxes((0, 0, 10, 10)),  # on a frame never answered: not a leak
        boxes((20, 20, 30, 30)),
    ]
    masks = {0: [(0.0, 0.0, 10.0, 10.0)], 2: [(20.0, 20.0, 30.0, 27.0)]}  # frame 2: 70% covered
    moving = [np.array([True, True, False]), np.array([True]), np.array([True])]
    labels = [np.array([FACE, PLATE, FACE]), np.array([FACE]), np.array([PLATE])]
    people = [person, boxes(), boxes()]
    found = lm.leaks_of(reference, masks, moving, people, W, H, 0.8, labels)
    # leaked: the body's box (moving), the box at 80 (still), frame 2's box (moving)
    assert [(f.seq, f.box, f.moving, f.on_body, f.label) for f in found] == [
        (0, (45.0, 20.0, 55.0, 30.0), True, True, PLATE),
        (0, (80.0, 0.0, 90.0, 10.0), False, False, FACE),
        (2, (20.0, 20.0, 30.0, 30.0), True, False, PLATE),
    ]
    assert [f.covered for f in found] == pytest.approx([0.0, 0.0, 0.7])
    assert lm.places(found) == (2, 1, 1)
    assert (lm.of_class(found, FACE), lm.of_class(found, PLATE)) == (1, 2)
    # a reference cached without its classes leaks as many, of no known class
    unknown = lm.leaks_of(reference, masks, moving, people, W, H, 0.8)
    assert len(unknown) == 3 and lm.of_class(unknown, FACE) == lm.of_class(unknown, PLATE) == 0


def test_leaks_of_a_class_are_given_against_the_reference_objects_of_that_class() -> None:
    assert lm.of_objects(3, 400) == "3 of 400 (0.75%)"
    assert lm.of_objects(0, 0) == "-"  # none in the reference, or its classes not known


def test_only_masks_holding_a_reference_box_are_on_objects() -> None:
    person = boxes((0, 0, 20, 40))  # body: (0, 10, 20, 40)
    redacted = {
        0: boxes(
            (0, 0, 20, 10), (0, 20, 20, 40)
        ),  # the head's mask holds the face; one on the legs
        1: boxes((0, 20, 20, 40)),  # nothing found by the reference on this frame
    }
    reference = [boxes((5, 2, 15, 9)), boxes()]
    kept = lm.on_objects(redacted, reference)
    assert kept[0].tolist() == [[0, 0, 20, 10]] and len(kept[1]) == 0
    assert lm.body_visibility([person, person], redacted, W, H)[0] == pytest.approx(1 / 3)
    assert lm.body_visibility([person, person], kept, W, H)[0] == pytest.approx(1.0)


def test_the_leak_table_shows_where_the_leaks_are() -> None:
    row = "| c.avi | 100x50 | 0 | 1 of 4 (25.00%) | 2 of 8 (25.00%) | 3 | 2 | 1 | 60% | 80% |"
    assert row in leak_table([clip()])
    assert row in "\n".join(_live_leak_places([asdict(clip())]))
    assert _live_leak_places([{"clip": "c.avi", "size": "100x50", "leaks": 1}]) == []
    # a report from before the reference's classes were kept
    before = {k: v for k, v in asdict(clip()).items() if not k.startswith(("face_", "plate_"))}
    assert "| c.avi | 100x50 | 0 | - | - | 3 | 2 | 1 | 60% | 80% |" in "\n".join(
        _live_leak_places([before])
    )


def test_what_hides_the_bodies_is_each_sources_share_beyond_the_others() -> None:
    person = boxes((40, 0, 60, 40))  # body: (40, 10, 60, 40), rows 10-40
    redacted = {
        0: boxes((40, 10, 60, 20), (40, 15, 60, 25), (0, 0, 10, 10)),  # rows 15-20 shared
        2: boxes((40, 30, 60, 40)),
    }
    reasons = {
        0: [int(MaskReason.MOTION), int(MaskReason.DETECTED), int(MaskReason.START)],
        2: [int(MaskReason.STILL)],
    }
    people = [person, person, person]  # frame 1 has no picture
    cost = lm.body_cost(people, redacted, reasons, W, H)
    assert cost == pytest.approx(
        {
            "start's mosaic": 0.0,  # nowhere on a body
            "motion band": (1 / 6) / 3,  # rows 10-15 of frame 0, its own
            "looks and detections": (1 / 6) / 3,  # rows 20-25
            "held tracks": 0.0,
            "still ground": (1 / 3) / 3,
            "no picture": 1 / 3,
        }
    )
    # what the sources and frames without picture hide, and what the overlap hides
    visible = lm.body_visibility(people, redacted, W, H)[0]
    shared = (1 / 6) / 3
    assert visible == pytest.approx(1 - sum(cost.values()) - shared)
    assert lm.body_cost([boxes(), boxes()], redacted, reasons, W, H) == {}


def test_the_body_cost_table_gives_each_source_in_points() -> None:
    row = "| c.avi | 100x50 | 60% | 10.0% | 5.0% | 4.0% | 1.0% | 0.0% | 2.0% |"
    assert row in body_cost_table([clip()])
    assert row in "\n".join(_live_body_cost([asdict(clip())]))
    assert _live_body_cost([{"clip": "c.avi", "size": "100x50", "leaks": 1}]) == []


def test_a_stream_starting_with_3_fully_masked_frames() -> None:
    masks = {0: FULL, 1: FULL, 2: FULL, 3: [(10.0, 10.0, 20.0, 20.0)], 4: FULL}
    # the relay's first_redacted is 3; the later fully masked frame is not the start
    assert lm.start_without_picture(3, len(masks), 10.0) == (3, pytest.approx(0.3))
    assert sorted(lm.redacted_frames(masks, W, H, 3)) == [3]


def test_a_stream_never_redacted_is_without_picture_throughout() -> None:
    assert lm.start_without_picture(None, 20, 10.0) == (20, pytest.approx(2.0))
    assert lm.start_without_picture(0, 20, 10.0) == (0, 0.0)


def clip() -> ClipResult:
    return ClipResult(
        "c.avi", "100x50", 5, 10.0, 10.0, 1.0, 2.0, 3.0, 4, 0, 0.0, {"REDACTED": 5}, {}, 0, 0.0,
        0.5, redacted_frames=4, masked_share_redacted=0.1, oracle_enlarge=1.3,
        oracle_share=0.02, masked_over_oracle=5.0, far_share=0.07, person_boxes=8,
        body_visible=0.6, start_fully_masked=1, start_s=0.1, start_coarse=3, start_coarse_s=0.3,
        start_mosaic=4, start_mosaic_s=0.4, looked_share=0.75, mosaic_frames=2,
        mosaic_share=0.9, leaks_moving=3, leaks_still=2, leaks_on_bodies=1,
        body_visible_on_objects=0.8, face_objects=4, face_leaks=1, plate_objects=8, plate_leaks=2,
        body_cost={"start's mosaic": 0.1, "motion band": 0.05, "looks and detections": 0.04,
                   "held tracks": 0.01, "still ground": 0.0, "no picture": 0.02},
    )  # fmt: skip


def test_the_picture_tables_show_each_figure() -> None:
    md = picture_table([clip()])
    for figure in ("10.0% (4 frames)", "2.00% (x1.3)", "5.0x", "7.0%", "60% (8)", "1 of 5 (0.1 s)"):
        assert figure in md, figure
    assert "| 3 (0.3 s) | 4 (0.4 s) | 90% (2) | 75% |" in md
    report = "\n".join(_live_picture([asdict(clip())]))
    for figure in ("10.0% (4 frames)", "2.00% (x1.3)", "5.0x", "7.0%", "60% (8)", "1 (0.1 s)"):
        assert figure in report, figure
    assert "3 (0.3 s)" in report and "4 (0.4 s)" in report and "90% (2)" in report
    assert "75%" in report


def test_reports_from_before_these_figures_show_no_picture_table() -> None:
    assert _live_picture([{"clip": "c.avi", "size": "100x50", "masked_share": 0.5}]) == []


def test_hog_finds_nobody_on_a_blank_frame() -> None:
    found = find_people(detector(), np.zeros((576, 768, 3), np.uint8))
    assert found.shape == (0, 4) and found.dtype == np.float32


def test_hog_finds_walkers_on_opencv_vtest_in_the_frames_own_pixels() -> None:
    root = data_dir()
    clip = root / "videos" / "opencv_vtest.avi" if root else None
    if clip is None or not clip.is_file():
        pytest.skip("shared data not found")
    with av.open(str(clip)) as c:
        frame = next(f for i, f in enumerate(c.decode(video=0)) if i == 40)
    bgr = frame.to_ndarray(format="bgr24")
    found = find_people(detector(), bgr)
    assert len(found) >= 2  # several walkers cross the square at frame 40
    assert (found[:, 2] > found[:, 0]).all() and (found[:, 3] > found[:, 1]).all()
    # scaled back from the 960 px working copy: inside the 768x576 frame, give or take padding
    assert found[:, 2].max() <= 768 + 16 and found[:, 3].max() <= 576 + 16


def test_the_first_fine_picture_comes_after_the_coarse_start() -> None:
    coarse = FULL + [(10.0, 10.0, 20.0, 20.0)]
    masks = {0: FULL, 1: coarse, 2: coarse, 3: [(10.0, 10.0, 20.0, 20.0)], 4: []}
    assert lm.first_fine_picture(masks, W, H, 1) == 3
    assert lm.first_fine_picture(masks, W, H, None) is None
    assert lm.first_fine_picture({0: FULL, 1: coarse}, W, H, 1) is None


def test_still_ground_shows_from_the_first_frame_without_a_block_of_the_mosaic() -> None:
    """Under the start's mosaic the blocks where something moved may show: such a frame
    has picture, but its still ground shows only once no START box is left."""
    start, face = int(MaskReason.START), int(MaskReason.DETECTED)
    part = [(0.0, 0.0, 100.0, 20.0), (0.0, 20.0, 50.0, 50.0), (10.0, 10.0, 20.0, 20.0)]
    masks = {0: FULL, 1: part, 2: part, 3: [(10.0, 10.0, 20.0, 20.0)], 4: []}
    reasons = {0: [0], 1: [start, start, face], 2: [start, start, face], 3: [face], 4: []}
    assert lm.first_fine_picture(masks, W, H, 1) == 1
    assert lm.first_without_mosaic(masks, reasons, W, H, 1) == 3
    assert lm.first_without_mosaic(masks, reasons, W, H, None) is None
    assert lm.first_without_mosaic({1: part}, {1: [start, start, face]}, W, H, 1) is None


def test_the_masked_share_leaves_out_the_frames_under_the_starts_mosaic() -> None:
    start, face = int(MaskReason.START), int(MaskReason.DETECTED)
    part = lm.as_boxes([(0.0, 0.0, 100.0, 40.0), (10.0, 10.0, 20.0, 20.0)])
    redacted = {1: part, 2: lm.as_boxes([(10.0, 10.0, 20.0, 20.0)])}
    kept = lm.past_mosaic(redacted, {1: [start, face], 2: [face]})
    assert list(kept) == [2]
    assert lm.mean_share(kept, W, H) == pytest.approx(0.02)


def test_moving_ground_is_where_the_servers_motion_model_saw_the_walkers() -> None:
    root = data_dir()
    clip = root / "videos" / "opencv_vtest.avi" if root else None
    if clip is None or not clip.is_file():
        pytest.skip("shared data not found")
    frames = 12
    whole, corner = (0.0, 0.0, 768.0, 576.0), (0.0, 0.0, 4.0, 4.0)  # the corner is the sky
    reference = [boxes(whole, corner) for _ in range(frames)]
    moving = moving_ground(str(clip), None, frames, None, reference, Config().live.motion)
    assert len(moving) == frames
    warmup = Config().live.motion.warmup_frames
    assert not any(m.any() for m in moving[: warmup - 1])  # not trusted yet: nothing moves
    assert all(m.tolist() == [True, False] for m in moving[warmup:])


def test_the_spread_table_gives_medians_and_ranges_of_repeated_runs() -> None:
    runs = [clip(), clip(), clip()]
    for run, (leaks, bodies) in enumerate(((3, 0.5), (9, 0.7), (4, 0.6)), start=1):
        runs[run - 1].run, runs[run - 1].leaks, runs[run - 1].body_visible = run, leaks, bodies
    md = spread_table(runs)
    assert "| c.avi | 100x50 | 3 | 4 (3-9) |" in md
    assert "| 60% (50%-70%) |" in md
    assert "| 5.0x |" in md  # the same in every run: no range
    assert "c.avi (run 2)" in leak_table(runs) and "c.avi (run 2)" in picture_table(runs)


def test_repeat_below_one_is_refused_with_what_was_given(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as e:
        live_main(["--repeat", "0"])
    assert e.value.code == 2
    assert "--repeat must be at least 1, got 0" in capsys.readouterr().err


def test_each_run_is_a_camera_of_its_own_unless_one_camera_is_asked_for() -> None:
    """A camera streamed before starts from what its last stream swept: by default each run
    is a first stream; with --same-camera a clip's runs past the first are its next ones."""
    clip = Path("v/opencv_vtest.avi")
    firsts = {camera_id(clip, (1920, 1080), 25.0, run, False) for run in (1, 2, 3)}
    assert len(firsts) == 3
    assert "opencv_vtest.avi@1920x1080@25fps#2" in firsts
    assert {camera_id(clip, None, None, run, True) for run in (1, 2)} == {"opencv_vtest.avi"}
    assert camera_id(clip, None, None, 1, False) != camera_id(
        Path("v/other.avi"), None, None, 1, False
    )
