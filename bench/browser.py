"""Debian's Chromium, headless, as the console's benchmark and browser tests drive it.

Playwright's own browser download is never used (this machine reaches only the package
registries); the flags keep Chromium from calling out to a network it cannot reach.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
VIEWPORT = {"width": 1440, "height": 960}
MISSING = f"{CHROMIUM} is absent (sudo apt-get install chromium)"


@contextmanager
def chromium() -> Iterator[Any]:
    """A headless Chromium browser (playwright.sync_api.Browser), closed on exit."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS), headless=True
        )
        try:
            yield browser
        finally:
            browser.close()
