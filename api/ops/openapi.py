"""Every answer an operation can give, with its body, in the OpenAPI document.

FastAPI lists the success answer and 422; the rest come from dependencies (401, 429), domain
errors (403, 404, 409, 422), a body it cannot decode (400), the body limit (413) and the
database (503), all mapped in
`api/core/handlers.py` and answered with the same `{"detail": …}` envelope. This adds them to
each operation so clients and contract tests (`make fuzz`) know what to expect.
"""

from __future__ import annotations

from typing import Any

ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "required": ["detail"],
    "properties": {"detail": {"type": "string", "title": "Detail"}},
}
_ERROR = {"$ref": "#/components/schemas/Error"}
_INVALID = {"$ref": "#/components/schemas/HTTPValidationError"}
DESCRIPTIONS = {
    "400": "The request body could not be read (not UTF-8, say)",
    "401": "Missing, unknown or revoked bearer token",
    "403": "Your role may not do this",
    "404": "No such object, or it belongs to another cooperative",
    "409": "Conflicts with existing data or the object's state",
    "413": "Request body over the size limit",
    "422": "Invalid input, or a domain rule refused it (`loc` says where)",
    "429": "Too many requests: wait the seconds in Retry-After",
    "503": "Database or queue unavailable, or the server is at capacity: retry later",
}
_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before trying again",
        "schema": {"type": "integer"},
    }
}
_API_CODES = ("401", "403", "404", "422", "429", "503")
_WRITE_CODES = ("409", "413")
_WRITES = frozenset({"post", "put", "patch", "delete"})


def _codes(path: str, method: str) -> tuple[str, ...]:
    if path.startswith("/api/"):
        return _API_CODES + (_WRITE_CODES if method in _WRITES else ())
    if path.startswith("/webhooks/"):
        return ("401", "413", "503")
    return ()


def _response(code: str, existing: dict[str, Any] | None) -> dict[str, Any]:
    response = dict(existing or {"description": DESCRIPTIONS[code]})
    schema = _INVALID if code == "422" else _ERROR
    response["content"] = {"application/json": {"schema": schema}}
    if code == "429":
        response["headers"] = _RETRY_AFTER
    return response


def add_error_responses(schema: dict[str, Any]) -> None:
    """Give every operation its error answers with the envelope's schema (in place)."""
    schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            codes = _codes(path, method)
            if path.startswith("/api/") and "requestBody" in operation:
                codes += ("400",)
            for code in codes:
                responses[code] = _response(code, responses.get(code))
