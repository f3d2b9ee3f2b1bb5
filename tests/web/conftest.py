"""The page tests' browser fixture (tests/web/browser.py)."""

from tests.web.browser import browser

__all__ = ["browser"]
