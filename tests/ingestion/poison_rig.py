"""Helpers for poison-input tests: hand-signed TikTok pushes, inbox rows, tries made due now."""

from __future__ import annotations

import json
from typing import Any

import httpx
from sqlalchemy import select, update
from sqlmodel import col

from api.core.config import Settings
from api.core.db import Database
from api.webhooks.models import InboundEvent
from integrations.platforms.tiktok_shop import webhook_signature
from integrations.simulators import tiktok_shop as tiktok_shop_sim


def tiktok_push(
    settings: Settings,
    order_id: str,
    *,
    shop_id: str = tiktok_shop_sim.DEFAULT_SHOP_ID,
    update_time: int = 1_764_000_000,
    notification: str | None = None,
) -> tuple[bytes, dict[str, str]]:
    """A TikTok Shop order-status push signed as the platform signs it: (body, headers)."""
    doc: dict[str, Any] = {
        "type": 1,
        "tts_notification_id": notification or f"n-{order_id}",
        "shop_id": shop_id,
        "timestamp": update_time,
        "data": {"order_id": order_id, "order_status": "AWAITING_SHIPMENT",
                 "is_on_hold_order": False, "update_time": update_time},
    }  # fmt: skip
    body = json.dumps(doc, separators=(",", ":")).encode()
    secret = settings.tiktok_shop_app_secret.get_secret_value()
    return body, {"Authorization": webhook_signature(settings.tiktok_shop_app_key, secret, body)}


async def post_push(client: httpx.AsyncClient, push: tuple[bytes, dict[str, str]]) -> int:
    """POST a signed push to our TikTok Shop webhook; the status code."""
    body, headers = push
    return (await client.post("/webhooks/tiktok-shop", content=body, headers=headers)).status_code


async def inbox_rows(db: Database) -> list[InboundEvent]:
    """Every inbox row, oldest first."""
    async with db.session() as session:
        query = select(InboundEvent).order_by(col(InboundEvent.id))
        return list((await session.execute(query)).scalars())


async def make_retries_due(db: Database) -> None:
    """Arrange that every backed-off row may be tried now (instead of sleeping its backoff)."""
    async with db.session() as session:
        await session.execute(
            update(InboundEvent)
            .where(col(InboundEvent.retry_after).is_not(None))
            .values(retry_after=None)
        )
        await session.commit()
