"""The fast plan's detection of a segment (redactor.export.fast) fails closed frame by frame."""

from __future__ import annotations

from pathlib import Path

import pytest
from export_helpers import SEGMENTED_SOURCE, cut_clip, source_video
from support.fakes import GarbageDetector, RaisingDetector, RegionGarbageDetector

from redactor.config import FastPlanConfig, PolicyConfig
from redactor.export import fast, segments
from redactor.export.archive import probe
from redactor.export.objects import plan_objects
from redactor.export.redact import LOOK_FULL, LOOK_REGIONS, DetectPass, plan_masks

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fast") / "clip.mp4"
    cut_clip(source_video(SEGMENTED_SOURCE), path, 6)
    return path


@pytest.mark.parametrize("looks", ["crops", "windows"])
def test_frames_whose_detectors_fail_are_fully_masked(clip: Path, looks: str) -> None:
    """Crops: every sweep raises and every look at the crops returns garbage. Windows: the
    sweeps work and every look at the windows (detect_in) returns garbage."""
    info = probe(clip)
    cfg = FastPlanConfig(sweep_s=1.0, looks=looks)
    seg = segments.cut(clip, 10.0, preroll_s=cfg.preroll_s)[0]
    full = RaisingDetector() if looks == "crops" else RegionGarbageDetector()
    looked = fast.detect_segment(clip, seg, info.width, info.height, full, GarbageDetector(), cfg)
    swept = [i for i, k in enumerate(looked.looks) if k == LOOK_FULL]
    regions = [i for i, k in enumerate(looked.looks) if k == LOOK_REGIONS]
    assert len(swept) >= 6 and regions, looked.looks
    if looks == "crops":
        assert set(swept) <= set(looked.failed), "every sweep raised: each of those frames fails"
    else:
        # A look with nothing moving runs no detector.
        assert looked.failed and set(looked.failed) <= set(regions), "only the windows failed"
    assert all("detector failed" in why for why in looked.failed.values())
    found = DetectPass(info.width, info.height, list(seg.pts), list(seg.t_us))
    found.detections, found.looks, found.failed = looked.detections, looked.looks, looked.failed
    tracked = plan_objects(looked.detections, looked.looks, list(seg.t_us), cfg)
    plan = plan_masks(found, tracked, PolicyConfig())
    for i, m in enumerate(plan.masks):
        assert m.full_frame == (i in looked.failed), f"frame {i}"
