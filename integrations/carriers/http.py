"""One place that turns httpx transport failures and HTTP status classes into CarrierError."""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

import httpx

from integrations.carriers.base import CarrierError


class HttpLanes:
    """Several one-connection httpx clients taken in turn: many concurrent calls to one host.

    httpcore's pool looks at every one of its connections (a socket poll each) whenever a
    request starts or finishes, so one pool of 32 connections costs 32 checks per call; a lane
    of one connection costs one. Callers beyond the lane count wait here, in order, instead of
    queueing inside httpcore (which rescans its queue on every answer).
    """

    def __init__(self, lanes: int, timeout: httpx.Timeout) -> None:
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        # One TLS context for every lane: loading the CA bundle costs milliseconds each time.
        tls = ssl.create_default_context()
        self._clients = [
            httpx.AsyncClient(timeout=timeout, limits=limits, verify=tls) for _ in range(lanes)
        ]
        self._idle: asyncio.Queue[httpx.AsyncClient] = asyncio.Queue()
        for client in self._clients:
            self._idle.put_nowait(client)

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        json: Any = None,
        params: dict[str, str] | None = None,
    ) -> httpx.Response:
        """Send on the lane idle longest (first in, first out: every connection stays warm)."""
        client = await self._idle.get()
        try:
            return await client.request(method, url, headers=headers, json=json, params=params)
        finally:
            self._idle.put_nowait(client)

    async def aclose(self) -> None:
        """Close every lane's connection."""
        for client in self._clients:
            await client.aclose()


Http = httpx.AsyncClient | HttpLanes


async def send(
    http: Http,
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
