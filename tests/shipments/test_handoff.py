"""Confirmed orders booked with the carrier exactly once: simulators over HTTP, burst workers."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from arq import create_pool
from arq.connections import RedisSettings
from arq.constants import in_progress_key_prefix
from sqlalchemy import text

from api.cooperatives.models import Cooperative
from api.core.config import Settings
from api.core.db import Database
from api.core.jobs import Job
from api.core.queue import JobQueue, PendingJob
from api.shipments.outbox import handoff_job_id
from tests.factories import World
from tests.ingestion.rig import (
    connect_tiktok_shop,
    drain,
    line,
    order_by_platform_id,
    place_order,
    run_worker,
)
from tests.shipments.rig import (
    CarrierSim,
    confirmed_order,
    event_details,
    event_kinds,
    order_of,
    outbox_row,
    set_shipment,
    shipment_of,
    stored_order,
    use_carrier,
)
from workers.context import shutdown, startup
from workers.heartbeat import ALIVE_PREFIX
from workers.jobs.handoff import sweep_shipments

UNIT_PRICE, SHIPPING_WEIGHT_G = 180_000, 5_200  # the factory variant: Gạo, túi 5 kg


@pytest.fixture
def vtp(viettel_post_sim: str) -> CarrierSim:
    return CarrierSim(viettel_post_sim)


@pytest.fixture
def ghn(ghn_sim: str) -> CarrierSim:
    return CarrierSim(ghn_sim)


async def _coop(db: Database, cooperative_id: int) -> Cooperative:
    async with db.session() as session:
        coop = await session.get(Cooperative, cooperative_id)
    assert coop is not None
    return coop


async def test_a_confirmed_cod_order_is_booked_with_exactly_what_the_buyer_owes(
    settings: Settings, world: World, db: Database, tiktok_sim: str, vtp: CarrierSim
) -> None:
    order = await confirmed_order(settings, db, world, tiktok_sim, shipping_fee=30_000)
    assert order.id is not None
    reference = f"PHN-{order.id}"
    sent = await vtp.sent(reference)
    coop = await _coop(db, world.coop_a)

    assert sent["ORDER_NUMBER"] == reference
    assert sent["CHECK_UNIQUE"] is True
    # COD: collect the order total (goods + the buyer's shipping) and nothing on top of it.
    assert (sent["ORDER_PAYMENT"], sent["MONEY_COLLECTION"]) == (3, 2 * UNIT_PRICE + 30_000)
    assert sent["PRODUCT_WEIGHT"] == 2 * SHIPPING_WEIGHT_G
    assert sent["PRODUCT_PRICE"] == 2 * UNIT_PRICE
    assert sent["ORDER_SERVICE"] == "VCN"  # chosen through getPriceAll
    assert sent["LIST_ITEM"] == [
        {
            "PRODUCT_NAME": sent["LIST_ITEM"][0]["PRODUCT_NAME"],
            "PRODUCT_PRICE": UNIT_PRICE,
            "PRODUCT_WEIGHT": SHIPPING_WEIGHT_G,
            "PRODUCT_QUANTITY": 2,
        }
    ]
    assert (sent["SENDER_FULLNAME"], sent["SENDER_PHONE"]) == (coop.name, coop.phone)
    assert coop.ward_name in sent["SENDER_ADDRESS"]
    assert (sent["RECEIVER_FULLNAME"], sent["RECEIVER_PHONE"]) == (
        order.buyer_name,
        order.buyer_phone,
    )
    assert sent["RECEIVER_ADDRESS"] == order.ship_full_address  # the platform's text, intact

    parcel = await vtp.parcel(reference)
    shipment = await shipment_of(db, order.id)
    assert (shipment.status, shipment.waybill, shipment.fee_vnd, shipment.sort_code) == (
        "handed_off",
        parcel["waybill"],
        parcel["fee_vnd"],
        parcel["sort_code"],
    )
    assert (shipment.carrier, shipment.reference, shipment.weight_g) == (
        "viettel_post",
        reference,
        2 * SHIPPING_WEIGHT_G,
    )
    assert shipment.cod_amount_vnd == 2 * UNIT_PRICE + 30_000
    assert shipment.booked_at is not None
    assert shipment.booking_attempts == 1
    assert (await order_of(db, order.id)).fulfilment_status == "handed_off"
    kinds = await event_kinds(db, order.id)
    assert kinds.index("shipment_created") < kinds.index("handed_off")


async def test_a_prepaid_order_is_booked_without_collection(
    settings: Settings, world: World, db: Database, tiktok_sim: str, vtp: CarrierSim
) -> None:
    order = await confirmed_order(settings, db, world, tiktok_sim, is_cod=False)
    sent = await vtp.sent(f"PHN-{order.id}")
    assert (sent["ORDER_PAYMENT"], sent["MONEY_COLLECTION"]) == (1, 0)
    assert order.id is not None
    assert (await shipment_of(db, order.id)).cod_amount_vnd == 0


async def test_the_job_run_twice_at_once_and_again_later_books_once(
    settings: Settings, world: World, db: Database, tiktok_sim: str, vtp: CarrierSim, redis_url: str
) -> None:
    await connect_tiktok_shop(db, world.coop_a)
    await vtp.configure(latency_ms=300)  # the first booking takes ~2 s: the twins overlap it
    await place_order(
        tiktok_sim, [line(world.product_a.variants[0].sku)], status="AWAITING_SHIPMENT"
    )
    await drain(tiktok_sim)
    redis = aioredis.Redis.from_url(redis_url)
    queue = JobQueue(redis)
    # Shipment ids restart at 1 in every test; the twins start while the first booking runs.
    twins = [
        PendingJob(Job.HAND_OFF_SHIPMENT, (1,), f"twin-{n}", defer_seconds=0.8) for n in range(2)
    ]
    await queue.send(twins)
    await asyncio.gather(run_worker(settings), run_worker(settings))  # two worker processes
    await queue.send([PendingJob(Job.HAND_OFF_SHIPMENT, (1,), "again")])
    await run_worker(settings)
    await redis.aclose()

    summary = await vtp.bookings()
    assert (summary["total"], summary["duplicates"]) == (1, 0)
    assert summary["duplicate_attempts_rejected"] == 0  # the twins never even asked the carrier
    assert (await vtp.call("GET", "/stats"))["calls"]["createOrder"] == 1
    shipment = await shipment_of(db, 1)
    assert (shipment.status, shipment.waybill) == ("handed_off", summary["bookings"][0]["waybill"])


async def test_a_timeout_after_the_carrier_accepted_adopts_that_booking(
    settings: Settings, world: World, db: Database, tiktok_sim: str, vtp: CarrierSim
) -> None:
    # The carrier stores the parcel, then answers after 1.5 s; we give up after 0.5 s.
    await vtp.configure(timeout_rate=1.0, timeout_sleep_s=1.5)
    impatient = settings.model_copy(update={"carrier_timeout_s": 0.5})
    order = await confirmed_order(impatient, db, world, tiktok_sim)
    assert order.id is not None

    summary = await vtp.bookings()
    assert (summary["total"], summary["duplicates"]) == (1, 0)
    stats = (await vtp.call("GET", "/stats"))["calls"]
    assert stats["createOrder"] == 1
    assert stats["getOrderInfoByOrderNumber"] >= 1
    shipment = await shipment_of(db, order.id)
    assert (shipment.status, shipment.waybill) == ("handed_off", summary["bookings"][0]["waybill"])
    [handed] = await event_details(db, order.id, "handed_off")
    assert handed["found_existing_booking"] is True


async def test_carrier_errors_are_retried_with_backoff_then_booked(
    settings: Settings, world: World, db: Database, tiktok_sim: str, vtp: CarrierSim
) -> None:
    await connect_tiktok_shop(db, world.coop_a)
    await vtp.configure(failure_rate=1.0)  # every API call answers 500 "System error"
    await place_order(
        tiktok_sim, [line(world.product_a.variants[0].sku)], status="AWAITING_SHIPMENT"
    )
    await drain(tiktok_sim)
    worker = asyncio.create_task(run_worker(settings))
    for _ in range(200):
        await asyncio.sleep(0.05)
        try:
            # The attempt is counted before its call; the failure is written after it.
            if (await shipment_of(db, 1)).status_reason is not None:
                break
        except AssertionError:
            continue
    pending = await shipment_of(db, 1)
    assert pending.status == "pending"
    assert pending.booking_error is None
    assert pending.status_reason is not None
    assert "retrying" in pending.status_reason
    await vtp.configure(failure_rate=0.0)
    await worker  # the deferred retry runs in the same burst
    shipment = await shipment_of(db, 1)
    assert (shipment.status, shipment.booking_attempts, shipment.status_reason) == (
        "handed_off",
        2,
        None,
    )
    assert (await vtp.bookings())["total"] == 1


async def test_a_refused_address_waits_for_a_person_then_books_after_the_fix(
    settings: Settings,
    world: World,
    db: Database,
    tiktok_sim: str,
    vtp: CarrierSim,
    client: httpx.AsyncClient,
) -> None:
    # A pre-2025 ward: merged into Phường Ba Đình, so the carrier's 2025 list no longer has it.
    old = {"province": "Thành phố Hà Nội", "commune": "Phường Phúc Xá", "street": "Số 5 ngõ 12"}
    order = await confirmed_order(settings, db, world, tiktok_sim, address=old)
    assert order.id is not None
    shipment = await shipment_of(db, order.id)
    assert (shipment.status, shipment.waybill) == ("pending", None)
    assert shipment.booking_error is not None
    assert "Phúc Xá" in shipment.booking_error
    assert (await order_of(db, order.id)).fulfilment_status == "pending_shipment"
    assert (await vtp.bookings())["total"] == 0
    headers = world.users["logistics"].headers
    attention = await client.get("/api/v1/shipments?needs_attention=true", headers=headers)
    assert [s["id"] for s in attention.json()["items"]] == [shipment.id]

    fix = {"address": {"province": "Hà Nội", "ward": "Ba Đình", "street": "Số 5 ngõ 12"}}
    patched = await client.patch(f"/api/v1/shipments/{shipment.id}", json=fix, headers=headers)
    assert patched.status_code == 200, patched.text
    assert patched.json()["receiver_ward"] == "Phường Ba Đình"
    assert patched.json()["booking_error"] == shipment.booking_error  # PATCH clears nothing else
    retried = await client.post(f"/api/v1/shipments/{shipment.id}/retry", headers=headers)
    assert retried.status_code == 202
    assert retried.json()["booking_error"] is None
    await run_worker(settings)

    booked = await shipment_of(db, order.id)
    assert (booked.status, booked.booking_attempts) == ("handed_off", 2)
    sent = await vtp.sent(f"PHN-{order.id}")
    assert "Phường Ba Đình" in sent["RECEIVER_ADDRESS"]
    assert "Phúc Xá" not in sent["RECEIVER_ADDRESS"]
    kinds = await event_kinds(db, order.id)
    for kind in ("shipment_booking_refused", "shipment_receiver_changed", "handed_off"):
        assert kind in kinds
    assert (await order_of(db, order.id)).fulfilment_status == "handed_off"


async def test_a_ghn_cooperative_is_booked_with_ghn(
    settings: Settings,
    world: World,
    db: Database,
    tiktok_sim: str,
    ghn: CarrierSim,
    vtp: CarrierSim,
) -> None:
    await use_carrier(db, world.coop_a, "ghn")
    order = await confirmed_order(settings, db, world, tiktok_sim, shipping_fee=25_000)
    assert order.id is not None
    sent = await ghn.sent(f"PHN-{order.id}")
    assert sent["client_order_code"] == f"PHN-{order.id}"
    assert (sent["cod_amount"], sent["payment_type_id"]) == (2 * UNIT_PRICE + 25_000, 1)
    assert sent["weight"] == 2 * SHIPPING_WEIGHT_G
    assert (sent["to_name"], sent["to_phone"]) == (order.buyer_name, order.buyer_phone)
    assert (sent["to_province_name"], sent["to_ward_name"]) == (
        order.ship_province,
        order.ship_ward,
    )
    shipment = await shipment_of(db, order.id)
    parcel = await ghn.parcel(f"PHN-{order.id}")
    assert (shipment.carrier, shipment.status, shipment.waybill, shipment.sort_code) == (
        "ghn",
        "handed_off",
        parcel["waybill"],
        parcel["sort_code"],
    )
    assert (await vtp.bookings())["total"] == 0


async def _sweep_now(redis_url: str) -> None:
    # arq keeps cron schedules on module-level objects, so only the first worker of a process
    # runs "at startup" crons: ring the sweeper by name instead.
    redis = aioredis.Redis.from_url(redis_url)
    await JobQueue(redis).send([PendingJob(Job.SWEEP_SHIPMENTS, ())])
    await redis.aclose()


async def test_a_lost_enqueue_is_found_by_the_sweeper(
    settings: Settings, world: World, db: Database, vtp: CarrierSim, redis_url: str
) -> None:
    # Written through the outbox by a session without a queue: the hand-off was never sent.
    shipment_id = await outbox_row(db, await stored_order(db, world, world.coop_a))
    await _sweep_now(redis_url)
    await run_worker(settings.model_copy(update={"shipment_sweep_after_seconds": 0}))
    assert (await shipment_of(db, 1)).waybill is not None
    assert (await vtp.bookings())["total"] == 1
    assert shipment_id == 1


async def test_a_young_row_is_left_to_its_own_job(
    settings: Settings, world: World, db: Database, vtp: CarrierSim, redis_url: str
) -> None:
    await outbox_row(db, await stored_order(db, world, world.coop_a))
    await _sweep_now(redis_url)
    # Sweeps only rows idle for 30 s here.
    await run_worker(settings.model_copy(update={"shipment_sweep_after_seconds": 30}))
    assert (await shipment_of(db, 1)).status == "pending"
    assert (await vtp.bookings())["total"] == 0


async def _rescue_before_the_mark_expires(
    settings: Settings, db: Database, redis_url: str, mark: str, orders: list[int]
) -> None:
    """Run a worker until the sweeper's rescue hands the orders off while arq's in-progress
    mark still stands; then drop the mark (what its expiry would do, without waiting for it)
    and let the same worker run the stale job at last."""
    worker = asyncio.create_task(
        run_worker(settings.model_copy(update={"shipment_sweep_after_seconds": 0}))
    )
    try:
        for _ in range(400):  # bounded: the rescue takes a few polls
            statuses = [(await shipment_of(db, o)).status for o in orders]
            if statuses == ["handed_off"] * len(orders):
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError(f"not rescued while the mark stood: {statuses}")
        redis = aioredis.Redis.from_url(redis_url)
        assert await redis.delete(mark) == 1, "the stale job's mark was gone before the rescue"
        await redis.aclose()
    except BaseException:
        worker.cancel()
        raise
    await worker


async def test_a_booking_stranded_by_a_killed_worker_is_rescued(
    settings: Settings, world: World, db: Database, vtp: CarrierSim, redis_url: str
) -> None:
    shipment_id = await outbox_row(db, await stored_order(db, world, world.coop_a))
    redis = aioredis.Redis.from_url(redis_url)
    # What a SIGKILLed worker leaves behind: its job queued and marked in progress; arq would
    # not run it again before the in-progress mark expires (job_timeout + 10 s in production).
    job_id = handoff_job_id(shipment_id)
    await JobQueue(redis).send([PendingJob(Job.HAND_OFF_SHIPMENT, (shipment_id,), job_id)])
    await redis.set(in_progress_key_prefix + job_id, b"1", px=60_000)
    await redis.aclose()
    await _sweep_now(redis_url)
    await _rescue_before_the_mark_expires(
        settings, db, redis_url, in_progress_key_prefix + job_id, [1]
    )

    shipment = await shipment_of(db, 1)
    assert (shipment.status, shipment.booking_attempts) == ("handed_off", 1)
    summary = await vtp.bookings()
    assert (summary["total"], summary["duplicate_attempts_rejected"]) == (1, 0)


async def _batch_of_rows(db: Database, world: World, redis_url: str, count: int) -> list[int]:
    """Outbox rows tagged with their batch job, the job queued as the intake queues it."""
    ids = [await outbox_row(db, await stored_order(db, world, world.coop_a)) for _ in range(count)]
    for shipment_id in ids:
        await set_shipment(db, shipment_id, handoff_job_id="handoffs:order-1")
    redis = aioredis.Redis.from_url(redis_url)
    await JobQueue(redis).send([PendingJob(Job.HAND_OFF_SHIPMENTS, (ids,), "handoffs:order-1")])
    await redis.aclose()
    return ids


async def test_one_batch_job_books_its_shipments_once_each(
    settings: Settings, world: World, db: Database, vtp: CarrierSim, redis_url: str
) -> None:
    ids = await _batch_of_rows(db, world, redis_url, 5)
    await run_worker(settings)
    await run_worker(settings)  # a second run has nothing left to do
    assert [(await shipment_of(db, o)).status for o in range(1, 6)] == ["handed_off"] * 5
    summary = await vtp.bookings()
    assert (summary["total"], summary["duplicate_attempts_rejected"]) == (5, 0)
    assert (await vtp.call("GET", "/stats"))["logins"] == 1
    assert ids == [1, 2, 3, 4, 5]


async def test_rows_whose_batch_is_queued_or_alive_are_not_offered_twice(
    settings: Settings, world: World, db: Database, redis_url: str
) -> None:
    await _batch_of_rows(db, world, redis_url, 3)
    ctx: dict[str, Any] = {
        "redis": await create_pool(RedisSettings.from_dsn(redis_url)),
        "settings": settings.model_copy(update={"shipment_sweep_after_seconds": 0}),
    }
    await startup(ctx)
    try:
        assert await sweep_shipments(ctx) == 0  # queued: the batch will book them
        await ctx["redis"].set(in_progress_key_prefix + "handoffs:order-1", b"1", px=60_000)
        await ctx["redis"].set(ALIVE_PREFIX + "handoffs:order-1", b"1", px=60_000)
        assert await sweep_shipments(ctx) == 0  # running, with a heartbeat
        await ctx["redis"].delete(ALIVE_PREFIX + "handoffs:order-1")
        assert await sweep_shipments(ctx) == 3  # marked running, no heartbeat: its worker died
        assert await sweep_shipments(ctx) == 0  # rescued: they wait for their new batch
    finally:
        await shutdown(ctx)
        await ctx["redis"].aclose()


async def test_a_batch_stranded_by_a_killed_worker_is_rescued(
    settings: Settings, world: World, db: Database, vtp: CarrierSim, redis_url: str
) -> None:
    await _batch_of_rows(db, world, redis_url, 3)
    redis = aioredis.Redis.from_url(redis_url)
    # The batch job marked in progress, yet holding none of its rows: its worker is gone.
    mark = in_progress_key_prefix + "handoffs:order-1"
    await redis.set(mark, b"1", px=60_000)
    await redis.aclose()
    await _sweep_now(redis_url)
    await _rescue_before_the_mark_expires(settings, db, redis_url, mark, [1, 2, 3])
    assert [(await shipment_of(db, o)).status for o in range(1, 4)] == ["handed_off"] * 3
    summary = await vtp.bookings()
    assert (summary["total"], summary["duplicate_attempts_rejected"]) == (3, 0)


async def test_a_worker_logs_in_once_for_all_its_bookings(
    settings: Settings, world: World, db: Database, vtp: CarrierSim, redis_url: str
) -> None:
    ids = [await outbox_row(db, await stored_order(db, world, world.coop_a)) for _ in range(3)]
    redis = aioredis.Redis.from_url(redis_url)
    await JobQueue(redis).send(
        [PendingJob(Job.HAND_OFF_SHIPMENT, (i,), handoff_job_id(i)) for i in ids]
    )
    await redis.aclose()
    await run_worker(settings)

    assert (await vtp.bookings())["total"] == 3
    stats = await vtp.call("GET", "/stats")
    # The client (its token and the 2025 address lists) lives as long as the worker.
    assert stats["logins"] == 1
    assert stats["calls"]["listProvinceNew"] == 1


async def test_an_unconfigured_carrier_is_reported_not_retried(
    settings: Settings, world: World, db: Database, vtp: CarrierSim, redis_url: str
) -> None:
    shipment_id = await outbox_row(db, await stored_order(db, world, world.coop_a))
    redis = aioredis.Redis.from_url(redis_url)
    await JobQueue(redis).send(
        [PendingJob(Job.HAND_OFF_SHIPMENT, (shipment_id,), "no-credentials")]
    )
    await redis.aclose()
    await run_worker(settings.model_copy(update={"viettel_post_username": ""}))

    shipment = await shipment_of(db, 1)
    assert shipment.status == "pending"
    assert shipment.booking_error is not None
    assert "VIETTEL_POST_USERNAME" in shipment.booking_error
    assert (await vtp.call("GET", "/stats"))["logins"] == 0


async def test_the_carrier_gets_the_buyer_phone_in_domestic_form_and_the_order_keeps_it(
    settings: Settings, world: World, db: Database, tiktok_sim: str, vtp: CarrierSim
) -> None:
    buyer = {"name": "Lò Thị Mai", "phone": "(+84)912345678"}
    order = await confirmed_order(settings, db, world, tiktok_sim, buyer=buyer)
    assert order.id is not None
    assert (await vtp.sent(f"PHN-{order.id}"))["RECEIVER_PHONE"] == "0912345678"
    assert (await shipment_of(db, order.id)).receiver_phone == "0912345678"
    assert order.buyer_phone == "(+84)912345678"  # the platform's own text stays on the order


async def test_viettel_post_service_is_chosen_once_per_route(
    settings: Settings, world: World, db: Database, vtp: CarrierSim, redis_url: str
) -> None:
    ids = [await outbox_row(db, await stored_order(db, world, world.coop_a)) for _ in range(3)]
    redis = aioredis.Redis.from_url(redis_url)
    await JobQueue(redis).send(
        [PendingJob(Job.HAND_OFF_SHIPMENT, (i,), handoff_job_id(i)) for i in ids]
    )
    await redis.aclose()
    await run_worker(settings)
    assert (await vtp.bookings())["total"] == 3
    assert {(await vtp.sent(f"PHN-{o}"))["ORDER_SERVICE"] for o in range(1, 4)} == {"VCN"}
    assert (await vtp.call("GET", "/stats"))["calls"]["getPriceAll"] == 1


async def test_a_cooperative_chooses_its_carrier_through_the_api(
    settings: Settings,
    world: World,
    db: Database,
    tiktok_sim: str,
    ghn: CarrierSim,
    client: httpx.AsyncClient,
) -> None:
    headers = world.users["coop_admin"].headers
    url = f"/api/v1/cooperatives/{world.coop_a}"
    bad = await client.patch(url, json={"carrier": "dhl"}, headers=headers)
    assert bad.status_code == 422
    changed = await client.patch(url, json={"carrier": "ghn"}, headers=headers)
    assert changed.status_code == 200, changed.text
    assert changed.json()["carrier"] == "ghn"
    order = await confirmed_order(settings, db, world, tiktok_sim)
    assert order.id is not None
    assert (await shipment_of(db, order.id)).carrier == "ghn"
    assert (await ghn.bookings())["total"] == 1


async def test_an_unbooked_shipment_is_rerouted_to_the_other_carrier(
    settings: Settings,
    world: World,
    db: Database,
    vtp: CarrierSim,
    ghn: CarrierSim,
    client: httpx.AsyncClient,
) -> None:
    shipment_id = await outbox_row(db, await stored_order(db, world, world.coop_a))
    headers = world.users["logistics"].headers
    url = f"/api/v1/shipments/{shipment_id}/reroute"
    assert (await client.post(url, json={"carrier": "dhl"}, headers=headers)).status_code == 422
    moved = await client.post(url, json={"carrier": "ghn"}, headers=headers)
    assert moved.status_code == 202, moved.text
    assert moved.json()["carrier"] == "ghn"
    await run_worker(settings)

    shipment = await shipment_of(db, shipment_id)
    assert (shipment.carrier, shipment.status) == ("ghn", "handed_off")
    assert ((await ghn.bookings())["total"], (await vtp.bookings())["total"]) == (1, 0)
    assert "shipment_rerouted" in await event_kinds(db, shipment.order_id)
    again = await client.post(url, json={"carrier": "viettel_post"}, headers=headers)
    assert again.status_code == 409  # booked: only a cancel can take it back


async def test_a_waybill_another_shipment_holds_parks_the_parcel_not_the_job(
    settings: Settings,
    world: World,
    db: Database,
    tiktok_sim: str,
    vtp: CarrierSim,
    redis_url: str,
) -> None:
    # What a carrier reset (or a simulator restarted over a kept database) looks like: the
    # carrier answers a booking with a waybill one of our other shipments already holds.
    first = await confirmed_order(settings, db, world, tiktok_sim)
    sku = world.product_a.variants[0].sku
    placed = await place_order(tiktok_sim, [line(sku, 1)], status="AWAITING_SHIPMENT")
    await drain(tiktok_sim)
    await run_worker(settings)
    second = await order_by_platform_id(db, placed["order_id"])
    assert second is not None
    assert first.id is not None
    assert second.id is not None
    one, two = await shipment_of(db, first.id), await shipment_of(db, second.id)
    assert one.id is not None
    assert two.id is not None
    assert two.waybill is not None
    clashing = two.waybill
    await set_shipment(db, two.id, waybill=None, status="pending", booked_at=None)
    await set_shipment(db, one.id, waybill=clashing)
    async with db.session() as session:
        await session.execute(
            text("UPDATE orders SET fulfilment_status = 'pending_shipment' WHERE id = :id"),
            {"id": second.id},
        )
        await session.commit()

    # The carrier already has PHN-<second>: its duplicate answer is adopted, with that waybill.
    redis = aioredis.Redis.from_url(redis_url)
    await JobQueue(redis).send([PendingJob(Job.HAND_OFF_SHIPMENT, (two.id,), "clash")])
    await redis.aclose()
    await run_worker(settings)

    parked = await shipment_of(db, second.id)
    assert (parked.status, parked.waybill) == ("pending", None)
    assert parked.booking_error is not None
    assert clashing in parked.booking_error
    assert "shipment_booking_refused" in await event_kinds(db, second.id)
    assert (await shipment_of(db, first.id)).waybill == clashing
