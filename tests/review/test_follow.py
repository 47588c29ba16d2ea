"""A box a reviewer drew follows its object through the clip (redactor.review.follow).

The acceptance test pastes a real labelled face onto real CCTV footage along a
known curved path with changing speed and size, so the true box is known on
every frame, and gives `follow` the true box on the middle frame only.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import av
import cv2
import numpy as np
import numpy.typing as npt
import pytest
from support.boxes import covered

from redactor.data import load_faces
from redactor.errors import InvalidFrame, InvalidInput
from redactor.review.follow import Box, Followed, follow

PROXY_WIDTH = 640
FACE_SIDE = 40  # px on the proxy at the start of the path; it grows by a quarter along it
CLIPS = ["opencv_vtest.avi", "intel_person-bicycle-car-detection.mp4", "intel_car-detection.mp4"]

Frames = list[npt.NDArray[np.uint8]]


@cache
def _decode(path: Path, n: int) -> tuple[tuple[npt.NDArray[np.uint8], ...], float]:
    """The first `n` frames of a clip resized to the proxy width (BGR), and its frame rate."""
    out: list[npt.NDArray[np.uint8]] = []
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        fps = float(s.average_rate or 10)
        for f in c.decode(s):
            img = f.to_ndarray(format="bgr24")
            h = round(img.shape[0] * PROXY_WIDTH / img.shape[1])
            out.append(np.asarray(cv2.resize(img, (PROXY_WIDTH, h), interpolation=cv2.INTER_AREA)))
            if len(out) == n:
                break
    return tuple(out), fps


def _face(shared_data: Path) -> npt.NDArray[np.uint8]:
    """The first labelled face of the shared face set at least 48 px each way (BGR)."""
    for img in load_faces(root=shared_data):
        for x0, y0, x1, y1 in img.boxes.astype(int):
            if min(x1 - x0, y1 - y0) >= 48:
                pixels = cv2.imread(str(img.path))
                assert pixels is not None, img.path
                return np.ascontiguousarray(pixels[y0:y1, x0:x1])
    pytest.skip("no labelled face of at least 48 px in the shared data")


def _path(n: int, width: int, height: int) -> npt.NDArray[np.float64]:
    """(n, 4) true boxes: a curve across the frame, speed 0.25x..1.75x its mean, size +25%."""
    t = np.linspace(0, 1, n)
    u = t + 0.12 * np.sin(2 * np.pi * t)  # progress along the curve: slows, then speeds up
    cx = width * (0.25 + 0.5 * u)
    cy = height * (0.5 + 0.2 * np.sin(1.5 * np.pi * u))
    side = FACE_SIDE * (1 + 0.25 * t)
    return np.stack([cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2], axis=1)


def _paste(
    frames: Frames, face: npt.NDArray[np.uint8], path: npt.NDArray[np.float64]
) -> tuple[Frames, npt.NDArray[np.float64]]:
    """Copies of `frames` with `face` pasted on `path` (rounded to whole pixels), and the
    true boxes as pasted."""
    out, truth = [], []
    aspect = face.shape[0] / face.shape[1]
    for img, b in zip(frames, path, strict=True):
        w = round(b[2] - b[0])
        h = round(w * aspect)
        x, y = round((b[0] + b[2] - w) / 2), round((b[1] + b[3] - h) / 2)
        img = img.copy()
        img[y : y + h, x : x + w] = cv2.resize(face, (w, h), interpolation=cv2.INTER_AREA)
        out.append(img)
        truth.append([x, y, x + w, y + h])
    return out, np.asarray(truth, np.float64)


def _scene(shared_data: Path, clip: str) -> tuple[Frames, npt.NDArray[np.float64], int]:
    """4 s and one frame of `clip` with the face pasted on its path, true boxes, 2 s in frames."""
    src = shared_data / "videos" / clip
    if not src.is_file():
        pytest.skip(f"{src} not in the shared data")
    _, fps = _decode(src, 1)
    reach = round(2 * fps)
    frames, _ = _decode(src, 2 * reach + 1)
    h, w = frames[0].shape[:2]
    pasted, truth = _paste(list(frames), _face(shared_data), _path(len(frames), w, h))
    return pasted, truth, reach


def _box(b: npt.NDArray[np.float64]) -> Box:
    return (float(b[0]), float(b[1]), float(b[2]), float(b[3]))


def _area(b: npt.NDArray[np.floating]) -> float:
    return float(max(b[2] - b[0], 0) * max(b[3] - b[1], 0))


def _scores(
    got: Followed, truth: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Per frame of `truth` (from frame 0): share of the true box covered, area ratio."""
    assert got.first == 0 and len(got.boxes) == len(truth)
    cov = np.array([covered(t, b[None]) for t, b in zip(truth, got.boxes, strict=True)])
    ratio = np.array([_area(b) / _area(t) for t, b in zip(truth, got.boxes, strict=True)])
    return cov, ratio


@pytest.mark.data
@pytest.mark.parametrize("clip", CLIPS)
def test_one_drawn_box_follows_its_object_2s_either_side(shared_data: Path, clip: str) -> None:
    frames, truth, reach = _scene(shared_data, clip)
    key = reach  # the middle frame; the clip is 2 s either side of it
    got = follow(frames.__getitem__, len(frames), {key: _box(truth[key])}, reach)

    cov, ratio = _scores(got, truth)
    print(f"{clip}: coverage min {cov.min():.2f} median {np.median(cov):.2f}, area ratio max "
          f"{ratio.max():.2f}, lost {int(got.lost.sum())}/{len(cov)}")  # fmt: skip
    assert np.mean(cov >= 0.8) >= 0.95, f"covered >= 80% on {np.mean(cov >= 0.8):.0%}: {cov}"
    assert np.mean(ratio <= 4) >= 0.95, f"area <= 4x the true box on {np.mean(ratio <= 4):.0%}"
    np.testing.assert_array_equal(got.boxes[key], np.float32(truth[key]))


@pytest.mark.data
def test_two_keyframes_path_passes_exactly_through_both(shared_data: Path) -> None:
    frames, truth, reach = _scene(shared_data, CLIPS[0])
    a, b = reach // 2, reach + reach // 2
    # the second key a few px off the true box (as a reviewer draws): the path still meets it
    key_b = truth[b] + np.array([3.0, -2.0, 3.0, -2.0])
    keys = {a: _box(truth[a]), b: _box(key_b)}
    got = follow(frames.__getitem__, len(frames), keys, reach)

    assert got.first == 0 and len(got.boxes) == len(frames)
    np.testing.assert_array_equal(got.boxes[a], np.float32(truth[a]))
    np.testing.assert_array_equal(got.boxes[b], np.float32(key_b))
    assert not got.lost[a] and not got.lost[b]
    cov, _ = _scores(got, truth)
    assert np.all(cov[a : b + 1] >= 0.8), cov[a : b + 1]


def _noise_after(frames: Frames, start: int, kind: str) -> Frames:
    rng = np.random.default_rng(7)
    out = list(frames[:start])
    for img in frames[start:]:
        if kind == "noise":
            out.append(rng.integers(0, 256, img.shape, dtype=np.uint8))
        else:
            out.append(np.full_like(img, 128))
    return out


@pytest.mark.data
@pytest.mark.parametrize("kind", ["noise", "flat"])
def test_lost_box_is_held_and_grown_not_dropped(shared_data: Path, kind: str) -> None:
    frames, truth, reach = _scene(shared_data, CLIPS[1])
    gone = reach + 5  # from here on the picture is noise (a broken feed) or flat grey
    frames = _noise_after(frames, gone, kind)
    got = follow(frames.__getitem__, len(frames), {reach: _box(truth[reach])}, reach)

    assert not got.lost[:gone].any(), np.flatnonzero(got.lost)
    assert got.lost[gone:].all(), np.flatnonzero(~got.lost[gone:]) + gone
    h, w = frames[0].shape[:2]
    last = got.boxes[gone - 1].astype(np.float64)
    c, size = (last[:2] + last[2:]) / 2, last[2:] - last[:2]
    for k, i in enumerate(range(gone, len(frames)), start=1):
        grown = 1 + min(0.02 * k, 0.5)  # the defaults: 2% a frame, at most 50%
        want = np.concatenate([c - size * grown / 2, c + size * grown / 2])
        want = np.clip(want, 0, [w, h, w, h])
        np.testing.assert_allclose(got.boxes[i], want, atol=1e-3, err_msg=f"frame {i}")


def test_grow_per_frame_and_max_grow_are_the_callers() -> None:
    rng = np.random.default_rng(3)
    textured = rng.integers(0, 256, (360, 640, 3), dtype=np.uint8)
    textured = np.asarray(cv2.GaussianBlur(textured, (5, 5), 0))
    flat = np.full_like(textured, 90)
    frames = [textured] + [flat] * 6
    got = follow(
        frames.__getitem__, len(frames), {0: (300, 150, 340, 190)}, 10,
        grow_per_frame=0.1, max_grow=0.3,
    )  # fmt: skip
    widths = got.boxes[:, 2] - got.boxes[:, 0]
    np.testing.assert_allclose(widths, [40, 44, 48, 52, 52, 52, 52], atol=1e-3)
    assert got.lost.tolist() == [False] + [True] * 6


def test_covers_reach_either_side_clipped_to_the_clip() -> None:
    frames = [np.zeros((90, 160, 3), np.uint8)] * 30
    got = follow(frames.__getitem__, 30, {3: (10, 10, 30, 30), 20: (50, 20, 70, 40)}, 5)
    assert got.first == 0 and len(got.boxes) == 26 and len(got.lost) == 26  # frames 0..25
    assert got.boxes.dtype == np.float32 and got.boxes.shape == (26, 4)
    np.testing.assert_array_equal(got.boxes[20], [50, 20, 70, 40])


def test_boxes_stay_in_the_frame() -> None:
    frames = [np.zeros((90, 160, 3), np.uint8)] * 10
    got = follow(frames.__getitem__, 10, {5: (-20, -5, 30, 40)}, 4)
    assert (got.boxes >= 0).all()
    assert (got.boxes[:, 2] <= 160).all() and (got.boxes[:, 3] <= 90).all()


@pytest.mark.parametrize(
    ("keys", "needle"),
    [
        ({10: (1.0, 1.0, 5.0, 5.0)}, "keyframe 10 is outside the clip's frames [0, 10)"),
        ({-1: (1.0, 1.0, 5.0, 5.0)}, "keyframe -1 is outside the clip's frames [0, 10)"),
        ({3: (5.0, 1.0, 5.0, 5.0)}, "keyframe 3's box"),
        ({3: (1.0, 6.0, 5.0, 5.0)}, "x1 > x0 and y1 > y0"),
        ({3: (1.0, float("nan"), 5.0, 5.0)}, "keyframe 3's box"),
        ({3: (1.0, 1.0, float("inf"), 5.0)}, "not 4 finite numbers"),
        ({}, "at least one keyframe"),
    ],
)
def test_bad_keys_are_refused_with_the_key_and_the_range(keys: dict[int, Box], needle: str) -> None:
    frames = [np.zeros((90, 160, 3), np.uint8)] * 10
    with pytest.raises(InvalidInput) as err:
        follow(frames.__getitem__, 10, keys, 5)
    assert needle in str(err.value)


def test_bad_arguments_are_refused() -> None:
    frames = [np.zeros((90, 160, 3), np.uint8)] * 10
    key = {3: (1.0, 1.0, 5.0, 5.0)}
    with pytest.raises(InvalidInput, match="reach"):
        follow(frames.__getitem__, 10, key, -1)
    with pytest.raises(InvalidInput, match="grow_per_frame"):
        follow(frames.__getitem__, 10, key, 5, grow_per_frame=-0.1)
    with pytest.raises(InvalidInput, match="max_grow"):
        follow(frames.__getitem__, 10, key, 5, max_grow=float("nan"))
    with pytest.raises(InvalidInput, match="n_frames"):
        follow(frames.__getitem__, 0, key, 5)


def test_frames_that_are_not_bgr_are_refused() -> None:
    gray = [np.zeros((90, 160), np.uint8)] * 10
    with pytest.raises(InvalidFrame, match="BGR uint8"):
        follow(gray.__getitem__, 10, {3: (1.0, 1.0, 5.0, 5.0)}, 5)
    mixed = [np.zeros((90, 160, 3), np.uint8)] * 4 + [np.zeros((90, 100, 3), np.uint8)] * 6
    with pytest.raises(InvalidFrame, match="earlier frames"):
        follow(mixed.__getitem__, 10, {3: (1.0, 1.0, 5.0, 5.0)}, 5)


@pytest.mark.data
def test_a_glitch_frame_is_lost_then_the_object_is_found_again(shared_data: Path) -> None:
    frames, truth, reach = _scene(shared_data, CLIPS[1])
    glitch = reach + 5  # one frame of noise (a decode error), then the picture is back
    frames[glitch] = np.random.default_rng(5).integers(0, 256, frames[0].shape, dtype=np.uint8)
    got = follow(frames.__getitem__, len(frames), {reach: _box(truth[reach])}, reach)

    assert np.flatnonzero(got.lost).tolist() == [glitch]
    cov, _ = _scores(got, truth)
    assert np.all(cov[glitch:] >= 0.8), cov[glitch:]
