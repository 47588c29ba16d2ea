"""What the console's browser tests share: a headless Chromium, signing in, and where the
screenshots go ($REDACTOR_CONSOLE_REPORT keeps them, e.g. in bench/reports/)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.browser import CHROMIUM, MISSING, VIEWPORT, chromium
from support.review import PASSWORD

REPORT_ENV = "REDACTOR_CONSOLE_REPORT"
WAIT_MS = 30_000


def headless_browser() -> Iterator[Any]:
    """A module's browser (a fixture body): skips with the reason where none is installed."""
    if not CHROMIUM.is_file():
        pytest.skip(f"no browser for the console tests: {MISSING}")
    pytest.importorskip("playwright.sync_api")
    with chromium() as b:
        yield b


def log_in(browser: Any, url: str, name: str, **context: Any) -> Any:
    """A fresh browser context (its own cookies) signed in as `name`, on the exports page."""
    ctx = browser.new_context(viewport=VIEWPORT, **context)
    ctx.set_default_timeout(WAIT_MS)
    page = ctx.new_page()
    page.goto(f"{url}/login")
    page.fill("input[name=name]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/")
    return page


def report_dir(tmp_path: Path) -> Path:
    """Where a test's screenshots go: $REDACTOR_CONSOLE_REPORT, never the repository by default."""
    report = Path(os.environ.get(REPORT_ENV) or tmp_path)
    report.mkdir(parents=True, exist_ok=True)
    return report
