"""Webhook handlers (platforms and carriers): verify the raw bytes, store once, answer 200 fast.

They take and return plain values (no FastAPI request), so the webhook lane can call them on
the acknowledgement hot path without the framework's per-request machinery.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Any

import orjson

from api.core.config import Settings
from api.webhooks.inbox import Inbound, InboxWriter
from integrations.carriers import ghn, viettel_post
from integrations.carriers.base import TrackingUpdate, WebhookPayloadError
from integrations.payments.stripe_client import verify_event
from integrations.payments.types import SignatureInvalid
from integrations.platforms import PlatformPayloadError, PlatformWebhook, shopee, tiktok_shop

log = logging.getLogger(__name__)

OK = (200, b'{"ok":true}')
BAD_SIGNATURE = (401, b'{"detail":"invalid signature"}')
# Only these request headers are kept with the event (never the signature itself).
KEPT_HEADERS = ("content-type", "user-agent", "x-request-id", "x-forwarded-for")
# Updates one carrier push may carry (stored as one row, applied by one job). Viettel Post sends
# one DATA object per push; a push of thousands is refused whole, with a 4xx that says why.
MAX_UPDATES_PER_PUSH = 100


@dataclass(frozen=True)
class WebhookRequest:
    """What a webhook handler needs of the HTTP request."""

    url: str
    headers: dict[str, str]
    body: bytes
    # What followed the prefix of a prefix-matched path (the GHN secret); never logged.
    path_tail: str = ""


@dataclass(frozen=True)
class WebhookContext:
    """What a webhook handler needs of the running app."""

    settings: Settings
    inbox: InboxWriter


def _unparseable(platform: str, raw: bytes) -> PlatformWebhook:
    # Correctly signed but not the shape we expect: keep it for a person to look at.
    digest = hashlib.sha256(raw).hexdigest()
    return PlatformWebhook(platform, f"unparseable:{digest}", "unparseable", "", None, None, None)


async def _accept(
    ctx: WebhookContext, hook: PlatformWebhook, request: WebhookRequest
) -> tuple[int, bytes]:
    kept = {k: request.headers[k][:200] for k in KEPT_HEADERS if k in request.headers}
    event = Inbound(
        hook.platform, hook.event_key, hook.topic, hook.shop_id, hook.order_id, request.body, kept
    ).checked()
    if not await ctx.inbox.submit(event):
        log.info("duplicate webhook", extra={"source": hook.platform, "event_key": hook.event_key})
    return OK


async def tiktok_shop_webhook(ctx: WebhookContext, request: WebhookRequest) -> tuple[int, bytes]:
    """TikTok Shop push: HMAC-SHA256(app_secret, app_key + raw body) in `Authorization`."""
    settings = ctx.settings
    secret = settings.tiktok_shop_app_secret.get_secret_value()
    signature = request.headers.get("authorization", "")
    if not secret or not tiktok_shop.verify_webhook(
        settings.tiktok_shop_app_key, secret, request.body, signature
    ):
        log.warning("tiktok webhook rejected: bad signature", extra={"bytes": len(request.body)})
        return BAD_SIGNATURE
    try:
        hook = tiktok_shop.parse_webhook(request.body)
    except PlatformPayloadError:
        hook = _unparseable("tiktok_shop", request.body)
    return await _accept(ctx, hook, request)


async def shopee_webhook(ctx: WebhookContext, request: WebhookRequest) -> tuple[int, bytes]:
    """Shopee push: HMAC-SHA256(partner_key, callback URL + '|' + raw body) in `Authorization`."""
    settings = ctx.settings
    key = settings.shopee_partner_key.get_secret_value()
    callback_url = settings.shopee_callback_url
    if callback_url is None and settings.environment != "production":
        # Development only: production requires SHOPEE_CALLBACK_URL (the settings refuse to
        # start without it), because the request URL carries the sender's Host header.
        callback_url = request.url
    if (
        not key
        or not callback_url
        or not shopee.verify_push(
            key, callback_url, request.body, request.headers.get("authorization", "")
        )
    ):
        log.warning("shopee push rejected: bad signature", extra={"callback_url": callback_url})
        return BAD_SIGNATURE
    try:
        hook = shopee.parse_push(request.body)
    except PlatformPayloadError:
        hook = _unparseable("shopee", request.body)
    return await _accept(ctx, hook, request)


def too_many_updates(count: int) -> tuple[int, bytes]:
    """The answer to a push carrying more updates than one row and one job may take."""
    detail = f"a push carries at most {MAX_UPDATES_PER_PUSH} updates; this one carried {count}"
    return 422, orjson.dumps({"detail": detail})


def _push_key(updates: list[TrackingUpdate]) -> str:
    if len(updates) == 1:
        return updates[0].event_key  # the key rows of one update have always had
    joined = "\n".join(u.event_key for u in updates).encode()
    return f"push:{len(updates)}:{hashlib.sha256(joined).hexdigest()}"


async def _accept_tracking(
    ctx: WebhookContext, source: str, updates: list[TrackingUpdate], request: WebhookRequest,
    body: bytes,
) -> tuple[int, bytes]:  # fmt: skip
    """Store a carrier push once, as one row for one job, however many updates it carries."""
    kept = {k: request.headers[k][:200] for k in KEPT_HEADERS if k in request.headers}
    if len(updates) > MAX_UPDATES_PER_PUSH:
        log.warning("carrier push refused: too many updates", extra={"source": source,
                    "updates": len(updates)})  # fmt: skip
        return too_many_updates(len(updates))
    if not updates:
        # Authentic but unreadable: kept for a person, answered 200 so the carrier stops retrying.
        key = f"unparseable:{hashlib.sha256(body).hexdigest()}"
        row = Inbound(source, key, "unparseable", "", None, body, kept)
    else:
        waybill = updates[0].waybill if len(updates) == 1 else None
        topic = updates[0].raw_status if len(updates) == 1 else "batch"
        row = Inbound(source, _push_key(updates), topic, "", waybill, body, kept).checked()
    await ctx.inbox.submit(row)
    return OK


async def viettel_post_webhook(ctx: WebhookContext, request: WebhookRequest) -> tuple[int, bytes]:
    """Viettel Post status push: our secret in `Authorization` and/or the body `TOKEN`."""
    secret = ctx.settings.viettel_post_webhook_secret.get_secret_value()
    if not viettel_post.verify_webhook(request.headers, request.body, secret):
        log.warning("viettel post webhook rejected: bad secret", extra={"bytes": len(request.body)})
        return BAD_SIGNATURE
    try:
        updates = viettel_post.parse_webhook(request.body)
    except WebhookPayloadError:
        updates = []
    # The body's TOKEN may be our secret: it is never stored.
    body = viettel_post.redact_token(request.body)
    return await _accept_tracking(ctx, "viettel_post", updates, request, body)


async def ghn_webhook(ctx: WebhookContext, request: WebhookRequest) -> tuple[int, bytes]:
    """GHN status push: unsigned, so the secret is the last segment of the callback path."""
    secret = ctx.settings.ghn_webhook_secret.get_secret_value()
    if not ghn.verify_path_secret(request.path_tail, secret):
        log.warning("ghn webhook rejected: bad path secret", extra={"bytes": len(request.body)})
        return BAD_SIGNATURE
    try:
        updates = ghn.parse_webhook(request.body)
    except WebhookPayloadError:
        updates = []
    return await _accept_tracking(ctx, "ghn", updates, request, request.body)


STRIPE_NOT_CONFIGURED = (503, b'{"detail":"stripe webhooks are not configured here"}')


async def stripe_webhook(ctx: WebhookContext, request: WebhookRequest) -> tuple[int, bytes]:
    """Stripe event: `Stripe-Signature` checked on the raw body by the official library (old
    timestamps refused), stored once per event id; the worker applies it."""
    secret = ctx.settings.stripe_webhook_secret.get_secret_value()
    if not secret:
        log.error("stripe webhook refused: STRIPE_WEBHOOK_SECRET is not set")
        return STRIPE_NOT_CONFIGURED
    try:
        event = verify_event(request.body, request.headers.get("stripe-signature"), secret)
    except SignatureInvalid as exc:
        log.warning("stripe webhook rejected", extra={"reason": str(exc)[:200]})
        return BAD_SIGNATURE
    kept = {k: request.headers[k][:200] for k in KEPT_HEADERS if k in request.headers}
    object_id = event.object.get("id")
    row = Inbound(
        "stripe", event.id, event.type, "", object_id if isinstance(object_id, str) else None,
        request.body, kept,
    ).checked()  # fmt: skip
    if not await ctx.inbox.submit(row):
        log.info("duplicate webhook", extra={"source": "stripe", "event_key": event.id})
    return OK


HANDLERS: dict[str, Any] = {
    "/webhooks/tiktok-shop": tiktok_shop_webhook,
    "/webhooks/shopee": shopee_webhook,
    "/webhooks/carriers/viettel-post": viettel_post_webhook,
    "/webhooks/stripe": stripe_webhook,
}
# Paths that end in a variable segment: prefix → (route label for metrics and logs, handler).
PREFIX_HANDLERS: dict[str, tuple[str, Any]] = {
    "/webhooks/carriers/ghn/": ("/webhooks/carriers/ghn/{secret}", ghn_webhook),
}
