"""The webhook endpoints in the OpenAPI document.

They are answered by the webhook lane, outside FastAPI's routing, so FastAPI does not list them;
clients and platform consoles still need to see them in /docs.
"""

from __future__ import annotations

from typing import Any

from api.webhooks.verify import HANDLERS, PREFIX_HANDLERS


def _operation(path: str, handler: Any) -> dict[str, Any]:
    doc = (handler.__doc__ or "").strip()
    responses = {
        "200": {"description": "stored (or a duplicate delivery: stored once)"},
        "401": {"description": "missing or wrong signature / secret"},
        "413": {"description": "body over the size limit"},
        "503": {"description": "not stored; the sender should retry"},
    }
    operation: dict[str, Any] = {
        "tags": ["webhooks"],
        "operationId": handler.__name__,
        "summary": doc.split(":", 1)[0].split(".", 1)[0] or handler.__name__,
        "description": doc + "\n\nVerified on the raw request bytes; answered before processing.",
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object"}}},
        },
        "responses": responses,
    }
    if "{secret}" in path:
        operation["parameters"] = [
            {"name": "secret", "in": "path", "required": True, "schema": {"type": "string"}}
        ]
    return {"post": operation}


def webhook_paths() -> dict[str, Any]:
    """OpenAPI path items for every webhook the lane answers."""
    paths = {path: _operation(path, handler) for path, handler in HANDLERS.items()}
    for label, handler in PREFIX_HANDLERS.values():
        paths[label] = _operation(label, handler)
    return paths
