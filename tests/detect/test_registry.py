"""Profiles: the default ones build and run on real photos; merging; failures propagate."""

from __future__ import annotations

import numpy as np
import pytest
from detect_helpers import read, recall
from support.fakes import RaisingDetector

from redactor.boxes import suppress as merge
from redactor.config import Config, ProfileConfig
from redactor.data import LabelledImage
from redactor.detect.base import work_px
from redactor.detect.plate_ssd import PlateSsdDetector
from redactor.detect.registry import ProfileDetector, build_detector
from redactor.detect.threads import usable_cpus
from redactor.errors import InvalidFrame
from redactor.models import model_sha256
from redactor.types import Detections, Label


def test_merge_keeps_the_best_of_overlapping_boxes_per_label() -> None:
    found = Detections.create(
        [[0, 0, 10, 10], [1, 1, 11, 11], [0, 0, 10, 10], [50, 50, 60, 60]],
        [0.5, 0.9, 0.7, 0.3],
        [Label.FACE, Label.FACE, Label.PLATE, Label.FACE],
    )
    merged = merge(found, 0.5)
    assert sorted(merged.scores.tolist()) == pytest.approx([0.3, 0.7, 0.9])
    assert set(merged.labels.tolist()) == {int(Label.FACE), int(Label.PLATE)}  # labels never merge


def test_unknown_kind_names_itself() -> None:
    with pytest.raises(NotImplementedError, match="no plugin"):
        build_detector(object())  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["realtime", "thorough"])
def test_default_profiles_build_with_faces_and_plates(name: str) -> None:
    det = ProfileDetector(name, Config().detect.profiles[name])
    try:
        assert det.name == name and len(det.detectors) >= 2
        assert model_sha256("centerface") in det.model_sha256
        assert model_sha256("ppocr_det") in det.model_sha256
        blank = det.detect(np.zeros((360, 640, 3), np.uint8))
        assert len(blank) == 0
    finally:
        det.close()
        det.close()  # idempotent


@pytest.mark.parametrize("parallel", [True, False])
def test_a_failing_detector_fails_the_frame(parallel: bool) -> None:
    """No partial result: the pipeline sees the error and fails closed."""
    cfg = Config().detect.profiles["realtime"].model_copy(update={"parallel": parallel})
    det = ProfileDetector("realtime", cfg)
    det.detectors.append(RaisingDetector("broken", "runtime failed"))
    try:
        with pytest.raises(RuntimeError, match="runtime failed"):
            det.detect(np.zeros((64, 64, 3), np.uint8))
    finally:
        det.close()


@pytest.mark.data
def test_parallel_and_sequential_give_the_same_boxes(smoke_faces: list[LabelledImage]) -> None:
    profile = Config().detect.profiles["realtime"]
    img = read(smoke_faces[0])
    results = []
    for parallel in (True, False):
        det = ProfileDetector("realtime", profile.model_copy(update={"parallel": parallel}))
        results.append(det.detect(img))
        det.close()
    np.testing.assert_array_equal(results[0].boxes, results[1].boxes)
    np.testing.assert_array_equal(results[0].labels, results[1].labels)


@pytest.mark.data
@pytest.mark.parametrize("name", ["realtime", "thorough"])
def test_profiles_protect_real_faces_and_plates(
    name: str, smoke_faces: list[LabelledImage], plate_sample: list[LabelledImage]
) -> None:
    """Every profile on the 9 group photos and 5 of the plate photos (kept few: thorough is slow)."""
    det = ProfileDetector(name, Config().detect.profiles[name])
    try:
        assert recall(lambda im: det.detect(im).of(Label.FACE), smoke_faces) >= 0.95
        assert recall(lambda im: det.detect(im).of(Label.PLATE), plate_sample[::3]) >= 0.8
    finally:
        det.close()


def test_profile_config_rejects_unknown_detector_kinds() -> None:
    with pytest.raises(ValueError):
        ProfileConfig.model_validate({"detectors": [{"kind": "yolo_agpl"}]})


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (np.zeros((10, 10), np.uint8), "uint8 \\(10, 10\\)"),
        (np.zeros((10, 10, 4), np.uint8), "\\(10, 10, 4\\)"),
        (np.zeros((10, 10, 3), np.float32), "float32"),
        (np.zeros((0, 10, 3), np.uint8), "non-empty"),
        ([[1, 2, 3]], "list"),
    ],
)
def test_profile_refuses_frames_that_are_not_bgr(frame: object, message: str) -> None:
    det = ProfileDetector("realtime", Config().detect.profiles["realtime"])
    try:
        with pytest.raises(InvalidFrame, match=message):
            det.detect(frame)  # type: ignore[arg-type]
    finally:
        det.close()


def test_profiles_share_one_session_per_model_and_thread_count() -> None:
    """Each onnxruntime session keeps an arena as large as its biggest run; the default
    profiles run CenterFace at six settings, PP-OCRv4's text model at four and v5's at
    two. One session per model means one arena each, so memory does not jump when a
    profile is first used late in a run (a sweep waiting out load did so by 150 MB)."""
    import gc
    import weakref

    cfg = Config().detect.profiles
    a = ProfileDetector("thorough", cfg["thorough"])
    b = ProfileDetector("sweep", cfg["sweep"])
    faces = [d._sess for d in (*a.detectors, *b.detectors) if d.name.startswith("centerface")]  # type: ignore[attr-defined]
    texts = [d for d in (*a.detectors, *b.detectors) if d.name.startswith("plate_text")]
    assert len(faces) == 6 and len({id(s) for s in faces}) == 1
    v4 = [d._sess for d in texts if "_v5" not in d.name]  # type: ignore[attr-defined]
    v5 = [d._sess for d in texts if "_v5" in d.name]  # type: ignore[attr-defined]
    assert len(v4) == 4 and len({id(s) for s in v4}) == 1 and v4[0] is not faces[0]
    assert len(v5) == 2 and len({id(s) for s in v5}) == 1 and v5[0] is not v4[0]
    # another thread count is another session (it sets the session's own pool), and a
    # session lives while a detector holds it, not after
    three = ProfileDetector("roi", cfg["roi"], threads=3)
    own = weakref.ref(three.detectors[0]._sess)  # type: ignore[attr-defined]
    assert own() is not faces[0]
    del three
    gc.collect()
    assert own() is None


class _Logged:
    """A detector that records when it ran and finds one box at `x`; it cannot tell its cost."""

    model_sha256 = ""

    def __init__(self, name: str, x: float, log: list[str]) -> None:
        self.name, self._x, self._log = name, x, log

    def detect(self, bgr: np.ndarray) -> Detections:
        self._log.append(self.name)
        return Detections.create([[self._x, 0, self._x + 5, 5]], [0.5], Label.FACE)

    def close(self) -> None:
        pass


class _Costed(_Logged):
    """... and one that can: `px` of network input whatever the frame."""

    def __init__(self, name: str, px: int, x: float, log: list[str]) -> None:
        super().__init__(name, x, log)
        self._px = px

    def work_px(self, width: int, height: int) -> int:
        return self._px


def test_the_pool_takes_the_most_network_input_first_and_keeps_the_profile_order() -> None:
    """One worker makes the start order visible: costliest first, a detector that cannot
    tell counting as the frame's pixels (64 x 64 = 4096); the boxes come in profile order."""
    ran: list[str] = []
    det = ProfileDetector("t", Config().detect.profiles["live"], workers=1)
    det.detectors = [
        _Costed("small", 100, 0, ran),
        _Costed("large", 9000, 10, ran),
        _Logged("untold", 20, ran),
        _Costed("skipped", 0, 30, ran),
        _Costed("middle", 5000, 40, ran),
    ]
    try:
        found = det.detect(np.zeros((64, 64, 3), np.uint8))
    finally:
        det.close()
    assert ran == ["large", "middle", "untold", "small", "skipped"]
    assert found.boxes[:, 0].tolist() == [0, 10, 20, 30, 40]


def test_the_pool_has_a_thread_per_usable_cpu_at_most() -> None:
    det = ProfileDetector("thorough", Config().detect.profiles["thorough"])
    try:
        assert det._pool is not None
        assert det._pool._max_workers == min(len(det.detectors), usable_cpus())
    finally:
        det.close()


class _Inputs:
    """A session that records the shape of each input it runs on."""

    def __init__(self, sess: object, shapes: list[tuple[int, ...]]) -> None:
        self._sess, self._shapes = sess, shapes

    def __getattr__(self, name: str) -> object:
        return getattr(self._sess, name)

    def run(self, outputs: object, feeds: dict[str, np.ndarray]) -> object:
        self._shapes.append(next(iter(feeds.values())).shape)
        return self._sess.run(outputs, feeds)  # type: ignore[attr-defined]


@pytest.mark.parametrize("size", [(768, 576), (1920, 1080), (1277, 719)])
def test_work_px_is_what_the_networks_see(size: tuple[int, int]) -> None:
    """Each thorough detector's estimate against the input its network gets (0 where it
    skips the frame); the plate SSD runs through OpenCV, so its own input is checked."""
    w, h = size
    img = np.zeros((h, w, 3), np.uint8)
    det = ProfileDetector("thorough", Config().detect.profiles["thorough"], parallel=False)
    try:
        for d in det.detectors:
            if isinstance(d, PlateSsdDetector):
                blob, _, _ = d.network_input(img)
                seen = [blob.shape] if max(w, h) > d.cfg.min_frame_side else []
            else:
                seen = []
                d._sess = _Inputs(d._sess, seen)  # type: ignore[attr-defined]
                d.detect(img)
            expected = int(np.prod(seen[0][2:])) if seen else 0
            assert work_px(d, w, h) == expected, d.name
    finally:
        det.close()
