"""The HTTP server's own limits, for a deployment with no proxy in front.

uvicorn's httptools protocol (the fast one, which the webhook path needs) accepts a request
head of any size and waits forever for a sender that stops half-way. This subclass adds:

- a size limit on the request head (request line and headers): 431, then close;
- a deadline for the head to arrive, from the first byte (or the connection) on: 408, then close;
- an idle limit between body chunks: the connection is closed, and the app sees a disconnect.

Together with uvicorn's `limit_concurrency` (503 past N connections or requests) a few hundred
half-sent requests cost a few file descriptors for a few seconds, not the process.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from api.core.config import Settings

log = logging.getLogger(__name__)

_CLOSE = b"content-type: text/plain; charset=utf-8\r\nconnection: close\r\n"


def _plain(status_line: bytes, message: bytes) -> bytes:
    return b"".join([status_line, _CLOSE, b"content-length: %d\r\n\r\n" % len(message), message])


TOO_LARGE = _plain(b"HTTP/1.1 431 Request Header Fields Too Large\r\n", b"request head too large")
TOO_SLOW = _plain(b"HTTP/1.1 408 Request Timeout\r\n", b"request head too slow")


class GuardedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with head size, head time and body idle limits."""

    max_head_bytes = 64 * 1024
    head_timeout_s = 10.0
    body_idle_timeout_s = 30.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = True
        self._head_bytes = 0
        self._tail = b""  # the last bytes of the head so far: its end may straddle two reads
        self._in_body = False
        self._timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.head_timeout_s, self._head_too_slow)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._in_head:
            if self._timer is None:  # the first byte of a kept-alive connection's next request
                self._arm(self.head_timeout_s, self._head_too_slow)
            # Counted before parsing: a head that arrives whole in one read is measured too.
            self._head_bytes += self._head_part(data)
            if self._head_bytes > self.max_head_bytes:
                self._refuse(TOO_LARGE, "request head too large", bytes=self._head_bytes)
                return
        elif self._in_body:
            self._arm(self.body_idle_timeout_s, self._body_too_slow)
        super().data_received(data)

    def _head_part(self, data: bytes) -> int:
        """How many bytes of `data` belong to the head (up to its blank line)."""
        window = self._tail + data
        end = window.find(b"\r\n\r\n")
        if end < 0:
            self._tail = window[-3:]
            return len(data)
        return max(0, end + 4 - len(self._tail))

    def on_headers_complete(self) -> None:
        self._in_head, self._in_body = False, True
        self._arm(self.body_idle_timeout_s, self._body_too_slow)
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        # Whatever comes next is the next request's head; its clock starts with its first byte
        # (until then uvicorn's keep-alive timeout rules the idle connection).
        self._in_body, self._in_head, self._head_bytes, self._tail = False, True, 0, b""
        self._disarm()
        super().on_message_complete()

    def _arm(self, delay: float, callback: Any) -> None:
        self._disarm()
        self._timer = asyncio.get_running_loop().call_later(delay, callback)

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _head_too_slow(self) -> None:
        self._timer = None
        if self._in_head and not self.transport.is_closing():
            self._refuse(TOO_SLOW, "request head too slow", bytes=self._head_bytes)

    def _body_too_slow(self) -> None:
        self._timer = None
        if self._in_body and not self.transport.is_closing():
            log.warning("request body stalled; connection closed", extra=self._who())
            self.transport.close()

    def _refuse(self, response: bytes, reason: str, **more: int) -> None:
        log.warning(reason, extra={**self._who(), **more})
        self._in_head = False
        self._disarm()
        self.transport.write(response)
        self.transport.close()

    def _who(self) -> dict[str, str]:
        client = self.client
        return {"client": f"{client[0]}:{client[1]}" if client else "?"}


def guarded_protocol(settings: Settings) -> type[GuardedHttpToolsProtocol]:
    """The protocol class with this deployment's limits."""
    return type(
        "PhienHttpProtocol",
        (GuardedHttpToolsProtocol,),
        {
            "max_head_bytes": settings.http_max_head_bytes,
            "head_timeout_s": settings.http_head_timeout_s,
            "body_idle_timeout_s": settings.http_body_idle_timeout_s,
        },
    )


def server_config(app: Any, settings: Settings, **overrides: Any) -> uvicorn.Config:
    """uvicorn settings for the API: the limits above, and a cap on connections and requests."""
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "http": guarded_protocol(settings),
        "limit_concurrency": settings.http_limit_concurrency,
        "timeout_keep_alive": 5,
        "log_config": None,
        "access_log": False,
        "proxy_headers": True,
        "timeout_graceful_shutdown": 10,
    }
    return uvicorn.Config(app, **(options | overrides))
