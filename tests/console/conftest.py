"""The console's browser tests: one headless Chromium per module."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from support.console import headless_browser


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    yield from headless_browser()
