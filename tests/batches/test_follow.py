"""Through the real hand-off: a cancelled parcel leaves its batch, and its order's re-booking
with another carrier joins that carrier's open batch (carrier simulators, arq burst workers)."""

from __future__ import annotations

import httpx

from api.core.config import Settings
from api.core.db import Database
from tests.batches.rig import actor_of, detail, new_batch, trail
from tests.factories import World
from tests.ingestion.rig import run_worker
from tests.shipments.rig import confirmed_order, order_of, outbox_row, shipment_of


async def test_a_re_booked_parcel_follows_into_the_new_carriers_batch(
    settings: Settings,
    world: World,
    db: Database,
    tiktok_sim: str,
    viettel_post_sim: str,
    ghn_sim: str,
    client: httpx.AsyncClient,
) -> None:
    staff = await actor_of(db, world, "logistics")
    headers = world.users["logistics"].headers
    order = await confirmed_order(settings, db, world, tiktok_sim)
    assert order.id is not None
    first = await shipment_of(db, order.id)
    assert (first.carrier, first.status) == ("viettel_post", "handed_off")
    vtp_batch = await new_batch(db, staff, world.coop_a)
    ghn_batch = await new_batch(db, staff, world.coop_a, carrier="ghn", fill=False)
    assert [p.shipment_id for p in vtp_batch.items] == [first.id]

    cancelled = await client.post(f"/api/v1/shipments/{first.id}/cancel", headers=headers)
    assert cancelled.status_code == 202, cancelled.text
    assert (await detail(db, staff, vtp_batch.id)).items == []  # left before the carrier answered
    await run_worker(settings)
    assert (await shipment_of(db, order.id)).status == "cancelled"
    assert (await order_of(db, order.id)).fulfilment_status == "reserved"

    second_id = await outbox_row(db, order.id)
    rerouted = await client.post(
        f"/api/v1/shipments/{second_id}/reroute", json={"carrier": "ghn"}, headers=headers
    )
    assert rerouted.status_code == 202, rerouted.text
    await run_worker(settings)
    second = await shipment_of(db, order.id)
    assert (second.id, second.carrier, second.status) == (second_id, "ghn", "handed_off")

    joined = await detail(db, staff, ghn_batch.id)
    assert [(p.shipment_id, p.waybill) for p in joined.items] == [(second_id, second.waybill)]
    left = [e for e in await trail(db, vtp_batch.id) if e.action == "parcel_left_cancelled"]
    assert [(e.shipment_id, e.actor_user_id, e.source) for e in left] == [
        (first.id, staff.user_id, "api")
    ]
    followed = [e for e in await trail(db, ghn_batch.id) if e.action == "parcel_followed_reroute"]
    assert [(e.shipment_id, e.source, e.detail) for e in followed] == [
        (second_id, "job", {"from_batch": vtp_batch.id})
    ]
