"""JSON job serialisation (arq defaults to pickle; JSON keeps jobs readable and safe)."""

from __future__ import annotations

from typing import Any

import orjson


def serialize(obj: dict[str, Any]) -> bytes:
    """Encode a job or result as JSON."""
    return orjson.dumps(obj)


def deserialize(data: bytes) -> dict[str, Any]:
    """Decode a job or result."""
    value: dict[str, Any] = orjson.loads(data)
    return value
