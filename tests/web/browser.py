"""A real browser for page tests: Debian's chromium driven by Playwright, never a skip.

Screenshots go to var/test-output/ (the tests print where).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

OUTPUT = Path(__file__).resolve().parents[2] / "var" / "test-output"


def chromium() -> str:
    """The chromium to drive, or a failure saying how to get one."""
    path = (
        os.environ.get("PHIEN_CHROMIUM")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
    )
    if path:
        return path
    # Never a skip: a page nobody looked at is a page nobody checked. `make test` installs
    # Debian's chromium where it can; elsewhere, say how.
    pytest.fail("no chromium found: apt-get install chromium, or set PHIEN_CHROMIUM to its path")


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    """Headless chromium for one test."""
    executable = chromium()
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=executable, headless=True)
        yield launched
        await launched.close()
