"""Simulators served beside the API by `phien serve --simulators` (wired as they land)."""

from __future__ import annotations

import contextlib

from api.core.config import Settings


async def start_simulators(stack: contextlib.AsyncExitStack, settings: Settings) -> None:
    """Start every simulator on its loopback port and point the settings at them."""
    return None
