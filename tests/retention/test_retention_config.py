"""Retention periods outside the configuration's bounds are refused, naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from redactor.config import load_config
from redactor.errors import ConfigError


@pytest.mark.parametrize(
    ("toml", "words"),
    [
        (
            '[retention]\nmax_days = 60\n[[retention.groups]]\nname = "gates"\n'
            'cameras = ["gate-*"]\ndays = 90\n',
            "retention group 'gates' days is 90, outside the bounds [1, 60]",
        ),
        ("[retention]\nmin_days = 7\ndefault_days = 3\n", "retention.default_days is 3"),
        ("[retention]\nmin_days = 40\nmax_days = 30\n", "min_days (40) is above max_days (30)"),
        ("[retention]\ndefault_days = 0\n", "default_days"),
        (
            '[[retention.groups]]\nname = "a"\ncameras = ["x"]\ndays = 5\n'
            '[[retention.groups]]\nname = "a"\ncameras = ["y"]\ndays = 6\n',
            "unique",
        ),
    ],
)
def test_a_period_outside_the_bounds_is_a_config_error(
    tmp_path: Path, toml: str, words: str
) -> None:
    path = tmp_path / "redactor.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError, match="retention") as e:
        load_config(path)
    assert words in str(e.value)


def test_groups_within_the_bounds_load(tmp_path: Path) -> None:
    path = tmp_path / "redactor.toml"
    path.write_text(
        '[retention]\ndefault_days = 30\nmax_days = 90\n[[retention.groups]]\nname = "gates"\n'
        'cameras = ["gate-*", "door-1"]\ndays = 90\n'
    )
    groups = load_config(path).retention.groups
    assert [(g.name, g.cameras, g.days) for g in groups] == [("gates", ("gate-*", "door-1"), 90)]
