"""The one place where platform clients touch the network: timeouts and transport-error mapping."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn

import httpx
import orjson

from integrations.platforms.types import PlatformError

# Platforms must answer a seller backend quickly; a hung call would pin an arq job slot.
DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=3.0)


async def send(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    platform: str,
    params: Mapping[str, str] | None = None,
    content: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    http_timeout: httpx.Timeout = DEFAULT_TIMEOUT,
) -> httpx.Response:
    """Send one request; connect errors and timeouts become transient `PlatformError`s."""
    try:
        return await http.request(
            method, url, params=params, content=content, headers=headers, timeout=http_timeout
        )
    except httpx.TimeoutException as exc:
        # The URL is left out of the message on purpose: query strings carry tokens and secrets.
        raise PlatformError(
            "timeout",
            f"{method} timed out ({type(exc).__name__})",
            transient=True,
            platform=platform,
        ) from None
    except httpx.TransportError as exc:
        raise PlatformError(
            "network", f"{method} failed ({type(exc).__name__})", transient=True, platform=platform
        ) from None


def is_transient_status(status_code: int) -> bool:
    """HTTP statuses worth a later retry: rate limiting and server-side failures."""
    return status_code == 429 or status_code >= 500


def decode_json_object(response: httpx.Response, *, platform: str) -> dict[str, Any] | None:
    """The body as a JSON object, or None when it is not one (an HTML error page, say)."""
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return None
    return body if isinstance(body, dict) else None


def raise_for_unreadable(response: httpx.Response, *, platform: str) -> NoReturn:
    """Raise for a response whose body carries no platform envelope."""
    raise PlatformError(
        f"http_{response.status_code}",
        "response body is not a JSON object",
        transient=is_transient_status(response.status_code),
        platform=platform,
    )
