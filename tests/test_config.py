from __future__ import annotations

from pathlib import Path

import pytest

from redactor.config import (
    CenterFaceConfig,
    Config,
    PlateClassicConfig,
    PlateSsdConfig,
    PlateTextConfig,
    load_config,
)
from redactor.errors import ConfigError


def test_embedded_defaults_are_valid() -> None:
    cfg = Config()
    assert cfg.server.address == "127.0.0.1:50051"
    assert {"realtime", "thorough"} <= set(cfg.detect.profiles)
    assert cfg.policy.unknown_recipient_policy in cfg.policy.policies


@pytest.mark.parametrize(
    ("toml", "words"),
    [
        ("[server]\nadress = '1'\n", ["adress", "Extra inputs are not permitted"]),
        ("[limits]\nmax_width = 0\n", ["max_width", "greater than or equal to 16"]),
        ("[policy]\ndefault_policy = 'nope'\n", ["'nope' is not defined"]),
        ("not toml = = =", ["cannot read config"]),
        ("[detect]\nwarmup_size = [8, 1080]\n", ["warmup_size", "8x1080"]),
        (
            "[policy.policies.default]\nface_track_margin = 2\n",
            ["face_track_margin", "less than or equal to 1"],
        ),
    ],
)
def test_bad_config_names_the_key(tmp_path: Path, toml: str, words: list[str]) -> None:
    p = tmp_path / "c.toml"
    p.write_text(toml)
    with pytest.raises(ConfigError) as e:
        load_config(p)
    for w in words:
        assert w in str(e.value)


def test_override_one_field(tmp_path: Path) -> None:
    p = tmp_path / "c.toml"
    p.write_text("[server]\naddress = '127.0.0.1:6000'\n")
    cfg = load_config(p)
    assert cfg.server.address == "127.0.0.1:6000"
    assert cfg.limits == Config().limits


@pytest.mark.parametrize(
    ("key", "says"),
    [("profile", "uses profile 'missing'"), ("live_profile", "uses live profile 'missing'")],
)
def test_policy_with_unknown_profile_is_refused(key: str, says: str) -> None:
    from pydantic import ValidationError

    data = Config().model_dump()
    data["policy"]["policies"]["default"][key] = "missing"
    with pytest.raises(ValidationError) as e:
        Config.model_validate(data)
    assert says in str(e.value)


def test_an_empty_live_profile_means_the_policys_profile() -> None:
    data = Config().model_dump()
    data["policy"]["policies"]["default"]["live_profile"] = ""
    cfg = Config.model_validate(data)
    assert cfg.policy.policies["default"].stream_profile == "realtime"
    assert "live" in cfg.detect.profiles


SMALL_PLATES_POLICIES = """
[policy.policies.strict]
classes = ["face", "plate", "person"]
strength = 2.0
enlarge = 1.4
motion_cover = 1.0
live_profile = "live"

[policy.policies.default]
live_profile = "live"

[policy.policies.police-wanted-vehicle]
classes = ["face"]
live_profile = "live"

[policy.policies.export]
profile = "thorough_small_plates"
"""


def test_a_configuration_naming_the_former_opt_in_profile_still_loads(tmp_path: Path) -> None:
    """What docs/detection.md#small-plates told operators to write while the second
    small-plate pass was opt-in: it loads, and the other policies stay as they were."""
    p = tmp_path / "c.toml"
    # A configuration that sets policies defines all of them (as docs/detection.md shows).
    p.write_text(SMALL_PLATES_POLICIES)
    cfg = load_config(p)
    assert cfg.policy.policies["export"].profile == "thorough_small_plates"
    assert cfg.detect.profiles["thorough_small_plates"] == cfg.detect.profiles["thorough"]
    for name in ("strict", "default", "police-wanted-vehicle"):
        assert cfg.policy.policies[name] == Config().policy.policies[name], name


def test_a_profiles_plate_passes_alone_are_its_text_and_plate_detectors() -> None:
    """live.sweep.start_again = "text": the start's second reading is the sweep profile's
    text and plate passes, whatever faces it also looks for; a profile without any has none."""
    profiles = Config().detect.profiles
    text = profiles["sweep"].plates_only()
    assert text is not None and text.detectors
    assert all(
        isinstance(d, PlateTextConfig | PlateSsdConfig | PlateClassicConfig) for d in text.detectors
    )
    whole = profiles["sweep"].detectors
    assert [d for d in whole if not isinstance(d, CenterFaceConfig)] == list(text.detectors)
    assert profiles["roi"].plates_only() is None  # faces only
    assert Config().live.sweep.start_again == "text"
