"""Fixtures of the web tests: the browser (tests/web/browser.py)."""

from __future__ import annotations

from tests.web.browser import browser

__all__ = ["browser"]
