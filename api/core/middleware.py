"""Pure ASGI middleware: request id, body size limit, request metrics.

Written against raw ASGI rather than BaseHTTPMiddleware because they sit on the webhook
hot path, where every extra task and copy shows up in the acknowledgement rate.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Mapping
from typing import Any

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.core.logging import request_id_var

REQUESTS = Counter(
    "phien_http_requests_total", "HTTP requests answered", ["method", "route", "status"]
)
LATENCY = Histogram(
    "phien_http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)


class RequestContextMiddleware:
    """Assign a request id, enforce the body limit, count and time every request."""

    def __init__(
        self, app: ASGIApp, max_body_bytes: int, upload_limits: Mapping[str, int] | None = None
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        # Path prefix -> a larger limit for the few endpoints that take files.
        self.upload_limits = dict(upload_limits or {})

    def _limit(self, scope: Scope) -> int:
        path: str = scope.get("path", "")
        for prefix, limit in self.upload_limits.items():
            if path.startswith(prefix):
                return limit
        return self.max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        rid = headers.get(b"x-request-id", b"").decode("latin-1")[:64] or uuid.uuid4().hex
        token = request_id_var.set(rid)
        started = time.perf_counter()
        status = 500
        declared = headers.get(b"content-length")
        limit = self._limit(scope)
        if declared is not None and declared.isdigit() and int(declared) > limit:
            status = 413
            await _plain(send, 413, b'{"detail":"request body too large"}', rid)
            self._observe(scope, status, started)
            request_id_var.reset(token)
            return

        if declared is None and scope.get("method") in ("POST", "PUT", "PATCH"):
            # No Content-Length (chunked): read up to the limit here, then replay it, because
            # FastAPI turns any error raised while it reads the body into a 400.
            replay = await self._buffer_body(receive, limit)
            if replay is None:
                status = 413
                await _plain(send, 413, b'{"detail":"request body too large"}', rid)
                self._observe(scope, status, started)
                request_id_var.reset(token)
                return
            receive = replay

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", rid.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self._observe(scope, status, started)
            request_id_var.reset(token)

    async def _buffer_body(self, receive: Receive, limit: int) -> Receive | None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        return replay

    @staticmethod
    def _observe(scope: Scope, status: int, started: float) -> None:
        path = _route_label(scope)
        method = scope.get("method", "")
        REQUESTS.labels(method, path, str(status)).inc()
        LATENCY.labels(method, path).observe(time.perf_counter() - started)


def _route_label(scope: Scope) -> str:
    """The path template (/api/v1/products/{product_id}), never raw ids: bounded label values."""
    if scope.get("route") is None:
        # The webhook lane answers without FastAPI routing and names its path itself.
        return str(scope.get("phien.route", "unmatched"))
    label: str = scope["path"]
    params: dict[str, Any] = scope.get("path_params", {})
    for name, value in params.items():
        label = label.replace(f"/{value}", f"/{{{name}}}", 1)
    return label


async def _plain(send: Send, status: int, body: bytes, rid: str) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"x-request-id", rid.encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
