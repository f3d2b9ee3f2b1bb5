"""TikTok Shop envelopes and signatures as the simulator computes them (independently of the
production client, so a bug shared by signer and verifier shows up)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from typing import Any

import orjson
from fastapi import Response


def hmac_hex(key: str, message: bytes) -> str:
    """Lowercase hex HMAC-SHA256."""
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def api_sign(secret: str, path: str, params: dict[str, str], body: bytes) -> str:
    """The `sign` of an API request (§1.7): secret + path + sorted params + body + secret."""
    base = path + "".join(f"{k}{params[k]}" for k in sorted(params))
    return hmac_hex(secret, secret.encode() + base.encode() + body + secret.encode())


def envelope(status_code: int, code: int, message: str, data: dict[str, Any] | None) -> Response:
    """The `{code, message, data, request_id}` answer of every TikTok Shop endpoint."""
    request_id = time.strftime("%Y%m%d%H%M%S") + secrets.token_hex(10).upper()
    body: dict[str, Any] = {"code": code, "message": message, "request_id": request_id}
    if data is not None:
        body["data"] = data
    return Response(orjson.dumps(body), status_code=status_code, media_type="application/json")
