"""One place that turns httpx transport failures and HTTP status classes into CarrierError."""

from __future__ import annotations

from typing import Any

import httpx

from integrations.carriers.base import CarrierError


async def send(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    carrier: str,
    headers: dict[str, str] | None = None,
    json_body: Any = None,
    params: dict[str, str] | None = None,
) -> httpx.Response:
    """Send one request; transport failures become transient CarrierErrors (timeouts marked)."""
    try:
        return await http.request(method, url, headers=headers, json=json_body, params=params)
    except httpx.TimeoutException as exc:
        # A timeout after the carrier accepted a booking is indistinguishable from one before:
        # callers must look the reference up before booking again.
        raise CarrierError(
            f"{carrier}: {method} {url} timed out ({type(exc).__name__})", "timeout", True
        ) from exc
    except httpx.TransportError as exc:
        raise CarrierError(
            f"{carrier}: {method} {url} failed ({type(exc).__name__})", "network", True
        ) from exc


def is_transient_status(status_code: int) -> bool:
    """HTTP statuses worth retrying later: 429 and every 5xx."""
    return status_code == 429 or status_code >= 500
