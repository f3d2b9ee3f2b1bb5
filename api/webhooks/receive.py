"""The webhook lane: platform and carrier webhooks answered by plain ASGI in front of FastAPI.

A webhook needs none of the framework's routing, dependency solving or validation, and at
thousands per second that machinery was half of the acknowledgement's CPU. Carrier webhooks take
the same lane so they share the inbox writer. Everything else goes on to FastAPI untouched. The
outer request-context middleware still assigns request ids, limits bodies and counts metrics.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from starlette.types import ASGIApp, Receive, Scope, Send

from api.webhooks.verify import HANDLERS, PREFIX_HANDLERS, WebhookContext, WebhookRequest

log = logging.getLogger(__name__)

Handler = Callable[[WebhookContext, WebhookRequest], Awaitable[tuple[int, bytes]]]
_UNAVAILABLE = (503, b'{"detail":"temporarily unavailable, retry"}')


def _url(scope: Scope, headers: dict[str, str]) -> str:
    host = headers.get("host") or "{}:{}".format(*scope.get("server", ("127.0.0.1", 80)))
    return f"{scope.get('scheme', 'http')}://{host}{scope.get('root_path', '')}{scope['path']}"


class WebhookLane:
    """Answers POSTs to the webhook paths; forwards every other request to `app`."""

    def __init__(self, app: ASGIApp, context: Callable[[], WebhookContext]) -> None:
        self.app = app
        self.context = context
        self.handlers: dict[str, Handler] = HANDLERS
        self.prefixed: dict[str, tuple[str, Handler]] = PREFIX_HANDLERS

    def route(self, path: str) -> tuple[Handler, str, str] | None:
        """(handler, route label, path tail) for a webhook path, or None."""
        handler = self.handlers.get(path)
        if handler is not None:
            return handler, path, ""
        for prefix, (label, prefixed) in self.prefixed.items():
            if path.startswith(prefix):
                return prefixed, label, path[len(prefix) :]
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = self.route(scope["path"]) if scope["type"] == "http" else None
        if found is None or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        handler, label, tail = found
        # The label, never the raw path: a GHN path carries its secret.
        scope["phien.route"] = label
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        request = WebhookRequest(_url(scope, headers), headers, b"".join(chunks), tail)
        context = self.context()
        try:
            status, body = await handler(context, request)
        except Exception:
            # The inbox could not store it: the sender must retry, so never answer 200, and a
            # reconciliation pull soon catches what the sender would only resend much later.
            log.exception("webhook not stored", extra={"path": label})
            context.inbox.note_refused()
            status, body = _UNAVAILABLE
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
