"""Reading platform JSON defensively: every malformed body becomes a PlatformPayloadError."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from integrations.platforms.types import PlatformPayloadError


def load_object(raw_body: bytes, platform: str) -> dict[str, Any]:
    """The body as a JSON object, or PlatformPayloadError naming the platform."""
    try:
        body = orjson.loads(raw_body)
    except orjson.JSONDecodeError:
        raise PlatformPayloadError("body is not JSON", platform=platform) from None
    if not isinstance(body, dict):
        raise PlatformPayloadError("body is not a JSON object", platform=platform)
    return body


def mapping(value: object) -> Mapping[str, Any]:
    """`value` if it is an object, else an empty one (absent nested objects are common)."""
    return value if isinstance(value, dict) else {}
