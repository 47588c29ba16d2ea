"""Fixtures for detector tests: fixed subsets of the shared data's real photos."""

from __future__ import annotations

import pytest

from redactor.data import LabelledImage, load_faces, load_plates


@pytest.fixture(scope="session")
def smoke_faces() -> list[LabelledImage]:
    items = load_faces(smoke=True)
    if not items:
        pytest.skip(
            "shared data not found (faces_smoke/): set REDACTOR_DATA or place it at ../shared/data"
        )
    return items


@pytest.fixture(scope="session")
def plate_sample() -> list[LabelledImage]:
    """A fixed spread of 15 of the labelled plate photos (us, eu, br)."""
    items = load_plates()
    if not items:
        pytest.skip(
            "shared data not found (plates/): set REDACTOR_DATA or place it at ../shared/data"
        )
    return items[::24]
