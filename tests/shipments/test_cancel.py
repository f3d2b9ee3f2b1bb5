"""Cancelling a shipment: at the carrier before pickup, refused with a reason after it."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from api.core.config import Settings
from api.core.db import Database
from tests.factories import World
from tests.ingestion.rig import drain, run_worker, sim_post, stock
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
)
from tests.shipments.tracking_rig import at, post_vtp, vtp_body, work_off_inbox


@pytest.fixture
def vtp(viettel_post_sim: str) -> CarrierSim:
    return CarrierSim(viettel_post_sim)


async def test_cancel_before_pickup_cancels_at_the_carrier(
    settings: Settings,
    world: World,
    db: Database,
    tiktok_sim: str,
    vtp: CarrierSim,
    client: httpx.AsyncClient,
) -> None:
    order = await confirmed_order(settings, db, world, tiktok_sim)
    assert order.id is not None
    shipment = await shipment_of(db, order.id)
    headers = world.users["logistics"].headers
    response = await client.post(f"/api/v1/shipments/{shipment.id}/cancel", headers=headers)
    assert response.status_code == 202, response.text
    await run_worker(settings)

    cancelled = await shipment_of(db, order.id)
    assert cancelled.status == "cancelled"
    assert cancelled.status_reason == "cancelled at the carrier before pickup"
    assert (await vtp.parcel(f"PHN-{order.id}"))["status"] == "107"  # VTP: cancelled via API
    # The order is still wanted: its stock stays reserved for a new shipment.
    assert (await order_of(db, order.id)).fulfilment_status == "reserved"
    kinds = await event_kinds(db, order.id)
    assert kinds.index("shipment_cancel_requested") < kinds.index("shipment_cancelled")


async def test_an_unbooked_shipment_is_cancelled_here_without_the_carrier(
    world: World, db: Database, vtp: CarrierSim, client: httpx.AsyncClient
) -> None:
    shipment_id = await outbox_row(db, await stored_order(db, world, world.coop_a))
    headers = world.users["admin"].headers
    response = await client.post(f"/api/v1/shipments/{shipment_id}/cancel", headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"
    assert (await vtp.bookings())["total"] == 0
    again = await client.post(f"/api/v1/shipments/{shipment_id}/cancel", headers=headers)
    assert again.status_code == 409


async def test_cancel_after_the_courier_took_the_parcel_is_refused_by_the_carrier(
    settings: Settings,
    world: World,
    db: Database,
    tiktok_sim: str,
    vtp: CarrierSim,
    client: httpx.AsyncClient,
) -> None:
    order = await confirmed_order(settings, db, world, tiktok_sim)
    assert order.id is not None
    # The courier picked it up, but its webhook has not reached us yet.
    await vtp.configure(webhook_target_url=None)
    await vtp.advance(reference=f"PHN-{order.id}", status="105")
    shipment = await shipment_of(db, order.id)
    headers = world.users["logistics"].headers
    response = await client.post(f"/api/v1/shipments/{shipment.id}/cancel", headers=headers)
    assert response.status_code == 202
    await run_worker(settings)

    refused = await shipment_of(db, order.id)
    assert refused.status == "handed_off"
    assert refused.status_reason is not None
    assert refused.status_reason.startswith("carrier refused to cancel")
    assert "105" in refused.status_reason  # the carrier's own words: the status it is in
    assert (await vtp.parcel(f"PHN-{order.id}"))["status"] == "105"
    [detail] = await event_details(db, order.id, "shipment_cancel_refused")
    assert detail["reason"] == refused.status_reason


async def test_cancel_of_a_picked_up_parcel_answers_409_with_the_reason(
    world: World, db: Database, client: httpx.AsyncClient
) -> None:
    shipment_id = await outbox_row(db, await stored_order(db, world, world.coop_a))
    await set_shipment(db, shipment_id, status="picked_up", waybill="1800000000042")
    headers = world.users["logistics"].headers
    response = await client.post(f"/api/v1/shipments/{shipment_id}/cancel", headers=headers)
    assert response.status_code == 409
    assert "already has the parcel" in response.json()["detail"]
    assert "picked_up" in response.json()["detail"]


async def test_an_order_cancelled_on_the_platform_cancels_its_booking(
    settings: Settings, world: World, db: Database, tiktok_sim: str, vtp: CarrierSim
) -> None:
    variant = world.product_a.variants[0]
    order = await confirmed_order(settings, db, world, tiktok_sim)
    assert order.id is not None
    assert await stock(db, variant.id) == (100, 2)
    path = f"/_sim/orders/{order.platform_order_id}/status"
    await sim_post(tiktok_sim, path, {"statuses": ["CANCELLED"]})
    await drain(tiktok_sim)
    await run_worker(settings)

    assert (await shipment_of(db, order.id)).status == "cancelled"
    assert (await vtp.parcel(f"PHN-{order.id}"))["status"] == "107"
    stored = await order_of(db, order.id)
    assert (stored.status, stored.fulfilment_status) == ("cancelled", "cancelled")
    assert await stock(db, variant.id) == (100, 0)


async def test_an_order_cancelled_after_pickup_keeps_its_parcel_and_says_why(
    settings: Settings, world: World, db: Database, tiktok_sim: str, vtp: CarrierSim
) -> None:
    variant = world.product_a.variants[0]
    order = await confirmed_order(settings, db, world, tiktok_sim)
    assert order.id is not None
    shipment = await shipment_of(db, order.id)
    assert shipment.id is not None
    await vtp.configure(webhook_target_url=None)
    await vtp.advance(reference=f"PHN-{order.id}", status="105")
    await set_shipment(db, shipment.id, status="picked_up")  # as tracking records the pickup
    path = f"/_sim/orders/{order.platform_order_id}/status"
    await sim_post(tiktok_sim, path, {"statuses": ["CANCELLED"]})
    await drain(tiktok_sim)
    await run_worker(settings)

    kept = await shipment_of(db, order.id)
    assert kept.status == "picked_up"
    assert kept.status_reason is not None
    assert kept.status_reason.startswith("order cancelled: cannot cancel")
    [detail] = await event_details(db, order.id, "shipment_cancel_refused")
    assert detail["status"] == "picked_up"
    assert "delivered or come back as a return" in detail["reason"]
    stored = await order_of(db, order.id)
    assert stored.status == "cancelled"
    assert stored.fulfilment_status != "cancelled"  # the goods are on the road
    # Not released: the units left with the courier and come back only with a return.
    assert await stock(db, variant.id) == (100, 2)
    assert (await vtp.parcel(f"PHN-{order.id}"))["status"] == "105"


async def test_a_cancel_the_courier_beats_keeps_stock_true_through_the_pickup(
    settings: Settings,
    world: World,
    db: Database,
    tiktok_sim: str,
    vtp: CarrierSim,
    client: httpx.AsyncClient,
) -> None:
    variant = world.product_a.variants[0]
    order = await confirmed_order(settings, db, world, tiktok_sim)
    assert order.id is not None
    shipment = await shipment_of(db, order.id)
    assert shipment.waybill is not None
    # The courier takes the parcel; its webhook has not reached us when the buyer cancels.
    await vtp.configure(webhook_target_url=None)
    await vtp.advance(reference=f"PHN-{order.id}", status="105")
    path = f"/_sim/orders/{order.platform_order_id}/status"
    await sim_post(tiktok_sim, path, {"statuses": ["CANCELLED"]})
    await drain(tiktok_sim)
    await run_worker(settings)

    # The carrier refused the cancel: the units are still reserved, as the parcel is real.
    refused = await shipment_of(db, order.id)
    assert refused.status_reason is not None
    assert refused.status_reason.startswith("carrier refused to cancel")
    stored = await order_of(db, order.id)
    assert (stored.status, stored.fulfilment_status) == ("cancelled", "handed_off")
    assert await stock(db, variant.id) == (100, 2)
    kinds = await event_kinds(db, order.id)
    assert "stock_released" not in kinds

    # The pickup arrives: the units leave on-hand for good, as with any parcel.
    body = vtp_body(shipment.waybill, 105, at(1), token="", reference=shipment.reference)
    assert await post_vtp(client, settings, body) == 200
    await work_off_inbox(settings, db)
    assert await stock(db, variant.id) == (98, 0)
    assert (await order_of(db, order.id)).fulfilment_status == "shipped"


async def test_until_the_carrier_answers_the_order_says_a_cancel_is_requested(
    settings: Settings, world: World, db: Database, tiktok_sim: str, vtp: CarrierSim
) -> None:
    variant = world.product_a.variants[0]
    order = await confirmed_order(settings, db, world, tiktok_sim)
    assert order.id is not None
    await vtp.configure(failure_rate=1.0)  # the carrier is down: the cancel job keeps retrying
    path = f"/_sim/orders/{order.platform_order_id}/status"
    await sim_post(tiktok_sim, path, {"statuses": ["CANCELLED"]})
    await drain(tiktok_sim)
    worker = asyncio.create_task(run_worker(settings))
    for _ in range(400):
        if (await order_of(db, order.id)).status == "cancelled":
            break
        await asyncio.sleep(0.02)
    stored = await order_of(db, order.id)
    assert (stored.status, stored.fulfilment_status) == ("cancelled", "cancel_requested")
    assert await stock(db, variant.id) == (100, 2)
    await vtp.configure(failure_rate=0.0)
    await worker  # the cancel's retry runs in the same burst and the carrier confirms
    assert (await order_of(db, order.id)).fulfilment_status == "cancelled"
    assert await stock(db, variant.id) == (100, 0)
