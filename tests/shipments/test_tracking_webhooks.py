"""Carrier status webhooks end to end: secrets, status codes, unknown parcels, the GHN path.

Real API over HTTP, real PostgreSQL and Redis, burst arq workers, carrier simulators over HTTP.
"""

from __future__ import annotations

import asyncio

import httpx
import orjson
import redis.asyncio as aioredis
from sqlalchemy import func, select
from sqlmodel import col

from api.core.config import Settings
from api.core.db import Database
from api.core.queue import QUEUE_NAME
from api.shipments.models import ShipmentEvent
from api.webhooks.models import InboundEvent
from tests.factories import World
from tests.shipments.tracking_rig import (
    GHN_PATH,
    VTP_PATH,
    advance,
    at,
    booked_parcel,
    delivered_webhooks,
    events_of,
    inbox_outcomes,
    order_of,
    post_vtp,
    shipment_of,
    sim_call,
    vtp_body,
    work_off_inbox,
)


async def _inbox_count(db: Database) -> int:
    async with db.session() as session:
        count = await session.scalar(select(func.count()).select_from(InboundEvent))
        return int(count or 0)


async def test_viettel_post_secret_is_required_in_header_or_token(
    client: httpx.AsyncClient, settings: Settings, db: Database
) -> None:
    secret = settings.viettel_post_webhook_secret.get_secret_value()
    with_token = vtp_body("1800000000001", 105, at(0), token=secret)
    wrong_token = vtp_body("1800000000001", 105, at(0), token="not-the-secret")
    json = {"Content-Type": "application/json"}
    refused = [
        await client.post(VTP_PATH, content=wrong_token, headers=json),
        await client.post(VTP_PATH, content=wrong_token, headers={**json, "Authorization": "x"}),
        await client.post(VTP_PATH, content=wrong_token, headers={**json, "Authorization": ""}),
    ]
    assert [r.status_code for r in refused] == [401, 401, 401]
    assert await _inbox_count(db) == 0
    # The reference leaves open which place VTP fills with our secret: either one is enough.
    assert (await client.post(VTP_PATH, content=with_token, headers=json)).status_code == 200
    by_header = vtp_body("1800000000002", 105, at(0), token="short")
    assert await post_vtp(client, settings, by_header) == 200
    assert await _inbox_count(db) == 2


async def test_ghn_secret_is_the_path(
    client: httpx.AsyncClient, settings: Settings, db: Database
) -> None:
    body = orjson.dumps(
        {"OrderCode": "GS0000001", "Status": "picked", "Time": "2026-11-20T01:00:00.000Z"}
    )
    secret = settings.ghn_webhook_secret.get_secret_value()
    for path in (f"{GHN_PATH}/wrong-secret", f"{GHN_PATH}/", f"{GHN_PATH}/{secret}x"):
        assert (await client.post(path, content=body)).status_code == 401, path
    assert await _inbox_count(db) == 0
    assert (await client.post(f"{GHN_PATH}/{secret}", content=body)).status_code == 200
    assert await _inbox_count(db) == 1


# A representative code of every band and normalised status, through the whole path; the full
# table is checked against the mapping function in tests/integrations/carriers.
CODE_TO_STATUS = {
    -100: "pending",
    -108: "handed_off",
    104: "pending",
    105: "picked_up",
    101: "cancelled",
    107: "cancelled",
    200: "picked_up",
    201: "cancelled",
    302: "in_transit",
    320: "in_transit",
    403: "in_transit",
    500: "out_for_delivery",
    501: "delivered",
    502: "returning",
    503: "cancelled",
    504: "returned",
    505: "delivery_failed",
    507: "delivery_failed",
    515: "returning",
    570: "out_for_delivery",
}


async def test_status_codes_are_normalised_through_the_endpoint(
    client: httpx.AsyncClient, settings: Settings, db: Database
) -> None:
    secret = settings.viettel_post_webhook_secret.get_secret_value()
    for code in CODE_TO_STATUS:
        body = vtp_body(f"UNKNOWN{code}", code, at(1), token=secret)
        assert await post_vtp(client, settings, body) == 200
    await work_off_inbox(settings, db)
    async with db.session() as session:
        rows = (await session.execute(select(ShipmentEvent))).scalars().all()
    stored = {int(row.raw_status): row.status for row in rows}
    assert stored == CODE_TO_STATUS
    # None of these parcels is ours: kept, answered 200, and the outcome says so.
    assert {row.outcome for row in rows} == {"unknown_waybill"}
    assert set(await inbox_outcomes(db, "viettel_post")) == {"unknown_waybill"}


async def test_unknown_waybill_is_answered_200_and_recorded(
    client: httpx.AsyncClient, settings: Settings, db: Database
) -> None:
    secret = settings.viettel_post_webhook_secret.get_secret_value()
    body = vtp_body("1899999999999", 501, at(3), token=secret, reference="NOT-OURS")
    assert await post_vtp(client, settings, body) == 200
    await work_off_inbox(settings, db)
    assert await inbox_outcomes(db, "viettel_post") == ["unknown_waybill"]
    async with db.session() as session:
        event = (await session.execute(select(ShipmentEvent))).scalar_one()
    assert (event.shipment_id, event.waybill, event.status) == (None, "1899999999999", "delivered")


async def test_one_body_with_several_updates_is_one_row_applying_each(
    client: httpx.AsyncClient, settings: Settings, db: Database
) -> None:
    secret = settings.viettel_post_webhook_secret.get_secret_value()
    rows = [
        orjson.loads(vtp_body(f"18777777777{n}", 105, at(n), token=secret))["DATA"]
        for n in range(2)
    ]
    assert await post_vtp(client, settings, orjson.dumps({"DATA": rows, "TOKEN": secret})) == 200
    await work_off_inbox(settings, db)
    async with db.session() as session:
        waybills = (await session.execute(select(col(ShipmentEvent.waybill)))).scalars().all()
    assert sorted(waybills) == ["187777777770", "187777777771"]
    assert await inbox_outcomes(db, "viettel_post") == ["unknown_waybill:2"]


async def test_a_push_is_stored_once_capped_and_without_its_token(
    client: httpx.AsyncClient, settings: Settings, db: Database, redis_url: str
) -> None:
    """Failed on 95bffa4: N DATA items made N rows, each holding the whole body, and N jobs."""
    secret = settings.viettel_post_webhook_secret.get_secret_value()

    def push(items: int) -> bytes:
        rows = [orjson.loads(vtp_body(f"1866{n:08d}", 105, at(0), token=secret))["DATA"]
                for n in range(items)]  # fmt: skip
        return orjson.dumps({"DATA": rows, "TOKEN": secret})

    too_many = await client.post(VTP_PATH, content=push(150), headers={"Authorization": secret})
    assert too_many.status_code == 422
    assert too_many.json() == {"detail": "a push carries at most 100 updates; this one carried 150"}
    assert await _inbox_count(db) == 0

    queue = aioredis.Redis.from_url(redis_url)
    before = await queue.zcard(QUEUE_NAME)
    assert await post_vtp(client, settings, push(100)) == 200
    assert await _inbox_count(db) == 1
    for _ in range(100):  # the bell rings a few milliseconds after the answer
        if await queue.zcard(QUEUE_NAME) > before:
            break
        await asyncio.sleep(0.02)
    assert await queue.zcard(QUEUE_NAME) - before == 1
    await queue.aclose()
    async with db.session() as session:
        (stored,) = (await session.execute(select(InboundEvent))).scalars()
    assert secret.encode() not in stored.raw_body
    assert orjson.loads(stored.raw_body)["TOKEN"] == "[redacted]"
    await work_off_inbox(settings, db)
    assert await inbox_outcomes(db, "viettel_post") == ["unknown_waybill:100"]


async def test_unparseable_but_authentic_body_is_kept_and_answered_200(
    client: httpx.AsyncClient, settings: Settings, db: Database
) -> None:
    secret = settings.viettel_post_webhook_secret.get_secret_value()
    body = orjson.dumps({"DATA": {"ORDER_NUMBER": "18000"}, "TOKEN": secret})
    assert await post_vtp(client, settings, body) == 200
    await work_off_inbox(settings, db)
    assert await inbox_outcomes(db, "viettel_post") == ["unparseable"]


VTP_JOURNEY = [
    # (code pushed by the simulator, shipment status after it, event outcome)
    (100, "handed_off", "stale"),  # "received" after our booking: never backwards
    (105, "picked_up", "applied"),
    (200, "picked_up", "applied"),
    (300, "in_transit", "applied"),
    (400, "in_transit", "applied"),
    (509, "in_transit", "applied"),
    (500, "out_for_delivery", "applied"),
    (506, "delivery_failed", "applied"),
    (550, "out_for_delivery", "applied"),
    (501, "delivered", "applied"),
]


async def test_viettel_post_journey_through_the_simulator(
    client: httpx.AsyncClient,
    settings: Settings,
    db: Database,
    world: World,
    tiktok_sim: str,
    viettel_post_sim: str,
) -> None:
    parcel = await booked_parcel(settings, db, world, tiktok_sim)
    for step, (code, status, outcome) in enumerate(VTP_JOURNEY, start=1):
        extra = {"reason_code": 36} if code == 506 else {}
        await advance(viettel_post_sim, parcel.waybill, str(code), **extra)
        await delivered_webhooks(viettel_post_sim, step)
        await work_off_inbox(settings, db)
        shipment = await shipment_of(db, parcel.shipment_id)
        assert (shipment.status, shipment.carrier_status) == (
            status,
            str(code) if outcome == "applied" else None,
        ), code
        if code == 506:
            assert shipment.status_reason == "receiver unreachable"
    events = await events_of(db, parcel.shipment_id)
    assert [(int(e.raw_status), e.outcome) for e in events] == [
        (code, outcome) for code, _, outcome in VTP_JOURNEY
    ]
    order = await order_of(db, parcel.order_id)
    assert (order.fulfilment_status, order.payment_status) == ("delivered", "cod_collected")


async def test_ghn_path_books_tracks_and_delivers(
    client: httpx.AsyncClient,
    settings: Settings,
    db: Database,
    world: World,
    tiktok_sim: str,
    ghn_sim: str,
) -> None:
    parcel = await booked_parcel(settings, db, world, tiktok_sim, carrier="ghn")
    journey = [("picking", "handed_off"), ("picked", "picked_up"), ("transporting", "in_transit")]
    journey += [("delivering", "out_for_delivery"), ("delivered", "delivered")]
    for step, (raw, status) in enumerate(journey, start=1):
        await advance(ghn_sim, parcel.waybill, raw)
        await delivered_webhooks(ghn_sim, step)
        await work_off_inbox(settings, db)
        assert (await shipment_of(db, parcel.shipment_id)).status == status, raw
    shipment = await shipment_of(db, parcel.shipment_id)
    assert (shipment.carrier_status, shipment.cod_collected_vnd) == ("delivered", parcel.cod_vnd)
    order = await order_of(db, parcel.order_id)
    assert (order.fulfilment_status, order.payment_status) == ("delivered", "cod_collected")
    assert set(await inbox_outcomes(db, "ghn")) == {"applied", "stale"}
    async with db.session() as session:
        sources = await session.scalar(
            select(func.count()).where(col(InboundEvent.source) == "ghn")
        )
    assert sources == len(journey)


async def test_an_unsigned_ghn_delivery_counts_only_once_ghn_confirms_it(
    client: httpx.AsyncClient,
    settings: Settings,
    db: Database,
    world: World,
    tiktok_sim: str,
    ghn_sim: str,
) -> None:
    parcel = await booked_parcel(settings, db, world, tiktok_sim, carrier="ghn")
    # Whoever learned the secret path claims a delivery with a COD amount of their choosing.
    forged = {
        "OrderCode": parcel.waybill,
        "ClientOrderCode": parcel.reference,
        "Status": "delivered",
        "Type": "switch_status",
        "CODAmount": 1,
        "Time": "2026-11-20T01:00:00.000Z",
    }
    secret = settings.ghn_webhook_secret.get_secret_value()
    posted = await client.post(f"{GHN_PATH}/{secret}", content=orjson.dumps(forged))
    assert posted.status_code == 200
    await work_off_inbox(settings, db)
    shipment = await shipment_of(db, parcel.shipment_id)
    assert (shipment.status, shipment.cod_collected_vnd) == ("handed_off", None)
    order = await order_of(db, parcel.order_id)
    assert (order.fulfilment_status, order.payment_status) == ("handed_off", "cod_pending")

    # GHN itself reports the delivery: its own API agrees, and the amount is GHN's.
    for step, raw in enumerate(("picked", "delivering", "delivered"), start=1):
        await advance(ghn_sim, parcel.waybill, raw)
        await delivered_webhooks(ghn_sim, step)
        await work_off_inbox(settings, db)
    delivered = await shipment_of(db, parcel.shipment_id)
    assert (delivered.status, delivered.cod_collected_vnd) == ("delivered", parcel.cod_vnd)
    stats = await sim_call(ghn_sim, "GET", "/stats")
    assert stats["calls"]["detail-by-client-code"] == 2  # the forged claim and the real one
