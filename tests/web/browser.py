"""What the browser tests share: Debian's chromium driven by Playwright, and where pictures go.

A browser test fails, never skips, when no browser is found: `make test` installs chromium
where it can. Screenshots go to var/test-output/ (printed by the tests).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, async_playwright

OUTPUT = Path(__file__).resolve().parents[2] / "var" / "test-output"


def chromium() -> str:
    """The browser to drive, or a failed test saying how to get one."""
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


async def sign_in(page: Page, api_base: str, path: str, token: str) -> None:
    """Open `path`, get sent to the sign-in form, paste the token and come back to `path`."""
    await page.goto(f"{api_base}{path}")
    await page.fill("#token", token)
    await page.click("button.primary")
    await page.wait_for_load_state("networkidle")
