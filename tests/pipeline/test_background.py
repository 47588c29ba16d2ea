"""Motion regions of a fixed camera: found where something moves, not elsewhere."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import cv2
import numpy as np
import pytest

from redactor.boxes import region_area
from redactor.config import MotionConfig
from redactor.errors import InvalidDetections
from redactor.pipeline.background import BackgroundModel, Motion, fit_scale
from redactor.pipeline.scheduler import look_closer, look_px
from redactor.types import Detections, Frame, Label


def _frame(i: int, noise: np.random.Generator) -> np.ndarray:
    img = np.full((360, 640, 3), 90, np.uint8)
    img += noise.integers(0, 4, img.shape, dtype=np.uint8)  # sensor noise, not motion
    x = 40 + 6 * i
    img[150:210, x : x + 30] = (30, 200, 220)  # a walker
    return img


def test_regions_cover_the_moving_object_only() -> None:
    rng = np.random.default_rng(0)
    m = BackgroundModel(MotionConfig(warmup_frames=3))
    found = []
    for i in range(30):
        found = m.regions(_frame(i, rng))
    assert found, "no region around a moving object"
    x = 40 + 6 * 29
    obj = (x, 150, x + 30, 210)
    assert any(
        b[0] <= obj[0] and b[1] <= obj[1] and b[2] >= obj[2] and b[3] >= obj[3] for b in found
    ), found
    area = sum((b[2] - b[0]) * (b[3] - b[1]) for b in found)
    assert area < 0.1 * 640 * 360, "regions should be small where little moves"


def test_no_regions_while_learning_or_when_everything_moves() -> None:
    rng = np.random.default_rng(1)
    m = BackgroundModel(MotionConfig(warmup_frames=5))
    assert m.regions(_frame(0, rng)) == []
    for i in range(10):
        m.regions(_frame(i, rng))
    flash = rng.integers(0, 255, (360, 640, 3), dtype=np.uint8)  # the whole picture changes
    assert m.regions(flash) == []


def test_a_picture_changed_as_a_whole_is_told_apart_from_warm_up() -> None:
    """Most of the picture changing at once (a light, the camera) leaves nothing known to
    move and says so; the model's warm-up does not."""
    rng = np.random.default_rng(2)
    m = BackgroundModel(MotionConfig(warmup_frames=5))
    seen = [m.update(Frame.from_bgr(_frame(i, rng))) for i in range(10)]
    assert not any(s.changed for s in seen)
    assert not seen[0].trusted and seen[-1].trusted
    lit = m.update(Frame.from_bgr(_frame(10, rng) + 80))  # a light switched on
    assert lit.changed and not lit.trusted and not lit.moved


def _noisy_ground(rng: np.random.Generator) -> np.ndarray:
    """A textured still picture: a low-variance ground that a creeping exposure moves for
    the model everywhere at once."""
    img = np.full((360, 640, 3), 90, np.int16)
    img[:, ::40] = 140  # posts along the wall
    return (img + rng.integers(0, 3, img.shape)).astype(np.int16)


LEARN = 60  # frames: MOG2's variances settle to what a still camera's noise is


def _near_scene(i: int, rng: np.random.Generator, shift: int, near: bool) -> Frame:
    img = _noisy_ground(rng)
    x = 20 + 3 * i
    img[150:210, x : x + 30] = (30, 200, 220)  # a walker far off
    if near:  # someone close to the camera: a quarter of the picture
        img[60:360, 300:480] = (60, 40, 170)
    return Frame.from_bgr(np.clip(img + shift, 0, 255).astype(np.uint8))


@pytest.mark.parametrize("shift", [7, -7])
def test_someone_close_as_the_exposure_creeps_moves_and_is_not_a_changed_picture(
    shift: int,
) -> None:
    """The exposure creeping by a few levels as someone comes close moves every pixel for
    the model (over max_moving_share): what stands out from the learnt background (the
    one close by, the walker) still moves, and nothing else."""
    seen_by = {}
    for level in (0.0, 32.0):  # without near_level: the model's own view
        rng = np.random.default_rng(3)
        m = BackgroundModel(MotionConfig(warmup_frames=5, near_level=level))
        for i in range(LEARN):
            m.update(_near_scene(i, rng, 0, False))
        seen_by[level] = m.update(_near_scene(LEARN, rng, shift, True))
    assert seen_by[0.0].changed, "the creep does not move the whole picture for the model"
    seen = seen_by[32.0]
    assert seen.trusted and not seen.changed
    near = (300, 60, 480, 360)
    walker = (20 + 3 * LEARN, 150, 20 + 3 * LEARN + 30, 210)
    for obj in (near, walker):
        assert any(
            b[0] <= obj[0] + 4 and b[1] <= obj[1] + 4 and b[2] >= obj[2] - 4 and b[3] >= obj[3] - 4
            for b in seen.blobs
        ), (obj, seen.blobs)
    area = sum((b[2] - b[0]) * (b[3] - b[1]) for b in seen.blobs)
    assert area < 0.3 * 640 * 360, "the still ground moved"


@pytest.mark.parametrize("shift", [12, -12, 80])
def test_a_brightness_shift_beyond_the_creep_is_a_changed_picture(shift: int) -> None:
    rng = np.random.default_rng(4)
    m = BackgroundModel(MotionConfig(warmup_frames=5))
    for i in range(LEARN):
        m.update(_near_scene(i, rng, 0, False))
    seen = m.update(_near_scene(LEARN, rng, shift, True))
    assert seen.changed and not seen.trusted and not seen.moved


def test_something_filling_most_of_the_picture_is_a_changed_picture() -> None:
    """Close enough to fill over max_moving_share on its own: nothing is known to move."""
    rng = np.random.default_rng(6)
    m = BackgroundModel(MotionConfig(warmup_frames=5))
    for i in range(LEARN):
        m.update(_near_scene(i, rng, 0, False))
    img = np.asarray(_near_scene(LEARN, rng, 0, False).planes[0]).copy()
    img[:, :400] = (60, 40, 170)  # 62% of the picture
    assert m.update(Frame.from_bgr(img)).changed


def test_fit_scale_shrinks_all_regions_together_to_the_budget() -> None:
    regions = [(0, 0, 100, 100), (200, 0, 300, 200)]  # 30,000 px
    assert fit_scale(regions, 0) == 1.0  # no cap
    assert fit_scale(regions, 30_000) == 1.0
    f = fit_scale(regions, 7_500)
    assert f == pytest.approx(0.5)
    assert sum((b[2] - b[0]) * (b[3] - b[1]) * f * f for b in regions) == pytest.approx(7_500)
    assert fit_scale([], 100) == 1.0


class _CentreDetector:
    """Finds one 'face' in the middle quarter of whatever crop it is given, and records the crops."""

    name = "centre"
    model_sha256 = ""

    def __init__(self) -> None:
        self.shapes: list[tuple[int, ...]] = []

    def detect(self, bgr: np.ndarray) -> Detections:
        self.shapes.append(bgr.shape)
        h, w = bgr.shape[:2]
        return Detections.create(
            np.array([[w / 4, h / 4, 3 * w / 4, 3 * h / 4]]), [0.9], [int(Label.FACE)]
        )

    def close(self) -> None:
        pass


@pytest.mark.parametrize("budget", [0, 1_000_000, 5_000])
def test_look_closer_maps_boxes_back_to_the_frame_whatever_the_shrink(budget: int) -> None:
    bgr = np.zeros((400, 600, 3), np.uint8)
    regions = [(100, 40, 180, 200), (300, 100, 500, 300)]  # 12,800 + 40,000 px
    det = _CentreDetector()
    found = look_closer(det, bgr, regions, budget)
    want = [[120, 80, 160, 160], [350, 150, 450, 250]]  # each region's middle quarter, frame px
    np.testing.assert_allclose(np.array([d.boxes[0] for d in found]), want, atol=1.0)
    area = sum(s[0] * s[1] for s in det.shapes)
    if budget == 5_000:
        assert area <= 5_000 * 1.05  # shrunk to the budget (rounding aside)
        assert det.shapes[0][:2] != (160, 80)
    else:
        assert det.shapes == [(160, 80, 3), (200, 200, 3)]  # full resolution


def test_look_closer_on_a_pool_finds_what_it_finds_alone_in_region_order() -> None:
    bgr = np.zeros((400, 600, 3), np.uint8)
    regions = [(100, 40, 180, 200), (300, 100, 500, 300), (10, 10, 60, 60)]
    alone = look_closer(_CentreDetector(), bgr, regions, 20_000)
    with ThreadPoolExecutor(2) as pool:
        pooled = look_closer(_CentreDetector(), bgr, regions, 20_000, pool=pool)
    assert len(pooled) == len(regions)
    for a, b in zip(alone, pooled, strict=True):
        np.testing.assert_array_equal(a.boxes, b.boxes)


def test_look_closer_takes_wide_frames_at_the_region_width_detail() -> None:
    bgr = np.zeros((400, 1200, 3), np.uint8)
    regions = [(200, 80, 360, 400), (600, 200, 1000, 400)]  # 51,200 + 80,000 px
    det = _CentreDetector()
    found = look_closer(det, bgr, regions, 0, width=600)  # half the detail
    assert det.shapes == [(160, 80, 3), (100, 200, 3)]
    np.testing.assert_allclose(
        np.array([d.boxes[0] for d in found]),
        [[240, 160, 320, 320], [700, 250, 900, 350]],
        atol=2.0,
    )
    det = _CentreDetector()
    look_closer(det, bgr, regions, 8_000, width=600)  # the budget counts the shrunk pixels
    assert sum(s[0] * s[1] for s in det.shapes) <= 8_000 * 1.05
    assert det.shapes[0][0] < 160
    det = _CentreDetector()
    look_closer(det, bgr, regions, 0, width=2400)  # narrower than the width: as it is
    assert det.shapes == [(320, 160, 3), (200, 400, 3)]


def test_look_closer_refuses_a_region_detector_that_returns_garbage() -> None:
    class Garbage(_CentreDetector):
        def detect(self, bgr: np.ndarray) -> Detections:
            return [[1, 2, 3, 4]]  # type: ignore[return-value]

    with pytest.raises(InvalidDetections, match="expected Detections"):
        look_closer(Garbage(), np.zeros((50, 50, 3), np.uint8), [(0, 0, 20, 20)], 0)


def _i420(bgr: np.ndarray) -> Frame:
    h, w = bgr.shape[:2]
    yuv = cv2.cvtColor(bgr, cv2.COLOR_BGR2YUV_I420).ravel()
    y = yuv[: w * h].reshape(h, w)
    u = yuv[w * h : w * h * 5 // 4].reshape(h // 2, w // 2)
    v = yuv[w * h * 5 // 4 :].reshape(h // 2, w // 2)
    return Frame("i420", (y, u, v))


def _nv12(bgr: np.ndarray) -> Frame:
    f = _i420(bgr)
    return Frame("nv12", (f.planes[0], np.dstack([f.planes[1], f.planes[2]])))


def _walk(layout: str, frames: int = 30) -> Motion:
    rng = np.random.default_rng(0)
    m = BackgroundModel(MotionConfig(warmup_frames=3))
    make = {"bgr": Frame.from_bgr, "i420": _i420, "nv12": _nv12}[layout]
    motion = None
    for i in range(frames):
        motion = m.update(make(_frame(i, rng)))
    assert motion is not None
    return motion


def test_moving_masks_cover_the_top_share_of_each_blob_on_its_own_frame() -> None:
    motion = _walk("bgr")
    assert motion.trusted
    x = 40 + 6 * 29  # the walker of the last frame: (x, 150) to (x + 30, 210)
    top = motion.masks(0.5, margin_px=3.0)
    assert len(top) == 1, top
    x0, y0, x1, y1 = top[0]
    assert x0 <= x - 3 and x1 >= x + 30 + 3 and y0 <= 150 - 3, top  # the whole width, from the top
    assert 175 <= y1 <= 195, top  # down to about the middle (the background model's dilation aside)
    whole = motion.masks(1.0)[0]
    assert whole[3] >= 210 and whole[1] <= 150
    assert len(motion.masks(0.0, margin_px=3.0)) == 0  # policy: no moving masks


@pytest.mark.parametrize("layout", ["i420", "nv12"])
def test_yuv_frames_move_like_their_bgr(layout: str) -> None:
    """Frames from H.264 (I420) or NV12 are shrunk plane by plane before the model
    sees them: the blobs land where the BGR frame puts them."""
    want, got = _walk("bgr"), _walk(layout)
    assert got.trusted and len(got.blobs) == len(want.blobs) == 1
    np.testing.assert_allclose(got.blobs, want.blobs, atol=4.0)


def test_moving_share_tells_moving_ground_from_still() -> None:
    motion = _walk("bgr")
    x = 40 + 6 * 29
    share = motion.moving_share(np.array([[x, 150, x + 30, 210], [400, 20, 460, 80]], np.float32))
    assert share[0] > 0.8 and share[1] == 0.0
    still = BackgroundModel(MotionConfig(warmup_frames=3)).update(
        Frame.from_bgr(_frame(0, np.random.default_rng(0)))
    )
    assert (
        not still.trusted and still.moving_share(np.array([[0, 0, 10, 10]], np.float32))[0] == 0.0
    )


def test_reach_cuts_boxes_to_the_moving_blobs_grown_by_their_pad() -> None:
    motion = _walk("bgr")  # one walker, trusted
    (blob,) = motion.blobs
    boxes = np.array(
        [
            blob + [-20, -20, 20, 20],
            [blob[2] + 1, blob[1], blob[2] + 60, blob[1] + 40],
            [400, 20, 460, 80],
        ],
        np.float32,
    )
    cut, moving = motion.reach(boxes, np.zeros((3, 2), np.float32))
    np.testing.assert_array_equal(moving, [True, False, False])
    np.testing.assert_array_equal(cut[0], blob)  # the box around the walker: the walker
    np.testing.assert_array_equal(cut[1:], boxes[1:])  # untouched: as they are
    cut, moving = motion.reach(boxes, np.full((3, 2), 5.0, np.float32))  # the walker grown 5 px
    np.testing.assert_array_equal(moving, [True, True, False])
    want = [boxes[1][0], max(boxes[1][1], blob[1] - 5), blob[2] + 5, min(boxes[1][3], blob[3] + 5)]
    np.testing.assert_allclose(cut[1], want)
    empty = motion.reach(np.zeros((0, 4), np.float32), np.zeros((0, 2), np.float32))
    assert empty[0].shape == (0, 4) and empty[1].shape == (0,)
    learning = BackgroundModel(MotionConfig(warmup_frames=3)).update(
        Frame.from_bgr(_frame(0, np.random.default_rng(0)))
    )
    cut, moving = learning.reach(boxes, np.zeros((3, 2), np.float32))
    assert not learning.trusted and moving.all()  # not known: anything may move anywhere
    np.testing.assert_array_equal(cut, boxes)
    nothing = Motion(np.zeros((0, 4), np.float32), np.zeros((4, 4), np.uint8), 1.0, True)
    assert not nothing.reach(boxes, np.zeros((3, 2), np.float32))[1].any()


def test_moving_masks_grow_with_the_blob() -> None:
    motion = Motion(
        np.array([[100, 50, 140, 150], [10, 10, 12, 14]], np.float32),
        np.zeros((1, 1), np.uint8),
        1.0,
        True,
    )
    got = motion.masks(0.5, margin=0.1, margin_px=3.0)
    np.testing.assert_allclose(
        got, [[96, 46, 144, 104], [7, 7, 15, 15]]
    )  # 0.1 of 40 px wide; at least 3 px


@pytest.mark.parametrize("width", [320, 1280])  # narrower than the work width, and wider
def test_a_frames_work_picture_is_its_own_copy(width: int) -> None:
    """The sweep compares a still box's picture now with the one it swept; the frame is
    masked in place after its motion is known, so the work picture must not be its pixels."""
    model = BackgroundModel(MotionConfig(warmup_frames=1))
    bgr = np.full((width * 9 // 16, width, 3), 120, np.uint8)
    motion = model.update(Frame.from_bgr(bgr))
    bgr[:] = 0  # masked
    assert motion.small.shape[1] == min(width, 480) and int(motion.small.min()) == 120


def _covered(boxes: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    out = np.zeros(shape, bool)
    for x0, y0, x1, y1 in boxes:
        out[max(0, int(y0)) : int(np.ceil(y1)), max(0, int(x0)) : int(np.ceil(x1))] = True
    return out


def _two_walkers() -> Motion:
    """Two walkers whose blobs touch at the feet, one blob."""
    fg = np.zeros((240, 320), np.uint8)
    fg[50:150, 100:130] = 255  # A, tall, further up
    fg[80:180, 170:200] = 255  # B, lower in the frame
    fg[140:150, 130:170] = 255  # their shadows touch
    return Motion(np.array([[100, 50, 200, 180]], np.float32), fg, 1.0, True)


def test_outline_masks_follow_each_walker_in_a_merged_blob() -> None:
    """The outline band masks both heads, the box's top share masks the ground between
    them, and neither mask takes the legs."""
    motion = _two_walkers()
    fg = motion.fg
    outline = _covered(motion.outline(0.35, 0.1, 3.0), fg.shape)
    box = _covered(motion.masks(0.35, 0.1, 3.0), fg.shape)
    assert outline[50:70, 100:130].all() and outline[80:110, 170:200].all()  # both heads
    assert not outline[50:72, 152:168].any()  # the ground between them shows
    assert box[50:72, 152:168].all()  # ... which the box's top share masks
    assert not outline[150:180, 170:200].any() and not outline[130:150, 100:130].any()  # legs
    assert not box[80:110, 170:200].all()  # and that share misses B's head
    assert outline.sum() < box.sum()
    assert len(motion.outline(0.0)) == 0  # policy: no moving masks


def _near_and_far() -> Motion:
    """A walker near the camera (rows 40-220, columns 40-100) and one far off, standing
    further up the path (rows 120-180, columns 180-200), one blob through a shadow."""
    fg = np.zeros((240, 320), np.uint8)
    fg[40:220, 40:100] = 255
    fg[120:180, 180:200] = 255
    fg[170:180, 100:180] = 255  # the shadow
    return Motion(np.array([[40, 40, 200, 220]], np.float32), fg, 1.0, True)


def test_a_far_walker_merged_with_a_near_one_has_a_band_of_its_own_size() -> None:
    """A walker far off (60 px tall) beside a near one (180 px) in one blob: the band on
    each is `cover` of its own height, not of the blob's, which would take the far
    walker down to the knees."""
    motion = _near_and_far()
    fg = motion.fg
    band = _covered(motion.outline(0.35, 0.1, 3.0), fg.shape)
    assert band[40:100, 40:100].all()  # the near walker's head and shoulders
    assert band[120:139, 180:200].all()  # the far one's, by its own height
    assert not band[150:180, 180:200].any()  # its legs show
    whole = _covered(motion.outline(1.0, 0.1, 3.0), fg.shape)
    assert whole[120:180, 180:200].all()


def test_a_whole_outline_is_each_walkers_silhouette_not_a_slab() -> None:
    """motion_cover 1 (the strict policy): both walkers wholly masked, the ground above
    the lower one still shows, where the blob's box would mask it."""
    motion = _two_walkers()
    whole = _covered(motion.outline(1.0, 0.1, 3.0), motion.fg.shape)
    assert whole[50:150, 100:130].all() and whole[80:180, 170:200].all()
    assert not whole[50:72, 152:168].any()
    assert _covered(motion.masks(1.0, 0.1, 3.0), motion.fg.shape)[50:72, 152:168].all()


def test_a_walker_cut_in_two_blobs_has_the_band_of_the_whole_walker() -> None:
    """The model often cuts a walker in two (head and shoulders, then the coat): the band
    on the upper part is as deep as the whole walker's, down over the face, not a share of
    the head's own small blob, and still leaves the body below."""
    fg = np.zeros((240, 320), np.uint8)
    fg[50:70, 100:130] = 255  # head and shoulders
    fg[75:150, 95:135] = 255  # the coat and legs, just below: one walker
    motion = Motion(np.array([[100, 50, 130, 70], [95, 75, 135, 150]], np.float32), fg, 1.0, True)
    band = _covered(motion.outline(0.35, 0.1, 3.0), fg.shape)
    assert band[50:80, 100:130].all()  # down over the face, below the head's own blob
    assert not band[106:150, 95:135].any()  # the body shows (below the coat's own band)
    apart = Motion(  # a blob further below is someone else: the head's band stays its own
        np.array([[100, 50, 130, 70], [95, 90, 135, 165]], np.float32), fg, 1.0, True
    )
    assert not _covered(apart.outline(0.35, 0.1, 3.0), fg.shape)[70:80, 100:130].any()


def test_the_band_leaves_out_an_arm_beside_a_head_but_not_the_heads_edge() -> None:
    """A strip whose top is well below every strip beside it holds an arm or a bag, not a
    head: the band leaves it out, and the body it hangs beside shows. A strip holding the
    rounded edge of a head (a few px lower) stays; the silhouette (cover 1) keeps both."""
    fg = np.zeros((240, 320), np.uint8)
    fg[50:65, 125:135] = 255  # the head, across the first two strips
    fg[55:65, 135:140] = 255  # ... its rounded edge, lower by less than SIDE_DROP
    fg[65:150, 110:170] = 255  # the body
    fg[90:130, 170:205] = 255  # an arm and a bag held out, lower by more than SIDE_DROP
    motion = Motion(np.array([[100, 50, 205, 150]], np.float32), fg, 1.0, True)
    band = _covered(motion.outline(0.35, 0.1, 3.0), fg.shape)
    assert band[50:65, 125:135].all() and band[55:65, 135:140].all()  # the head, its edge too
    assert not band[90:130, 175:205].any()  # the arm and bag show
    whole = _covered(motion.outline(1.0, 0.1, 3.0), fg.shape)
    assert whole[90:130, 170:205].all()  # the strict policy's silhouette keeps them


def test_a_shorter_walkers_head_beside_a_taller_one_is_left_out_only_with_sides() -> None:
    """Two walkers merged into one blob: the shorter one's head strip lies below the taller
    one's as a shoulder's would. Where the frame's own look covers heads (`sides`), it is
    left out as a shoulder; where none ran, the band keeps it."""
    fg = np.zeros((240, 320), np.uint8)
    fg[50:65, 125:135] = 255  # the taller walker's head
    fg[65:150, 115:145] = 255  # ... and body
    fg[70:82, 155:165] = 255  # the shorter walker's head, lower by more than SIDE_DROP
    fg[82:150, 145:168] = 255  # ... and body, touching the taller one's
    motion = Motion(np.array([[115, 50, 168, 150]], np.float32), fg, 1.0, True)
    looked = _covered(motion.outline(0.35, 0.1, 3.0, sides=True), fg.shape)
    unlooked = _covered(motion.outline(0.35, 0.1, 3.0, sides=False), fg.shape)
    assert looked[50:65, 125:135].all() and unlooked[50:65, 125:135].all()
    assert not looked[70:82, 155:165].any()  # the look's to find
    assert unlooked[70:82, 155:165].all()  # no look: the band keeps the head


def test_a_tall_walkers_band_goes_only_where_its_look_found_the_face() -> None:
    """On a looked frame (`max_height`, `seen`): a walker taller than `max_height` whose strip
    holds the centre of a face the look found has no band there (the face is masked on its
    own); one whose look found nothing keeps it, and so does a walker at most that tall."""
    motion = _near_and_far()
    fg = motion.fg
    faces = np.array([[62, 44, 78, 62], [184, 122, 196, 134]], np.float32)  # one on each head

    def band(max_height: float, seen: np.ndarray | None, cover: float = 0.2) -> np.ndarray:
        return _covered(motion.outline(cover, 0.1, 3.0, max_height, seen), fg.shape)

    found = band(100.0, faces)
    assert not found[40:76, 40:100].any()  # the near head's face is the look's to mask
    assert found[120:132, 180:200].all()  # the far walker keeps its band
    assert band(100.0, faces[1:])[40:76, 40:100].all()  # nothing found on the near one: kept
    assert band(100.0, None)[40:76, 40:100].all()
    assert band(0.0, faces)[40:76, 40:100].all()  # max_height 0: every band stays
    assert band(100.0, faces, cover=1.0)[40:220, 40:100].all()  # silhouettes stay whole


def test_the_cells_that_moved_are_those_of_kept_blobs_over_the_share() -> None:
    """Work px are half frame px: a 20 px cell is 10x10 work px. The walker's blob fills
    cell (1, 1) and a sliver of (1, 2); foreground outside every kept blob (a blob too
    small to keep) shows no cell."""
    fg = np.zeros((40, 60), np.uint8)
    fg[10:20, 10:22] = 255  # the walker: all of cell (1, 1), 2 of 10 columns of (1, 2)
    fg[30:35, 50:55] = 255  # left out of the blobs
    motion = Motion(np.array([[20, 20, 44, 40]], np.float32), fg, 0.5, True)
    cells = motion.moving_cells(20, 120, 80, 0.1)
    assert cells.shape == (4, 6)
    assert cells[1, 1] and cells[1, 2] and cells.sum() == 2
    assert motion.moving_cells(20, 120, 80, 0.5).sum() == 1  # the sliver is 20% of its cell
    assert not motion.moving_cells(20, 120, 80, 0.0).any()  # 0: every block coarse
    untrusted = Motion(motion.blobs, fg, 0.5, False)
    assert not untrusted.moving_cells(20, 120, 80, 0.1).any()


def test_cells_show_below_the_band_and_not_within_its_depth_above() -> None:
    """Frame px = work px, 10 px cells. One blob moves over columns 0-59, rows 0-99; its
    band is rows 40-60 of columns 20-40. In the band's columns, the cells from 20 px above
    it to its foot stay under the mosaic (a still head above a moving shoulder); the
    blob's other cells show."""
    fg = np.full((100, 60), 255, np.uint8)
    motion = Motion(np.array([[0, 0, 60, 100]], np.float32), fg, 1.0, True)
    band = np.array([[20, 40, 40, 60]], np.float32)
    shown = motion.shown_cells(10, 60, 100, 0.1, band)
    expected = np.ones((10, 6), bool)
    expected[2:6, 2:4] = False  # rows 20-60: the band and its depth above it
    np.testing.assert_array_equal(shown, expected)
    assert not motion.shown_cells(10, 60, 100, 0.0, band).any()


def test_head_regions_hold_each_walkers_head_not_its_legs() -> None:
    """A look at heads (`heads` 0.5) crops the top half of each walker of a merged blob along
    its outline, grown by the region margin: both heads, no feet, fewer pixels."""
    motion = _two_walkers()
    cfg = MotionConfig(margin=0.1, margin_px=4)
    whole = motion.regions(cfg, 320, 240)
    heads = motion.regions(cfg, 320, 240, heads=0.5)
    assert motion.regions(cfg, 320, 240, heads=1.0) == whole
    covered = _covered(np.array(heads, np.float32), motion.fg.shape)
    assert covered[50:80, 100:130].all() and covered[80:110, 170:200].all()  # both heads
    assert not covered[145:180, 170:200].any() and not covered[120:150, 100:130].any()  # legs
    assert _covered(np.array(whole, np.float32), motion.fg.shape)[145:180, 170:200].all()
    area = sum(region_area(r) for r in heads)
    assert area < 0.7 * sum(region_area(r) for r in whole)


@pytest.mark.parametrize(("budget", "width"), [(0, 0), (8_000, 0), (0, 600), (8_000, 600)])
def test_look_px_is_what_look_closer_hands_its_detector(budget: int, width: int) -> None:
    bgr = np.zeros((400, 1200, 3), np.uint8)
    regions = [(200, 80, 360, 400), (600, 200, 1000, 400)]
    det = _CentreDetector()
    look_closer(det, bgr, regions, budget, width=width)
    handed = sum(s[0] * s[1] for s in det.shapes)
    assert look_px(regions, budget, width, 1200) == pytest.approx(handed, rel=0.02)
