"""One typed configuration tree, read once at start-up.

Every field has a unit, bounds and a one-line description; unknown keys are
rejected. The embedded defaults run on one machine (loopback, local archive
folder, SQLite ledger, a token per role). A TOML file overrides any part:
`redactor serve --config center.toml`, and `redactor check-config FILE` validates one.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from redactor.errors import ConfigError


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ---------------------------------------------------------------- detection


class MediaPipeFaceConfig(Strict):
    kind: Literal["mediapipe_face"] = "mediapipe_face"
    model: Literal["short", "full"] = Field(
        "full", description="BlazeFace short range (near faces) or full range"
    )
    min_score: float = Field(0.5, ge=0.0, le=1.0, description="minimum detection confidence")
    tile: int = Field(0, ge=0, le=4096, description="tile side in px; 0 = whole frame only")
    tile_overlap: float = Field(
        0.25, ge=0.0, lt=1.0, description="overlap between tiles, share of tile side"
    )


class CenterFaceConfig(Strict):
    kind: Literal["centerface"] = "centerface"
    min_score: float = Field(0.2, ge=0.0, le=1.0, description="minimum detection confidence")
    scale: float = Field(
        1.0, gt=0.0, le=4.0, description="input scale before the network (2.0 = upscale 2x)"
    )
    max_side: int = Field(
        0, ge=0, le=8192, description="cap on the scaled long side in px; 0 = none"
    )
    min_scale: float = Field(
        0.0,
        ge=0.0,
        le=4.0,
        description="skip frames the cap would scale by less than this (a pass for small frames)",
    )
    max_face_px: float = Field(
        0.0,
        ge=0.0,
        le=8192.0,
        description="keep only faces up to this long side in frame px (a small-face pass); 0 = all",
    )
    small_px: float = Field(
        0.0,
        ge=0.0,
        le=8192.0,
        description="faces up to this long side in frame px are kept from small_min_score instead; 0 = off",
    )
    small_min_score: float = Field(
        0.0,
        ge=0.0,
        le=1.0,
        description="confidence floor of faces up to small_px (a small box costs little to mask)",
    )
    # A real face this large scores far above any floor; a box this large at a low floor is a
    # table or a wall, and costs much to mask (see docs/tuning.md#sweep-profile).
    large_px: float = Field(
        0.0,
        ge=0.0,
        le=8192.0,
        description="faces over this long side in frame px are kept from large_min_score only; 0 = off",
    )
    large_min_score: float = Field(
        0.0, ge=0.0, le=1.0, description="confidence floor of faces over large_px"
    )
    nms_iou: float = Field(
        0.3, gt=0.0, le=1.0, description="IoU above which overlapping boxes merge"
    )


class PlateTextConfig(Strict):
    kind: Literal["plate_text"] = "plate_text"
    model: Literal["ppocr_det", "ppocr_det_v5"] = Field(
        "ppocr_det", description="text detector: PP-OCRv4 (ppocr_det) or PP-OCRv5 (ppocr_det_v5)"
    )
    min_score: float = Field(
        0.5, ge=0.0, le=1.0, description="DBNet box score (mean text probability) threshold"
    )
    bin_threshold: float = Field(
        0.3, gt=0.0, lt=1.0, description="text probability above which a map pixel is text"
    )
    unclip: float = Field(
        1.5, ge=0.0, le=4.0, description="DBNet unclip ratio (growth of shrunk text regions)"
    )
    scale: float = Field(
        1.0, gt=0.0, le=4.0, description="input scale before the network (2.0 = upscale 2x)"
    )
    max_side: int = Field(
        960, ge=0, le=8192, description="cap on the scaled long side in px; 0 = none"
    )
    min_text_px: float = Field(
        0.0, ge=0.0, le=256.0, description="text boxes thinner than this in frame px are dropped"
    )
    # A plate line holds at most about ten characters; longer lines are captions and
    # signs (see docs/detection.md#plate-text).
    max_aspect: float = Field(
        8.0, ge=1.0, le=1000.0, description="text boxes longer than this x their height are dropped"
    )
    # From a text line to a plate's shape, before the policy's enlarge (see docs/detection.md#plate-text).
    grow_x: float = Field(
        1.1, ge=1.0, le=3.0, description="text box grown to plate width, along the text, factor"
    )
    grow_y: float = Field(
        1.5, ge=1.0, le=4.0, description="text box grown to plate height, across the text, factor"
    )
    # A steep "text line" is a parking-bay line, a kerb or a cable, whose axis-aligned box is
    # square and large; plates of cars on the ground are near level (see docs/detection.md#plate-text).
    max_tilt_deg: float = Field(
        40.0,
        ge=0.0,
        le=90.0,
        description="text lines tilted more than this from level are dropped, degrees; 90 = none",
    )
    # DBNet also scores large non-text (torsos, a car's grille) 0.99; re-read with its "text" at a
    # height DBNet reads best, it has none, while a plate's line still has (see docs/detection.md#plate-text).
    verify_text_px: float = Field(
        44.0,
        ge=0.0,
        le=256.0,
        description="map px: taller text regions are re-read scaled to this height, kept if still text; 0 = off",
    )
    verify_min_score: float = Field(
        0.1, ge=0.0, le=1.0, description="mean text probability a re-run region needs to be kept"
    )
    # A pass at a higher scale is there for plates the main pass shrinks below what DBNet reads;
    # larger ones it leaves to that pass (see docs/detection.md#small-plates).
    max_plate_px: float = Field(
        0.0,
        ge=0.0,
        le=8192.0,
        description="keep only plates up to this width in frame px (a small-plate pass); 0 = all",
    )
    min_frame_side: int = Field(
        0,
        ge=0,
        le=8192,
        description="skip frames whose long side is at most this (a main pass sees them whole); 0 = none",
    )


class PlateClassicConfig(Strict):
    kind: Literal["plate_classic"] = "plate_classic"
    max_side: int = Field(
        960, ge=64, le=8192, description="long side the localiser works at in px (never upscaled)"
    )
    min_aspect: float = Field(
        1.5, gt=0.0, le=20.0, description="narrowest plate candidate, width / height"
    )
    max_aspect: float = Field(
        7.0, gt=0.0, le=20.0, description="widest plate candidate, width / height"
    )
    min_fill: float = Field(
        0.5, ge=0.0, le=1.0, description="share of its box a candidate blob must fill"
    )
    light_text: bool = Field(False, description="also look for light characters on dark plates")
    min_chars: int = Field(
        3, ge=0, le=12, description="character-like blobs a candidate must hold; 0 = no check"
    )


class PlateSsdConfig(Strict):
    """A plate detector network (an SSD trained on plates): it finds small plates whose
    characters are too small for the text detector (see docs/detection.md#a-plate-detector)."""

    kind: Literal["plate_ssd"] = "plate_ssd"
    min_score: float = Field(
        0.01,
        ge=0.01,
        le=1.0,
        description="minimum confidence (the network reports none below 0.01)",
    )
    scale: float = Field(1.0, gt=0.0, le=4.0, description="input scale before the network")
    max_side: int = Field(
        0, ge=0, le=8192, description="cap on the scaled long side in px; 0 = none"
    )
    max_plate_px: float = Field(
        128.0,
        ge=0.0,
        le=8192.0,
        description="boxes wider than this in frame px are dropped (the text passes find those); 0 = none",
    )
    min_frame_side: int = Field(
        0,
        ge=0,
        le=8192,
        description="skip frames whose long side is at most this; 0 = none",
    )


class OnnxDetectorConfig(Strict):
    kind: Literal["onnx"] = "onnx"
    path: Path = Field(description="a user-supplied ONNX detector (YOLO-style output)")
    label: Literal["face", "plate", "person"] = Field("plate", description="what it finds")
    min_score: float = Field(0.3, ge=0.0, le=1.0, description="minimum confidence")
    input_size: int = Field(
        640, ge=32, le=4096, description="square network input in px (letterboxed)"
    )
    layout: Literal["yolov8", "yolov5"] = Field(
        "yolov8",
        description="output layout: yolov8 (1, 4+C, N) or yolov5 (1, N, 5+C), boxes cx,cy,w,h",
    )
    nms_iou: float = Field(
        0.5, gt=0.0, le=1.0, description="IoU above which overlapping boxes merge"
    )


DetectorConfig = Annotated[
    MediaPipeFaceConfig
    | CenterFaceConfig
    | PlateTextConfig
    | PlateClassicConfig
    | PlateSsdConfig
    | OnnxDetectorConfig,
    Field(discriminator="kind"),
]


class ProfileConfig(Strict):
    detectors: tuple[DetectorConfig, ...] = Field(
        description="detectors run on each frame; boxes merged"
    )
    merge_iou: float = Field(
        0.5, gt=0.0, le=1.0, description="IoU above which boxes of one label merge"
    )
    parallel: bool = Field(
        True,
        description="run a frame's detectors side by side, a thread per usable CPU, "
        "the most network input first (latency nearer the slowest's than the sum)",
    )

    def plates_only(self) -> ProfileConfig | None:
        """The same profile with its plate and text passes alone; None if it has none."""
        kept = tuple(
            d
            for d in self.detectors
            if isinstance(d, PlateTextConfig | PlateSsdConfig | PlateClassicConfig)
        )
        return self.model_copy(update={"detectors": kept}) if kept else None


# Text at the frame's own size where the 1280 px pass shrinks it: a small plate far away keeps
# characters DBNet can read (see docs/detection.md#small-plates).
SMALL_PLATES = PlateTextConfig(max_side=0, max_plate_px=128, min_frame_side=1280)
# The same pass with PP-OCRv5's detector, which finds some small plates v4 misses and misses
# others it finds: together they find more (docs/detection.md#small-plates).
SMALL_PLATES_V5 = SMALL_PLATES.model_copy(update={"model": "ppocr_det_v5"})
# A plate detector for the small plates neither text model reads (docs/detection.md#a-plate-detector).
PLATE_SSD = PlateSsdConfig()
# Realtime's passes for frames over 1280 px, where its 640 px text pass shrinks a parked car's
# plate below reading: the plate detector, and text at thorough's 1280 px. Frames up to 720p
# keep realtime's budget (docs/detection.md#a-plate-detector).
PLATE_SSD_LARGE_FRAMES = PlateSsdConfig(min_frame_side=1280)
TEXT_1280_LARGE_FRAMES = PlateTextConfig(max_side=1280, min_frame_side=1280)


# Thorough's text and plate passes, the sweep's too
TEXT_PASSES: tuple[DetectorConfig, ...] = (
    PlateTextConfig(max_side=1280),
    SMALL_PLATES,
    SMALL_PLATES_V5,
    PLATE_SSD,
)


def _default_profiles() -> dict[str, ProfileConfig]:
    # Chosen with `python -m bench.eval` on the shared data: docs/detection.md#profiles.
    thorough: tuple[DetectorConfig, ...] = (
        CenterFaceConfig(scale=1.0, min_score=0.15),
        CenterFaceConfig(scale=2.0, max_side=3840, min_score=0.1),
        CenterFaceConfig(scale=3.0, max_side=2048, min_scale=2.5, max_face_px=24, min_score=0.1),
        *TEXT_PASSES,
    )
    return {
        # One fast pass per frame: CenterFace and text at most 640 px wide (small images
        # run at full size), the classical localiser as a cheap second opinion; on frames
        # over 1280 px also text at 1280 px and the plate detector, for small plates.
        "realtime": ProfileConfig(
            detectors=(
                CenterFaceConfig(scale=1.0, max_side=640, min_score=0.12),
                PlateTextConfig(max_side=640),
                PlateClassicConfig(max_side=960, min_chars=3),
                TEXT_1280_LARGE_FRAMES,
                PLATE_SSD_LARGE_FRAMES,
            )
        ),
        # Live streams' whole frames: realtime without the classical localiser. On a stream its
        # few false plates (a row of windows, a walker's coat) became tracks whose held masks
        # grew to slabs across the picture; the sweeps read still plates with text passes
        # (docs/tuning.md#live-profile).
        "live": ProfileConfig(
            detectors=(
                CenterFaceConfig(scale=1.0, max_side=640, min_score=0.12),
                PlateTextConfig(max_side=640),
            )
        ),
        # Live streams: crops of where a fixed camera's picture moved (redactor/pipeline/
        # motion.py), at twice their size, so small faces far away are found in real time.
        "roi": ProfileConfig(
            detectors=(CenterFaceConfig(scale=2.0, max_side=1280, min_score=0.12),)
        ),
        # Live streams' look at every frame's moving regions (live.look): the roi pass with a
        # lower floor, since its boxes are masked on their own frame only and the frames after
        # (docs/tuning.md#every-frame-look).
        "look": ProfileConfig(
            detectors=(CenterFaceConfig(scale=2.0, max_side=1280, min_score=0.07),)
        ),
        # Recall first: CenterFace at full and double size, plus a 3x pass for the
        # tiniest faces of low-resolution frames (long side up to 682 px), text at
        # up to 1280 px, and two text models at the frame's own size for small plates.
        # No classical localiser: it adds masked area, not plates.
        "thorough": ProfileConfig(detectors=thorough),
        # The former opt-in name for the second small-plate pass, now thorough's own: kept so
        # configurations that chose it still load.
        "thorough_small_plates": ProfileConfig(detectors=thorough),
        # Live streams' still ground (live.sweep): thorough with face floors at 0.7 of its own,
        # and 0.6 of those again for small faces (small_px), thorough's own for large ones
        # (large_px). A small box on still ground costs little to mask, and a detector at its floor
        # finds a small face on some frames only (see docs/tuning.md#sweep-profile).
        "sweep": ProfileConfig(
            detectors=(
                CenterFaceConfig(
                    scale=1.0,
                    min_score=0.1,
                    small_px=32,
                    small_min_score=0.06,
                    large_px=96,
                    large_min_score=0.15,
                ),
                CenterFaceConfig(
                    scale=2.0,
                    max_side=3840,
                    min_score=0.07,
                    small_px=32,
                    small_min_score=0.042,
                    large_px=96,
                    large_min_score=0.1,
                ),
                CenterFaceConfig(
                    scale=3.0,
                    max_side=2048,
                    min_scale=2.5,
                    max_face_px=24,
                    min_score=0.07,
                    small_px=32,
                    small_min_score=0.042,
                ),
                *TEXT_PASSES,
            )
        ),
    }


class DetectConfig(Strict):
    profiles: dict[str, ProfileConfig] = Field(default_factory=_default_profiles)
    threads: int = Field(1, ge=1, le=64, description="threads each detector runtime may use")
    nice: int = Field(
        10,
        ge=0,
        le=19,
        description="niceness added to detection threads, so the frame path runs first; 0 = same priority",
    )
    # onnxruntime's first run of a size is several times slower, and a new stream waits fully
    # masked for its first sweep: paid once at start instead (see docs/detection.md#warm-up).
    warmup_size: tuple[int, int] = Field(
        (1920, 1080),
        description="px (width, height) of a blank frame every used profile detects once at start; (0, 0) = none",
    )

    @model_validator(mode="after")
    def _warmup_size(self) -> DetectConfig:
        w, h = self.warmup_size
        if (w, h) != (0, 0) and not (16 <= w <= 8192 and 16 <= h <= 8192):
            raise ValueError(f"warmup_size must be (0, 0) or 16..8192 px each way, got {w}x{h}")
        return self


# ---------------------------------------------------------------- masking policy

Style = Literal["pixelate", "blur", "strong_blur", "fill"]
ClassName = Literal["face", "plate", "person"]


class ZoneConfig(Strict):
    camera_id: str = Field(description="camera the zone belongs to")
    polygon: tuple[tuple[int, int], ...] = Field(min_length=3, description="vertices x,y in px")


class PolicyConfig(Strict):
    classes: tuple[ClassName, ...] = Field(("face", "plate"), description="what is masked")
    style: Style = Field("pixelate", description="how a region is masked")
    # 2 blocks across a face's long side: below 3 a detector finds the head around the
    # mask, not the face (see docs/masks.md#why-strength-2).
    strength: float = Field(
        2.0,
        gt=0.0,
        le=64.0,
        description="pixelate: blocks across a box's long side; blur: radius = long side / strength",
    )
    ellipse: bool = Field(
        False, description="mask an ellipse inscribed in each box instead of the box"
    )
    enlarge: float = Field(
        1.3, ge=1.0, le=3.0, description="boxes grown by this factor before masking"
    )
    profile: str = Field("realtime", description="detection profile (detect.profiles)")
    live_profile: str = Field(
        "",
        description="detection profile of live streams' whole frames (tracked, beside the "
        "motion look and the sweeps); empty = `profile`",
    )
    on_overload: Literal["drop", "mask"] = Field(
        "mask", description="when behind: drop frames, or send them fully masked"
    )
    hold_s: float = Field(
        1.0, ge=0.0, le=30.0, description="seconds a tracked mask stays after the detector loses it"
    )
    # Fixed cameras: walkers' heads are along the upper outline of their moving blob, masked
    # on every frame without waiting for a detector; the body below stays visible
    # (coverage against masked area: docs/tuning.md#motion-cover).
    motion_mask: Literal["outline", "box"] = Field(
        "outline",
        description="live: moving blobs masked along their upper outline, in head-wide strips "
        "(outline; with motion_cover 1, the silhouette), or as the top of each blob's box (box)",
    )
    motion_cover: float = Field(
        0.35,
        ge=0.0,
        le=1.0,
        description="live: how far down each moving blob is masked, as a share of its height; 0 = off",
    )
    motion_cover_looked: float = Field(
        0.2,
        ge=0.0,
        le=1.0,
        description="live: motion_cover on frames whose own look at their moving regions is "
        "done (live.look): the band only covers what the look may miss at its floor; a "
        "policy masking silhouettes (motion_cover 1) keeps them",
    )
    # A small walker's face is a few px, near the look's floor; a face the look is unsure
    # of may be a hat or a bag beside a turned head (see docs/tuning.md#every-frame-look).
    motion_looked_max_px: float = Field(
        64.0,
        ge=0.0,
        le=4096.0,
        description="live: on frames whose own look is done, a walker taller than this (px at "
        "the look's detail, motion.region_width) has no band strip where the look found a "
        "face (motion_looked_min_score); 0 = every walker keeps its band",
    )
    motion_looked_min_score: float = Field(
        0.2,
        ge=0.0,
        le=1.0,
        description="live: ... a face the look found at this score or more",
    )
    face_track_margin: float = Field(
        1.0,
        ge=0.0,
        le=1.0,
        description="live: a held face's mask widens by at most this many box sizes per side "
        "for what its track does not know of its path (1 = as a plate's); the motion band "
        "covers moving heads, see docs/tuning.md#face-track-margin",
    )
    face_track_margin_looked: float = Field(
        0.25,
        ge=0.0,
        le=1.0,
        description="live: face_track_margin on frames whose own look at their moving regions "
        "is done (live.look), which masks each face found where it is on that frame",
    )
    fill_color: tuple[int, int, int] = Field(
        (0, 0, 0), description="BGR colour for style=fill and full-frame masks"
    )
    release_unreviewed: bool = Field(
        False,
        description="exports: released without a person's review whatever export.review.required "
        "says, except subject access (the manifest says so)",
    )

    @property
    def stream_profile(self) -> str:
        """The profile a live stream's whole frames are detected with."""
        return self.live_profile or self.profile


def _default_policies() -> dict[str, PolicyConfig]:
    return {
        # Unknown recipients get this one: everything masked, strongly.
        "strict": PolicyConfig(
            classes=("face", "plate", "person"),
            strength=2.0,
            enlarge=1.4,
            motion_cover=1.0,
            live_profile="live",
        ),
        "default": PolicyConfig(live_profile="live"),
        "police-wanted-vehicle": PolicyConfig(classes=("face",), live_profile="live"),
        "export": PolicyConfig(profile="thorough"),
    }


class RouteConfig(Strict):
    recipient: str = Field(description="agency, e.g. 'police-112'")
    service: str = Field("", description="service within the agency; empty matches any")
    policy: str = Field(description="policy name")


class PolicyRouting(Strict):
    policies: dict[str, PolicyConfig] = Field(default_factory=_default_policies)
    routes: tuple[RouteConfig, ...] = Field(
        (
            RouteConfig(
                recipient="police-112", service="wanted-vehicle", policy="police-wanted-vehicle"
            ),
            RouteConfig(recipient="police-112", policy="default"),
            RouteConfig(recipient="fire-119", policy="default"),
        ),
    )
    default_policy: str = Field("default", description="policy for single-image calls without one")
    unknown_recipient_policy: str = Field(
        "strict", description="policy for recipients with no route"
    )
    zones: tuple[ZoneConfig, ...] = Field((), description="static privacy zones, always masked")

    @model_validator(mode="after")
    def _names_exist(self) -> PolicyRouting:
        names = set(self.policies)
        for ref in [
            self.default_policy,
            self.unknown_recipient_policy,
            *(r.policy for r in self.routes),
        ]:
            if ref not in names:
                raise ValueError(f"policy {ref!r} is not defined; defined: {sorted(names)}")
        return self


# ---------------------------------------------------------------- live streams


class MotionConfig(Strict):
    enabled: bool = Field(True, description="look closer where a fixed camera's picture moves")
    profile: str = Field("roi", description="detection profile run on each moving region's crop")
    work_width: int = Field(
        480, ge=64, le=4096, description="width the background model works at, px"
    )
    # MOG2 takes in what stops moving after about a tenth of its history (see docs/tuning.md#motion).
    history: int = Field(300, ge=2, le=10000, description="background model memory, in frames")
    var_threshold: float = Field(
        16.0, gt=0.0, le=1000.0, description="MOG2 variance threshold (higher = less motion)"
    )
    warmup_frames: int = Field(5, ge=1, le=1000, description="frames before what moves is trusted")
    min_blob_px: int = Field(
        60, ge=1, le=1_000_000, description="smallest moving blob kept, full-resolution px^2"
    )
    margin: float = Field(
        0.4, ge=0.0, le=4.0, description="region grown by this share of its size on each side"
    )
    margin_px: int = Field(
        24, ge=0, le=1024, description="... and by at least this many full-resolution px"
    )
    max_moving_share: float = Field(
        0.4,
        gt=0.0,
        le=1.0,
        description="above this moving share of the frame the picture changed as a whole "
        "(a light, the camera): nothing is known to move (but see near_level)",
    )
    # An exposure creeping as someone walks up to the camera moves the whole picture for the
    # model by a few levels; a light or the camera moves its brightness as a whole
    # (see docs/tuning.md#motion).
    near_level: float = Field(
        32.0,
        ge=0.0,
        le=255.0,
        description="over max_moving_share, while the picture's median brightness stays within "
        "near_max_shift of the learnt background: what differs from it by more than this "
        "(0-255, in some colour) moves, if at most max_moving_share; 0 = never",
    )
    near_max_shift: float = Field(
        8.0, ge=0.0, le=255.0, description="... levels (0-255) of the median brightness shift"
    )
    max_regions: int = Field(
        12, ge=1, le=256, description="largest regions looked at per detection"
    )
    # A blob's box is tight: a head at its edge, or a blob cut in parts, needs more
    # (see docs/tuning.md#motion).
    mask_margin: float = Field(
        0.1,
        ge=0.0,
        le=2.0,
        description="moving-blob masks (policy motion_cover) grown on each side by this share "
        "of the blob's width (box) or of an outline strip's width (outline)",
    )
    mask_margin_px: float = Field(
        3.0, ge=0.0, le=256.0, description="... and by at least this many full-resolution px"
    )
    # The roi profile doubles its crops for the small faces of 576p-class cameras; a 1080p
    # frame's faces are already twice that size (see docs/tuning.md#motion).
    region_width: int = Field(
        960,
        ge=0,
        le=16384,
        description="px: crops of wider frames are shrunk to this frame width's detail first; 0 = never",
    )
    # A region's cost grows with its area; where people fill many pixels their faces are
    # larger too, so crops are shrunk together to fit (see docs/tuning.md#motion).
    max_region_px: int = Field(
        150_000,
        ge=0,
        le=1 << 26,
        description="px: all regions of a detection together at most this many, shrunk by one factor; 0 = no cap",
    )


class SweepConfig(Strict):
    """A slow, thorough look at the whole picture (pipeline/sweep.py): what a fixed camera
    sees that does not move (a person standing, a parked car's plate, a poster's face)
    stays masked from it while the picture there stays still."""

    enabled: bool = Field(True, description="sweep live streams' still ground now and then")
    profile: str = Field(
        "sweep", description="detection profile of the sweep (thorough, lower floors)"
    )
    interval_s: float = Field(
        2.0, gt=0.0, le=3600.0, description="video seconds between a stream's sweeps, at least"
    )
    # A detector at its floor finds a small still face on some sweeps and not on others, so a
    # box is held while its picture stays as it was, whatever `keep` sweeps find (see
    # docs/tuning.md#sweep).
    keep: int = Field(
        4,
        ge=1,
        le=100,
        description="sweeps after the newest that found it a still box is held for, "
        "while its picture stays as it was, before hold_s applies",
    )
    hold_s: float = Field(
        120.0,
        gt=0.0,
        le=86400.0,
        description="video seconds a still box stays at most after the newest sweep that found it",
    )
    changed_level: float = Field(
        24.0,
        gt=0.0,
        le=255.0,
        description="past `keep`, a still box goes once its picture, nothing moving over it, differs more (mean abs, 0-255)",
    )
    max_held: int = Field(
        256, ge=1, le=100_000, description="still boxes held per stream at most (oldest go)"
    )
    # The relay hub opens a camera again and again (a reconnect, a second recipient): its next
    # stream starts from what the last one swept (see docs/live.md#a-cameras-next-stream).
    remember_s: float = Field(
        600.0,
        ge=0.0,
        le=86400.0,
        description="seconds a stream's still ground (held boxes, the swept picture, as of its "
        "newest sweep) is kept for the camera's next stream of the same size; 0 = never",
    )
    remember_mb: float = Field(
        256.0,
        gt=0.0,
        le=1_000_000.0,
        description="MB of kept pictures at most, the least recently kept going first (a 1080p "
        "camera's takes about 6 MB, a 4K one's 25)",
    )
    remember_level: float = Field(
        32.0,
        gt=0.0,
        le=255.0,
        description="on a camera's next stream, a start cell shows while at most a few of its "
        "pixels differ from the remembered picture by more than this in a colour (0-255)",
    )
    # A small face's box at the sweep's floor is a few px off the thorough one's, by a share
    # of its own size (see docs/tuning.md#sweep).
    min_box_px: float = Field(
        24.0,
        ge=0.0,
        le=1024.0,
        description="px: still boxes grown about their centre to at least this each way "
        "(min_box_times at most), before enlarge; 0 = as found",
    )
    min_box_times: float = Field(
        2.0,
        ge=1.0,
        description="a still box's side grows to min_box_px, at most this many times its own "
        "length (1 = as found; a large value grows every box to min_box_px)",
    )
    max_moving_share: float = Field(
        0.2,
        ge=0.0,
        le=1.0,
        description="a swept box is still, and held, when at most this share of it moved on its frame",
    )
    # One sweep thread for the whole server, taking only what the frame path and live
    # detection leave; a stream's first sweep does not wait its turn (see docs/tuning.md#sweep).
    nice: int = Field(19, ge=0, le=19, description="niceness added to the sweep's thread")
    first_nice: int = Field(
        14,
        ge=0,
        le=19,
        description="niceness of a stream's first sweep (between detect.nice and nice)",
    )
    # Until a stream's first sweeps are done, what stands still where the live detector
    # cannot see it is known to nobody, and one sweep misses what the next finds
    # (see docs/tuning.md#sweep).
    first_sweeps: int = Field(
        2,
        ge=1,
        le=10,
        description="sweeps of a stream's start, one after the other, before its still "
        "ground is known (what one sweep misses, the next may find)",
    )
    # The start's second sweep is there for what text at its floor reads on one frame and
    # misses on the next (litter, a sign); the faces' passes are most of a sweep, and the
    # still ground waits for them (see docs/tuning.md#sweep-profile).
    start_again: Literal["text", "whole"] = Field(
        "text",
        description="a stream's start sweeps after its first (first_sweeps): the profile's "
        "text and plate passes alone, or the whole profile",
    )
    wait_first: bool = Field(
        True,
        description="a stream's still ground goes out masked (first_mosaic_blocks) until its "
        "first_sweeps sweeps are done",
    )
    # A block this coarse leaves nothing of a small face or plate, and the first detection's
    # boxes are masked on top at the policy's strength: the picture shows from the first
    # detection on, not after the first sweep (see docs/live.md#a-streams-start).
    first_mosaic_blocks: int = Field(
        24,
        ge=0,
        le=256,
        description="wait_first: until then, frames go out under a mosaic of this many blocks "
        "across the frame's long side, detections masked on top, instead of black; 0 = black",
    )
    # What moves is not the still ground the first sweep has yet to see: under the start's
    # mosaic its cells go out masked as moving ground is, band and detections, so the
    # recipient sees people move from the first frames (see docs/live.md#a-streams-start).
    first_moving_share: float = Field(
        0.1,
        ge=0.0,
        le=1.0,
        description="under the start's coarse mosaic, a cell of half a block shows, masked as "
        "moving ground, where at least this share of it moved (below the band); 0 = none",
    )
    # On two logical CPUs of one core, a thread at any priority slows the other.
    busy_share: float = Field(
        0.1,
        gt=0.0,
        le=1.0,
        description="share of the time the sweep thread may be busy (it rests after each sweep)",
    )


class LookConfig(Strict):
    """Every frame's own look at where it moved (pipeline/look.py): the frame waits for it
    (limits.detection_wait_share of its budget) and is masked from its boxes, so a walker's
    face is masked where it is on that frame, not where a track predicts it; the motion band
    then only covers what the look may miss."""

    enabled: bool = Field(
        True, description="look at each frame's moving regions before it goes out"
    )
    profile: str = Field("look", description="detection profile run on the moving regions' crops")
    # A face the look finds at its floor on one frame may fall under it on the next
    # (docs/tuning.md#every-frame-look).
    memory: int = Field(
        3, ge=1, le=100, description="frames whose looks' boxes are masked together (1 = own only)"
    )
    grow: float = Field(
        1.25,
        ge=1.0,
        le=4.0,
        description="looks' boxes grown by this about their centres before the policy's enlarge",
    )
    min_box_px: float = Field(
        10.0,
        ge=0.0,
        le=1024.0,
        description="px: looks' boxes grown about their centre to at least this each way, "
        "after grow, before the policy's enlargement; 0 = as grown",
    )
    threads: int = Field(
        2, ge=1, le=64, description="crops of one look detected at once (one thread each)"
    )
    # Heads are at the top of walkers' blobs, where the band masks; a look there costs a
    # third of the whole regions' (see docs/tuning.md#head-looks).
    head_depth: float = Field(
        0.5,
        ge=0.0,
        le=1.0,
        description="where a look at the whole moving regions would not be done in time, "
        "it crops only this share of each blob's height from its upper outline down; "
        "0 or 1 = whole regions always",
    )
    # Where looks take longer than a frame may wait (a large frame at a high rate on few
    # cores), the stream detects as without them and looks now and then to see if they fit.
    probe_s: float = Field(
        2.0,
        gt=0.0,
        le=3600.0,
        description="video seconds between looks while looks take longer than a frame may wait",
    )
    # Frames wait for their look, not for the tracked detections: the look goes first.
    nice: int = Field(
        5, ge=0, le=19, description="niceness added to the look's thread (below detect.nice)"
    )


class LiveConfig(Strict):
    motion: MotionConfig = Field(default_factory=MotionConfig)
    look: LookConfig = Field(default_factory=LookConfig)
    sweep: SweepConfig = Field(default_factory=SweepConfig)
    # The encoder is the frame path's largest cost; superfast on one thread leaves detection
    # more CPU than veryfast (see docs/tuning.md#encoder).
    encoder_preset: Literal["ultrafast", "superfast", "veryfast", "faster", "fast", "medium"] = (
        Field(
            "superfast",
            description="libx264 speed preset of the streams' answers (zerolatency tuning always)",
        )
    )
    encoder_threads: int = Field(
        1,
        ge=0,
        le=64,
        description="threads each stream's encoder may use; 0 = x264's own choice",
    )
    encoder_crf: int = Field(
        23, ge=0, le=51, description="libx264 constant rate factor of the streams' answers"
    )


# ---------------------------------------------------------------- service


class Limits(Strict):
    max_message_bytes: int = Field(
        32 << 20, ge=1 << 16, le=1 << 30, description="largest gRPC message, bytes"
    )
    max_width: int = Field(7680, ge=16, le=16384, description="widest frame accepted, px")
    max_height: int = Field(4320, ge=16, le=16384, description="tallest frame accepted, px")
    max_streams_per_caller: int = Field(
        16, ge=1, le=1024, description="concurrent live streams per caller"
    )
    stream_queue_frames: int = Field(
        8, ge=1, le=1024, description="frames queued per stream before overload"
    )
    latency_budget_ms: int = Field(
        500, ge=10, le=60000, description="default per-frame latency budget, ms"
    )
    detect_interval_ms: int = Field(
        500,
        ge=0,
        le=10000,
        description="live: ms of video after the last detected frame when a frame is detected even if busy",
    )
    # A large frame's detection can take longer than a relay's latency budget: rather than wait it
    # out, a frame goes out masked from the tracks, which the detection moves once done.
    detection_wait_share: float = Field(
        0.5,
        gt=0.0,
        le=1.0,
        description="live: share of the latency budget a frame waits for its own detection; 1 = all of it",
    )
    max_detection_age_ms: int = Field(
        1000,
        ge=10,
        le=60000,
        description="live frames masked from detections older than this are fully masked instead, ms",
    )
    max_streams: int = Field(
        12,
        ge=1,
        le=1024,
        description="concurrent live streams, all callers together (below server.workers)",
    )
    detect_timeout_ms: int = Field(
        10000,
        ge=10,
        le=600000,
        description="single images: ms after which detection is abandoned and the image fully masked",
    )
    stream_idle_s: float = Field(
        60.0,
        gt=0.0,
        le=3600.0,
        description="a live stream that sends no message for this long is ended, s",
    )
    # Admission by capacity (docs/scaling.md): a stream is charged width x height x fps from its
    # header; a header without them is charged as a 1080p 25 fps camera.
    capacity_mpx_s: float = Field(
        0.0,
        ge=0.0,
        le=100_000.0,
        description="live video this server redacts within its latency budget, megapixels per "
        "second (`python -m bench.capacity` measures it); streams beyond it are refused; "
        "0 = admit by max_streams only",
    )
    stream_overhead_mpx_s: float = Field(
        0.0,
        ge=0.0,
        le=1000.0,
        description="charged to every stream on top of its pixel rate: the per-frame work "
        "that does not grow with pixels (bench.capacity fits it with capacity_mpx_s)",
    )
    full_below_mpx_s: float = Field(
        9.216,
        ge=0.0,
        description="health says NOT_SERVING while less than this is free (9.216 = one "
        "1280x720 10 fps camera)",
    )


class ServerConfig(Strict):
    """Where and how the service listens.

    Any address but loopback needs TLS (tls_cert and tls_key) and auth.required,
    and may not keep the embedded dev tokens: create_server refuses to start
    otherwise. Setting tls_client_ca turns on mutual TLS, the production setting:
    every caller must present a certificate issued by that CA, and its role comes
    from the certificate (see AuthConfig.cert_roles and redactor/server/auth.py).
    """

    address: str = Field("127.0.0.1:50051", description="host:port to listen on")
    workers: int = Field(16, ge=2, le=1024, description="gRPC handler threads")
    grace_s: float = Field(
        5.0, ge=0.0, le=600.0, description="seconds in-flight calls get at shutdown"
    )
    drain_s: float = Field(
        20.0,
        ge=0.0,
        le=3600.0,
        description="on SIGTERM: seconds live streams get to move to another server (their "
        "relays are told at once) before the server stops",
    )
    metrics_port: int = Field(0, ge=0, le=65535, description="Prometheus port; 0 = off")
    metrics_host: str = Field(
        "127.0.0.1",
        min_length=1,
        description="address the Prometheus endpoint listens on; 0.0.0.0 in a pod, so it can "
        "be scraped (metrics are counts and times, never pixels, names or tokens)",
    )
    tls_cert: Path | None = Field(
        None, description="PEM certificate chain the server presents; None = no TLS"
    )
    tls_key: Path | None = Field(None, description="PEM private key of tls_cert")
    tls_client_ca: Path | None = Field(
        None, description="PEM CA that client certificates must chain to; set = mutual TLS"
    )

    @model_validator(mode="after")
    def _tls_complete(self) -> ServerConfig:
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ValueError("server.tls_cert and server.tls_key go together; got only one of them")
        if self.tls_client_ca is not None and self.tls_cert is None:
            raise ValueError(
                "server.tls_client_ca (mutual TLS) needs server.tls_cert and server.tls_key"
            )
        return self


Role = Literal["relay", "auditor", "operator"]
# The embedded loopback tokens: public, so never accepted on a non-loopback listener.
DEV_TOKENS: dict[Role, str] = {
    "relay": "relay-dev-token",
    "auditor": "auditor-dev-token",
    "operator": "operator-dev-token",
}


class AuthConfig(Strict):
    """Who may call. Roles: relay (live streams), operator (streams, reading exports),
    auditor (exports). A caller's role comes from its client certificate on a
    mutual-TLS connection, else from its bearer token."""

    # Embedded default for loopback only; production uses mutual TLS.
    tokens: dict[Role, Annotated[str, Field(min_length=8)]] = Field(
        default_factory=lambda: dict(DEV_TOKENS),
        description="bearer token per role, sent as 'authorization: Bearer <token>' (at least 8 characters)",
    )
    required: bool = Field(
        False, description="reject calls without valid credentials (always on off loopback)"
    )
    cert_roles: dict[str, Role] = Field(
        default_factory=dict,
        description="mutual TLS: certificate CN → role; other CNs take the role their single OU names",
    )

    @model_validator(mode="after")
    def _tokens_distinct(self) -> AuthConfig:
        if len(set(self.tokens.values())) != len(self.tokens):
            raise ValueError("auth.tokens must differ between roles (a token names its role)")
        return self


class ClusterConfig(Strict):
    """A Dask cluster that runs exports' segment tasks (docs/cluster.md); none by default."""

    scheduler: str = Field(
        "", description="Dask scheduler address, e.g. tcp://10.0.0.5:8786; empty = in process"
    )
    connect_timeout_s: float = Field(
        10.0, gt=0.0, le=600.0, description="seconds to reach the scheduler at start-up"
    )
    retries: int = Field(
        1,
        ge=0,
        le=10,
        description="times a task that raised runs again (a lost worker's always do)",
    )
    task_timeout_s: float = Field(
        600.0,
        gt=0.0,
        le=86400.0,
        description="seconds an export waits for any segment task to finish before it fails",
    )
    task_cores: int = Field(
        1,
        ge=1,
        le=64,
        description="cores one segment task uses on a worker (its detectors one after another, "
        "decoding, masks and encoding on this many threads): 1 for workers of one thread each",
    )


def _fast_motion() -> MotionConfig:
    # Crops at full detail, as thorough's doubled pass sees them; a person standing still moves
    # in parts, so each part is looked at with its surroundings (see docs/exports.md#fast).
    return MotionConfig(region_width=0, max_region_px=400_000, margin_px=128)


class ObjectsConfig(Strict):
    """Per-object masks (redactor/export/objects.py): each object's mask follows its own
    box, interpolated between its detections and carried a few frames past its ends."""

    max_gap_s: float = Field(
        2.0,
        ge=0.0,
        le=60.0,
        description="an object's mask is interpolated between two of its detections at most this far apart",
    )
    pad_frames: int = Field(
        3,
        ge=0,
        le=1000,
        description="frames an object moving in is masked before its first and after its last detection",
    )
    margin_per_frame: float = Field(
        0.1,
        ge=0.0,
        le=1.0,
        description="an interpolated or padded box grows by this share of its size per frame "
        "from the nearest detection",
    )
    max_margin: float = Field(
        0.5, ge=0.0, le=4.0, description="... and by at most this share on each side"
    )
    # On every frame, the tracker's own gate (see docs/exports.md#plans-exhaustive-and-fast).
    link_gate: float = Field(
        1.5,
        ge=0.0,
        le=100.0,
        description="detections on two looked-at frames are one object within this many box "
        "sizes (track.centre_gate of the linking tracker)",
    )
    min_box_px: float = Field(
        16.0,
        ge=0.0,
        le=1024.0,
        description="px: every planned box grown about its centre to at least this each way; 0 = as found",
    )


class FastPlanConfig(ObjectsConfig):
    """The `fast` export plan (redactor/export/fast.py, objects.py): a fixed camera's still
    ground swept now and then, what moves looked at closer every few frames, and each
    object's mask following its own box between its detections."""

    # A small face far away is found on some frames only; a look that skips frames misses
    # the detections that bound its gaps (see docs/exports.md#fast).
    step: int = Field(
        1, ge=1, le=100, description="frames between looks at the moving regions (1 = every frame)"
    )
    # Something still that the profile finds for a fraction of a second (a face at its
    # floor, text on paint) is found only if a sweep lands on it (see docs/exports.md#fast).
    sweep_s: float = Field(
        0.5,
        gt=0.0,
        le=600.0,
        description="video seconds between sweeps of the whole frame (the policy's profile); "
        "every segment starts with one",
    )
    # The reference of privacy is the policy's profile on every frame. Windows of its own
    # network inputs find what it finds there; crops of the frame miss small faces, since a
    # face lands on other pixels of the network's grid (see docs/exports.md#windows).
    looks: Literal["windows", "crops"] = Field(
        "windows",
        description="how moving regions are looked at: windows (the policy's profile, faces "
        "on windows of their whole-frame network inputs, text on the whole frame) or crops "
        "(region_profile on crops)",
    )
    region_profile: str = Field(
        "thorough", description="detection profile run on the moving regions' crops (looks: crops)"
    )
    motion: MotionConfig = Field(default_factory=_fast_motion)
    recent_s: float = Field(
        6.0,
        ge=0.0,
        le=600.0,
        description="video seconds what a look found is looked at again on later looks",
    )
    recent_margin: float = Field(
        3.0,
        ge=0.0,
        le=10.0,
        description="... grown by this share of its size on each side",
    )
    preroll_s: float = Field(
        2.0,
        ge=0.0,
        le=60.0,
        description="video seconds decoded before a segment so its background model has learned",
    )
    # Moving regions are looked at on every frame, so objects are linked and padded as in the
    # exhaustive plan: the tracker's own gate (see docs/exports.md#fast).
    pad_frames: int = Field(
        2,
        ge=0,
        le=1000,
        description="frames an object moving in is masked before its first and after its last detection",
    )


class ExhaustivePlanConfig(ObjectsConfig):
    """The `exhaustive` export plan's masks: the policy's profile runs on every frame."""

    # Per object, the area stays near what the detections need; held masks cover what a
    # detector misses at the ends of a track, at several times that area (docs/exports.md).
    masks: Literal["objects", "held"] = Field(
        "objects",
        description="objects: each object's own box, interpolated between its detections "
        "(this block's settings); held: every mask held export.lookahead_s before and after, "
        "with growing margins",
    )
    # Every frame detected: a face is found a frame or two late at most, and each padded
    # frame costs area on every short track (docs/exports.md#plans-exhaustive-and-fast).
    pad_frames: int = Field(
        2,
        ge=0,
        le=1000,
        description="frames an object is masked before its first and after its last detection",
    )


ConsoleRole = Literal["requester", "reviewer", "approver", "auditor", "administrator"]


class ReviewConfig(Strict):
    """Human review between planning and release (docs/review.md)."""

    # The embedded default: every export to a recipient outside the center, and every
    # subject-access export, waits for a reviewer and a second person's approval.
    required: Literal["always", "external_or_subject", "never"] = Field(
        "external_or_subject",
        description="always; external_or_subject (recipients not in internal_recipients, and "
        "every subject-access export); never (released unreviewed, the manifest says so)",
    )
    internal_recipients: tuple[str, ...] = Field(
        (), description="recipients inside the center, whose exports need no review by default"
    )
    proxy_width: int = Field(
        640, ge=64, le=1920, description="px: width of the review proxy's frames (JPEG)"
    )
    proxy_quality: int = Field(75, ge=10, le=100, description="JPEG quality of the review proxy")
    follow_s: float = Field(
        10.0,
        gt=0.0,
        le=600.0,
        description="video seconds a reviewer's box is followed before its first and after its "
        "last keyframe",
    )


class ConsoleConfig(Strict):
    """The review console: a web application beside the gRPC port (redactor/console)."""

    enabled: bool = Field(True, description="serve the console with `redactor serve`")
    address: str = Field("127.0.0.1:8080", description="host:port of the console")
    users_path: Path | None = Field(
        None,
        description="SQLite file of console accounts and sessions; None = users.sqlite beside "
        "export.ledger_path",
    )
    session_ttl_s: float = Field(
        8 * 3600.0, gt=0.0, le=7 * 86400.0, description="seconds a login lasts"
    )
    min_password_chars: int = Field(12, ge=8, le=1024, description="shortest password accepted")
    max_failed_logins: int = Field(
        10, ge=1, le=1000, description="wrong passwords for one name before it is locked out"
    )
    lockout_s: float = Field(
        900.0, gt=0.0, le=86400.0, description="... within these seconds, and for as long"
    )


class ExportConfig(Strict):
    # Archive layout: <archive_root>/<camera_id>/<YYYYmmddTHHMMSS>.<ext>, one file per
    # recording, named by its start time in UTC (see redactor/export/archive.py).
    archive_root: Path = Field(Path("var/archive"), description="recordings, one folder per camera")
    output_dir: Path = Field(Path("var/exports"), description="where redacted exports are written")
    ledger_path: Path = Field(
        Path("var/ledger.sqlite"), description="SQLite provision ledger (also holds the job table)"
    )
    key_path: Path = Field(
        Path("var/signing_key.pem"), description="Ed25519 signing key (made if absent)"
    )
    expiry_days: int = Field(30, ge=1, le=3650, description="default days before an export expires")
    max_expiry_days: int = Field(
        365, ge=1, le=3650, description="longest expiry a request may ask for, days"
    )
    default_policy: str = Field(
        "export", description="masking policy when a request names none (policy.policies)"
    )
    # The fast plan does not yet reach the exhaustive plan's privacy on every clip
    # (docs/exports.md#fast); until it does, it is asked for, not assumed.
    plan: Literal["fast", "exhaustive"] = Field(
        "exhaustive",
        description="exhaustive: the policy's profile on every frame (export.exhaustive); "
        "fast: sweeps, moving regions and per-object masks (export.fast)",
    )
    fast: FastPlanConfig = Field(default_factory=FastPlanConfig)
    exhaustive: ExhaustivePlanConfig = Field(default_factory=ExhaustivePlanConfig)
    lookahead_s: float = Field(
        2.0,
        ge=0.0,
        le=60.0,
        description="exhaustive plan with held masks: seconds a mask extends before an "
        "object's first and after its last detection",
    )
    subject_overlap: float = Field(
        0.5,
        gt=0.0,
        le=1.0,
        description="share of a face box inside a subject-access box for that face to be the subject",
    )
    crf: int = Field(18, ge=0, le=51, description="libx264 constant rate factor (lower = better)")
    preset: Literal["ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow"] = (
        Field("veryfast", description="libx264 speed preset")
    )
    encoder_threads: int = Field(2, ge=1, le=64, description="threads libx264 may use")
    workers: int = Field(1, ge=1, le=16, description="exports run at the same time")
    segment_s: float = Field(
        10.0,
        gt=0.0,
        le=3600.0,
        description="seconds per segment at least (cut at the next keyframe); segments run in parallel",
    )
    threads: int = Field(
        2, ge=1, le=64, description="segments processed at once in this process (no cluster)"
    )
    cluster: ClusterConfig = Field(default_factory=ClusterConfig)
    chunk_bytes: int = Field(
        1 << 20, ge=1 << 12, le=16 << 20, description="DownloadExport chunk size, bytes"
    )
    expiry_period_s: float = Field(
        60.0, gt=0.0, le=86400.0, description="seconds between checks that delete expired exports"
    )
    review: ReviewConfig = Field(default_factory=ReviewConfig)


class CasesConfig(Strict):
    """Provision and access requests, their clocks and notices (redactor/cases, docs/cases.md)."""

    access_due_days: int = Field(
        10,
        ge=1,
        le=10,
        description="days to answer a data subject's access request (PIPA: within 10 days)",
    )
    provision_due_days: int = Field(
        10, ge=1, le=90, description="days the center gives itself to answer an agency's request"
    )
    center_name: str = Field(
        "CCTV integrated control center",
        min_length=1,
        max_length=200,
        description="who answers, as printed on notices",
    )
    currency: str = Field("KRW", min_length=3, max_length=3, description="currency of fees")
    max_fee: int = Field(
        10_000_000, ge=0, description="largest fee a case may charge, in the currency's units"
    )


class RetentionGroup(Strict):
    """Cameras kept for their own period (the center's published policy)."""

    name: str = Field(min_length=1, max_length=64, description="shown in listings and rows")
    cameras: tuple[str, ...] = Field(
        min_length=1, description="camera ids or shell patterns (fnmatch), e.g. 'gate-*'"
    )
    days: int = Field(ge=1, description="days a recording is kept after it ends")


class RetentionConfig(Strict):
    """How long recordings are kept, and their destruction (redactor/retention)."""

    enabled: bool = Field(
        True, description="destroy recordings past retention every period_s with `redactor serve`"
    )
    default_days: int = Field(
        30, ge=1, description="days a recording is kept where no group names its camera"
    )
    min_days: int = Field(1, ge=1, description="shortest retention a group may state")
    max_days: int = Field(
        90, ge=1, le=3650, description="longest retention a group may state (the published policy)"
    )
    groups: tuple[RetentionGroup, ...] = Field((), description="per camera group; first match wins")
    period_s: float = Field(
        3600.0, gt=0.0, le=7 * 86400.0, description="seconds between retention cycles"
    )

    @model_validator(mode="after")
    def _within_bounds(self) -> RetentionConfig:
        if self.min_days > self.max_days:
            raise ValueError(
                f"retention.min_days ({self.min_days}) is above max_days ({self.max_days})"
            )
        stated = [("retention.default_days", self.default_days)] + [
            (f"retention group {g.name!r} days", g.days) for g in self.groups
        ]
        for what, days in stated:
            if not self.min_days <= days <= self.max_days:
                raise ValueError(
                    f"{what} is {days}, outside the bounds [{self.min_days}, {self.max_days}] "
                    "(retention.min_days, retention.max_days)"
                )
        names = [g.name for g in self.groups]
        if len(set(names)) != len(names):
            raise ValueError(f"retention group names must be unique, got {names}")
        return self


class AccessLogConfig(Strict):
    """Who viewed or downloaded footage (redactor/ledger/access_log.py)."""

    window_s: float = Field(
        60.0,
        gt=0.0,
        le=3600.0,
        description="one ledger row per account, export, action and client per window "
        "(the first view of the window opens it)",
    )
    flag_factor: float = Field(
        3.0, gt=1.0, description="a month's views above this times the accounts' median flag it"
    )
    flag_min_rows: int = Field(
        50, ge=1, description="... and at least this many rows (a quiet month flags nobody)"
    )


class ModelsConfig(Strict):
    dir: Path | None = Field(
        None, description="model cache; None = $REDACTOR_MODEL_DIR or ~/.cache/redactor/models"
    )


class Config(Strict):
    server: ServerConfig = Field(default_factory=ServerConfig)
    limits: Limits = Field(default_factory=Limits)
    auth: AuthConfig = Field(default_factory=AuthConfig)
    detect: DetectConfig = Field(default_factory=DetectConfig)
    policy: PolicyRouting = Field(default_factory=PolicyRouting)
    export: ExportConfig = Field(default_factory=ExportConfig)
    models: ModelsConfig = Field(default_factory=ModelsConfig)
    live: LiveConfig = Field(default_factory=LiveConfig)
    console: ConsoleConfig = Field(default_factory=ConsoleConfig)
    cases: CasesConfig = Field(default_factory=CasesConfig)
    retention: RetentionConfig = Field(default_factory=RetentionConfig)
    access_log: AccessLogConfig = Field(default_factory=AccessLogConfig)

    @property
    def users_path(self) -> Path:
        """The console's accounts file (console.users_path, else beside the ledger)."""
        if self.console.users_path is not None:
            return self.console.users_path
        return self.export.ledger_path.parent / "users.sqlite"

    @model_validator(mode="after")
    def _profiles_exist(self) -> Config:
        if self.live.motion.enabled and self.live.motion.profile not in self.detect.profiles:
            raise ValueError(
                f"live.motion.profile {self.live.motion.profile!r} is not defined; "
                f"defined: {sorted(self.detect.profiles)}"
            )
        look = self.live.look
        if look.enabled and self.live.motion.enabled and look.profile not in self.detect.profiles:
            raise ValueError(
                f"live.look.profile {look.profile!r} is not defined; "
                f"defined: {sorted(self.detect.profiles)}"
            )
        if self.live.sweep.enabled and self.live.sweep.profile not in self.detect.profiles:
            raise ValueError(
                f"live.sweep.profile {self.live.sweep.profile!r} is not defined; "
                f"defined: {sorted(self.detect.profiles)}"
            )
        if self.export.fast.region_profile not in self.detect.profiles:
            raise ValueError(
                f"export.fast.region_profile {self.export.fast.region_profile!r} is not defined; "
                f"defined: {sorted(self.detect.profiles)}"
            )
        for name, pol in self.policy.policies.items():
            for key, profile in (("profile", pol.profile), ("live_profile", pol.live_profile)):
                if profile and profile not in self.detect.profiles:
                    raise ValueError(
                        f"policy {name!r} uses {key.replace('_', ' ')} {profile!r}; "
                        f"defined: {sorted(self.detect.profiles)}"
                    )
        return self


def load_config(path: Path | None = None) -> Config:
    """The embedded defaults, overridden by a TOML file where given."""
    if path is None:
        return Config()
    try:
        data = tomllib.loads(Path(path).read_text())
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise ConfigError(f"cannot read config {path}: {e}") from e
    try:
        return Config.model_validate(data)
    except ValidationError as e:
        raise ConfigError(f"invalid config {path}:\n{e}") from e
