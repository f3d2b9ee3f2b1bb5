"""The live-sessions shops fixture, reused: orders here go through the real intake."""

from tests.api.live_sessions.conftest import shops

__all__ = ["shops"]
