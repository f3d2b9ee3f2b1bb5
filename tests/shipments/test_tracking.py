"""What carrier events do to stock, orders and money: once each, forward only, in any order.

Real API over HTTP, real PostgreSQL and Redis, burst arq workers, carrier simulators over HTTP.
Bodies posted by the tests themselves are built exactly as Viettel Post sends them, for the
cases a simulator cannot stage on demand (the same event three times, events out of order).
"""

from __future__ import annotations

import asyncio

import httpx
import redis.asyncio as aioredis
from sqlalchemy import update
from sqlmodel import col

from api.core.config import Settings
from api.core.db import Database
from api.core.queue import JobQueue
from api.webhooks.inbox import process_job
from api.webhooks.models import InboundEvent
from tests.factories import World
from tests.ingestion.rig import stock
from tests.shipments.tracking_rig import (
    QUANTITY,
    advance,
    at,
    booked_parcel,
    delivered_webhooks,
    events_of,
    inbox_outcomes,
    ledger,
    order_event_kinds,
    order_of,
    post_vtp,
    shipment_of,
    vtp_body,
    work_off_inbox,
)

VTP = "carrier:viettel_post"


async def test_the_same_event_three_times_has_one_effect(
    client: httpx.AsyncClient, settings: Settings, db: Database, world: World, tiktok_sim: str
) -> None:
    parcel = await booked_parcel(settings, db, world, tiktok_sim)
    secret = settings.viettel_post_webhook_secret.get_secret_value()
    picked = vtp_body(parcel.waybill, 105, at(10), token=secret, reference=parcel.reference)
    answers = await asyncio.gather(*(post_vtp(client, settings, picked) for _ in range(3)))
    assert answers == [200, 200, 200]
    await work_off_inbox(settings, db)
    assert await inbox_outcomes(db, "viettel_post") == ["applied"]
    assert await stock(db, parcel.variant_id) == (100 - QUANTITY, 0)
    # The same status again later (VTP sends redundant events): recorded, nothing leaves twice.
    again = vtp_body(parcel.waybill, 105, at(12), token=secret, reference=parcel.reference)
    assert await post_vtp(client, settings, again) == 200
    await work_off_inbox(settings, db)
    assert len(await events_of(db, parcel.shipment_id)) == 2
    assert await ledger(db, parcel.order_id) == [("reserved", QUANTITY), ("shipped", -QUANTITY)]
    assert (await order_of(db, parcel.order_id)).fulfilment_status == "shipped"


async def test_a_replayed_inbox_row_is_a_duplicate_event(
    client: httpx.AsyncClient, settings: Settings, db: Database, world: World, tiktok_sim: str
) -> None:
    parcel = await booked_parcel(settings, db, world, tiktok_sim)
    secret = settings.viettel_post_webhook_secret.get_secret_value()
    body = vtp_body(parcel.waybill, 105, at(10), token=secret, reference=parcel.reference)
    assert await post_vtp(client, settings, body) == 200
    await work_off_inbox(settings, db)
    # The stored webhook is replayed (the inbox is the replay source) and its job runs again.
    async with db.session() as session:
        event_id = await session.scalar(
            update(InboundEvent)
            .where(col(InboundEvent.source) == "viettel_post")
            .values(handled_at=None, outcome=None)
            .returning(col(InboundEvent.id))
        )
        await session.commit()
    assert event_id is not None
    redis = aioredis.Redis.from_url(settings.redis_url or "")
    await JobQueue(redis).send([process_job("viettel_post", event_id)])
    await redis.aclose()
    await work_off_inbox(settings, db)
    assert await inbox_outcomes(db, "viettel_post") == ["duplicate"]
    assert len(await events_of(db, parcel.shipment_id)) == 1
    assert await stock(db, parcel.variant_id) == (100 - QUANTITY, 0)


async def test_delivered_before_picked_up_ends_delivered_and_ships_once(
    client: httpx.AsyncClient, settings: Settings, db: Database, world: World, tiktok_sim: str
) -> None:
    parcel = await booked_parcel(settings, db, world, tiktok_sim)
    secret = settings.viettel_post_webhook_secret.get_secret_value()
    ref, cod = parcel.reference, parcel.cod_vnd
    delivered = vtp_body(parcel.waybill, 501, at(300), token=secret, reference=ref, cod=cod)
    picked = vtp_body(parcel.waybill, 105, at(10), token=secret, reference=ref)
    for body in (delivered, picked):
        assert await post_vtp(client, settings, body) == 200
        await work_off_inbox(settings, db)
    shipment = await shipment_of(db, parcel.shipment_id)
    assert (shipment.status, shipment.carrier_status) == ("delivered", "501")
    assert [e.outcome for e in await events_of(db, parcel.shipment_id)] == [
        "applied",
        "after_terminal",
    ]
    assert await stock(db, parcel.variant_id) == (100 - QUANTITY, 0)
    assert await ledger(db, parcel.order_id) == [("reserved", QUANTITY), ("shipped", -QUANTITY)]
    order = await order_of(db, parcel.order_id)
    assert (order.fulfilment_status, order.payment_status) == ("delivered", "cod_collected")
    assert await order_event_kinds(db, parcel.order_id, VTP) == [
        "shipment_status_changed",
        "stock_shipped",
        "fulfilment_changed",
        "fulfilment_changed",
        "cod_collected",
    ]


async def test_an_older_event_never_moves_the_parcel_back(
    client: httpx.AsyncClient, settings: Settings, db: Database, world: World, tiktok_sim: str
) -> None:
    parcel = await booked_parcel(settings, db, world, tiktok_sim)
    secret = settings.viettel_post_webhook_secret.get_secret_value()
    for code, minute in ((500, 60), (300, 30), (506, 20)):
        body = vtp_body(parcel.waybill, code, at(minute), token=secret)
        assert await post_vtp(client, settings, body) == 200
        await work_off_inbox(settings, db)
    shipment = await shipment_of(db, parcel.shipment_id)
    assert (shipment.status, shipment.carrier_status) == ("out_for_delivery", "500")
    outcomes = [e.outcome for e in await events_of(db, parcel.shipment_id)]
    assert outcomes == ["applied", "stale", "stale"]
    # The late pickup scan was lost, yet out for delivery means the goods left: shipped once.
    assert await stock(db, parcel.variant_id) == (100 - QUANTITY, 0)


async def test_events_after_delivered_are_ignored(
    client: httpx.AsyncClient,
    settings: Settings,
    db: Database,
    world: World,
    tiktok_sim: str,
    viettel_post_sim: str,
) -> None:
    parcel = await booked_parcel(settings, db, world, tiktok_sim)
    await advance(viettel_post_sim, parcel.waybill, "105")
    await advance(viettel_post_sim, parcel.waybill, "501")
    await delivered_webhooks(viettel_post_sim, 2)
    await work_off_inbox(settings, db)
    secret = settings.viettel_post_webhook_secret.get_secret_value()
    late = vtp_body(parcel.waybill, 504, at(60 * 24 * 400), token=secret)
    assert await post_vtp(client, settings, late) == 200
    await work_off_inbox(settings, db)
    shipment = await shipment_of(db, parcel.shipment_id)
    assert shipment.status == "delivered"
    assert [e.outcome for e in await events_of(db, parcel.shipment_id)][-1] == "after_terminal"
    assert await stock(db, parcel.variant_id) == (100 - QUANTITY, 0)
    assert (await order_of(db, parcel.order_id)).fulfilment_status == "delivered"


async def test_returned_puts_stock_back_only_when_the_parcel_is_back(
    client: httpx.AsyncClient,
    settings: Settings,
    db: Database,
    world: World,
    tiktok_sim: str,
    viettel_post_sim: str,
) -> None:
    parcel = await booked_parcel(settings, db, world, tiktok_sim)
    steps = [
        ("105", (100 - QUANTITY, 0), "shipped"),
        ("505", (100 - QUANTITY, 0), "shipped"),
        ("502", (100 - QUANTITY, 0), "shipped"),
        ("515", (100 - QUANTITY, 0), "shipped"),
        ("504", (100, 0), "returned"),
    ]
    for count, (code, levels, fulfilment) in enumerate(steps, start=1):
        await advance(viettel_post_sim, parcel.waybill, code, reason_code=32)
        await delivered_webhooks(viettel_post_sim, count)
        await work_off_inbox(settings, db)
        assert await stock(db, parcel.variant_id) == levels, code
        assert (await order_of(db, parcel.order_id)).fulfilment_status == fulfilment, code
    assert (await shipment_of(db, parcel.shipment_id)).status == "returned"
    assert await ledger(db, parcel.order_id) == [
        ("reserved", QUANTITY),
        ("shipped", -QUANTITY),
        ("returned", QUANTITY),
    ]
    kinds = await order_event_kinds(db, parcel.order_id, VTP)
    assert kinds.count("stock_shipped") == 1
    assert kinds.count("stock_returned") == 1
    order = await order_of(db, parcel.order_id)
    assert order.payment_status == "cod_pending"


async def test_prepaid_delivery_records_no_cod(
    client: httpx.AsyncClient,
    settings: Settings,
    db: Database,
    world: World,
    tiktok_sim: str,
    viettel_post_sim: str,
) -> None:
    parcel = await booked_parcel(settings, db, world, tiktok_sim, is_cod=False)
    await advance(viettel_post_sim, parcel.waybill, "501")
    await delivered_webhooks(viettel_post_sim, 1)
    await work_off_inbox(settings, db)
    shipment = await shipment_of(db, parcel.shipment_id)
    assert (shipment.status, shipment.cod_collected_vnd) == ("delivered", 0)
    order = await order_of(db, parcel.order_id)
    assert (order.fulfilment_status, order.payment_status) == ("delivered", "paid")
    assert await stock(db, parcel.variant_id) == (100 - QUANTITY, 0)


async def test_carrier_tells_us_the_waybill_before_the_booking_is_stored(
    client: httpx.AsyncClient,
    settings: Settings,
    db: Database,
    world: World,
    tiktok_sim: str,
    viettel_post_sim: str,
) -> None:
    parcel = await booked_parcel(settings, db, world, tiktok_sim, store_waybill=False)
    await advance(viettel_post_sim, parcel.waybill, "105")
    await delivered_webhooks(viettel_post_sim, 1)
    await work_off_inbox(settings, db)
    shipment = await shipment_of(db, parcel.shipment_id)
    assert (shipment.waybill, shipment.status) == (parcel.waybill, "picked_up")
    assert shipment.booked_at is not None
    assert await stock(db, parcel.variant_id) == (100 - QUANTITY, 0)
    kinds = await order_event_kinds(db, parcel.order_id, VTP)
    assert kinds[:2] == ["waybill_adopted", "fulfilment_changed"]
    assert (await order_of(db, parcel.order_id)).fulfilment_status == "shipped"


async def test_carrier_cancellation_keeps_the_reservation(
    client: httpx.AsyncClient,
    settings: Settings,
    db: Database,
    world: World,
    tiktok_sim: str,
    viettel_post_sim: str,
) -> None:
    parcel = await booked_parcel(settings, db, world, tiktok_sim)
    await advance(viettel_post_sim, parcel.waybill, "101")  # VTP refused the order
    await delivered_webhooks(viettel_post_sim, 1)
    await work_off_inbox(settings, db)
    assert (await shipment_of(db, parcel.shipment_id)).status == "cancelled"
    # The order still wants its goods: they stay reserved for a new booking.
    assert await stock(db, parcel.variant_id) == (100, QUANTITY)
    assert (await order_of(db, parcel.order_id)).fulfilment_status == "reserved"
    assert "fulfilment_changed" in await order_event_kinds(db, parcel.order_id, VTP)
