"""The batch rules, through the service against the real database."""

from __future__ import annotations

import asyncio
from datetime import time, timedelta

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from api.accounts.scope import Actor
from api.batches import membership, service
from api.batches.models import PickupBatchParcel
from api.batches.schemas import BatchDetail
from api.core.db import Database
from api.core.errors import Forbidden
from api.orders.models import Order
from api.shipments.cancel import cancel_for_order
from integrations.carriers.base import ShipmentStatus
from tests.batches.rig import TOMORROW, actor_of, booked_parcel, detail, new_batch, trail
from tests.factories import World
from tests.reports.rig import carrier_says
from tests.shipments.rig import outbox_row, set_shipment


async def test_fill_scan_and_hand_over(world: World, db: Database) -> None:
    staff = await actor_of(db, world, "logistics")
    parcels = [await booked_parcel(db, world) for _ in range(3)]
    other_carrier = await booked_parcel(db, world, carrier="ghn")
    batch = await new_batch(db, staff, world.coop_a)
    assert sorted(p.shipment_id for p in batch.items) == sorted(p.id or 0 for p in parcels)
    assert other_carrier.id not in {p.shipment_id for p in batch.items}
    assert (batch.parcels, batch.packed, batch.left) == (3, 0, 3)

    async with db.session() as session:
        first = await service.scan_parcel(session, staff, batch.id, parcels[0].waybill or "")
        await session.commit()
    assert (first.outcome, first.packed, first.left) == ("packed", 1, 2)
    async with db.session() as session:
        again = await service.scan_parcel(session, staff, batch.id, parcels[0].waybill or "")
        await session.commit()
    assert (again.outcome, again.packed, again.left) == ("already_packed", 1, 2)
    assert (await detail(db, staff, batch.id)).status == "packing"

    async with db.session() as session:
        with pytest.raises(service.BatchMoveRefused, match="2 parcel"):
            await service.move_batch(session, staff, batch.id, "ready")
    async with db.session() as session:
        by_reference = await service.scan_parcel(
            session, staff, batch.id, parcels[1].reference.lower()
        )
        await service.remove_parcel(session, staff, batch.id, parcels[2].id or 0)
        await service.move_batch(session, staff, batch.id, "ready")
        done = await service.move_batch(session, staff, batch.id, "handed_over")
        await session.commit()
    assert by_reference.outcome == "packed"
    assert done.status == "handed_over"
    assert (done.parcels, done.packed) == (2, 2)

    actions = [(e.action, e.actor_user_id) for e in await trail(db, batch.id)]
    assert actions.count(("parcel_packed", staff.user_id)) == 2
    assert ("parcel_removed", staff.user_id) in actions
    assert [e for e in actions if e[0] == "parcel_handed_over"] == [
        ("parcel_handed_over", staff.user_id)
    ] * 2


async def test_a_parcel_is_in_one_open_batch_only(world: World, db: Database) -> None:
    staff = await actor_of(db, world, "logistics")
    parcel = await booked_parcel(db, world)
    first = await new_batch(db, staff, world.coop_a)
    second = await new_batch(db, staff, world.coop_a, start=time(13))
    assert [p.shipment_id for p in first.items] == [parcel.id]
    assert second.items == []  # the fill skips parcels another batch has
    async with db.session() as session:
        with pytest.raises(service.ParcelInOtherBatch) as refused:
            await service.add_parcels(session, staff, second.id, [parcel.id or 0])
    assert refused.value.batch_id == first.id
    # The database refuses it too, whatever the code does.
    async with db.session() as session:
        session.add(PickupBatchParcel(batch_id=second.id, shipment_id=parcel.id or 0))
        with pytest.raises(IntegrityError, match="uq_pickup_batch_parcels_open_shipment"):
            await session.flush()


async def test_two_desks_adding_the_same_parcel_at_once(world: World, db: Database) -> None:
    staff = await actor_of(db, world, "logistics")
    coop_admin = await actor_of(db, world, "coop_admin")
    one = await new_batch(db, staff, world.coop_a, fill=False)
    two = await new_batch(db, coop_admin, world.coop_a, fill=False, start=time(13))
    parcels = [await booked_parcel(db, world) for _ in range(5)]
    ids = [p.id or 0 for p in parcels]

    async def add(actor: Actor, batch_id: int) -> str:
        async with db.session() as session:
            try:
                await service.add_parcels(session, actor, batch_id, ids)
            except service.ParcelInOtherBatch as exc:
                return f"other:{exc.batch_id}"
            await session.commit()
            return "added"

    outcomes = sorted(await asyncio.gather(add(staff, one.id), add(coop_admin, two.id)))
    assert outcomes[0] == "added"
    assert outcomes[1] in (f"other:{one.id}", f"other:{two.id}")
    counts = [len((await detail(db, staff, b)).items) for b in (one.id, two.id)]
    assert sorted(counts) == [0, 5]


async def test_two_batches_filling_at_once_share_nothing(world: World, db: Database) -> None:
    staff = await actor_of(db, world, "logistics")
    for _ in range(6):
        await booked_parcel(db, world)

    async def create(start: int) -> BatchDetail:
        return await new_batch(db, staff, world.coop_a, start=time(start))

    batches = await asyncio.gather(create(8), create(12), create(15))
    held = [p.shipment_id for b in batches for p in b.items]
    assert len(held) == 6
    assert len(set(held)) == 6


async def test_hand_over_is_refused_with_unpacked_parcels(world: World, db: Database) -> None:
    staff = await actor_of(db, world, "logistics")
    packed, unpacked = await booked_parcel(db, world), await booked_parcel(db, world)
    batch = await new_batch(db, staff, world.coop_a)
    async with db.session() as session:
        await service.scan_parcel(session, staff, batch.id, packed.waybill or "")
        await session.commit()
    async with db.session() as session:
        with pytest.raises(service.BatchMoveRefused, match="not packed"):
            await service.move_batch(session, staff, batch.id, "ready")
        with pytest.raises(service.BatchMoveRefused, match="cannot move to handed_over"):
            await service.move_batch(session, staff, batch.id, "handed_over")
    async with db.session() as session:
        await service.remove_parcel(session, staff, batch.id, unpacked.id or 0)
        await service.move_batch(session, staff, batch.id, "ready")
        done = await service.move_batch(session, staff, batch.id, "handed_over")
        await session.commit()
    assert (done.status, done.parcels, done.left) == ("handed_over", 1, 0)
    # The removed parcel may join tomorrow's batch; the handed-over one may not.
    later = await new_batch(db, staff, world.coop_a, day=TOMORROW + timedelta(days=1))
    assert [p.shipment_id for p in later.items] == [unpacked.id]
    async with db.session() as session:
        with pytest.raises(service.ParcelNotEligible, match="handed to the driver"):
            await service.add_parcels(session, staff, later.id, [packed.id or 0])


async def test_a_cancelled_order_leaves_its_batch(world: World, db: Database) -> None:
    staff = await actor_of(db, world, "logistics")
    stays, goes = await booked_parcel(db, world), await booked_parcel(db, world)
    batch = await new_batch(db, staff, world.coop_a)
    async with db.session() as session:
        await service.scan_parcel(session, staff, batch.id, goes.waybill or "")
        await session.commit()
    async with db.session() as session:
        order = (
            await session.execute(
                select(Order).where(col(Order.id) == goes.order_id).with_for_update()
            )
        ).scalar_one()
        order.status = "cancelled"  # as the platform's update leaves it (api/orders/updates.py)
        assert await cancel_for_order(session, order, source="webhook") == "requested"
        await session.commit()
    after = await detail(db, staff, batch.id)
    assert [p.shipment_id for p in after.items] == [stays.id]
    assert (after.parcels, after.packed) == (1, 0)
    left = [e for e in await trail(db, batch.id) if e.action == "parcel_left_cancelled"]
    assert len(left) == 1
    assert (left[0].shipment_id, left[0].actor_user_id, left[0].source) == (goes.id, None, "system")
    assert left[0].detail == {"reason": "order cancelled", "was_packed": True}
    async with db.session() as session:
        with pytest.raises(service.ParcelNotFound, match="was cancelled: set it aside"):
            await service.scan_parcel(session, staff, batch.id, goes.waybill or "")


async def test_a_parcel_whose_carrier_changed_leaves_for_the_new_carriers_batch(
    world: World, db: Database
) -> None:
    staff = await actor_of(db, world, "logistics")
    parcel = await booked_parcel(db, world)
    vtp = await new_batch(db, staff, world.coop_a)
    ghn = await new_batch(db, staff, world.coop_a, carrier="ghn", fill=False)
    # Re-booked with GHN (as a carrier switch by the hand-off would leave it).
    await set_shipment(db, parcel.id or 0, carrier="ghn", waybill="GHNX1")
    async with db.session() as session:
        assert await membership.follow(session, parcel.id, source="job") == (vtp.id, ghn.id)
        await session.commit()
    assert (await detail(db, staff, vtp.id)).items == []
    assert [p.shipment_id for p in (await detail(db, staff, ghn.id)).items] == [parcel.id]
    joined = [e for e in await trail(db, ghn.id) if e.action == "parcel_followed_reroute"]
    assert joined[0].detail == {"from_batch": vtp.id}
    assert [e.action for e in await trail(db, vtp.id)][-1] == "parcel_left_rerouted"


async def test_pick_list_sums_variants_in_walking_order(world: World, db: Database) -> None:
    staff = await actor_of(db, world, "logistics")
    await booked_parcel(db, world, quantity=2)
    await booked_parcel(db, world, quantity=3)
    batch = await new_batch(db, staff, world.coop_a)
    async with db.session() as session:
        lines = await service.pick_list(session, staff, batch.id)
        sheet = await service.load_sheet(session, staff, batch.id)
    variant = world.product_a.variants[0]
    assert [(p.sku, p.name, p.quantity, p.weight_g) for p in lines] == [
        (variant.sku, "Gạo Séng Cù", 5, 5 * variant.net_weight_g)
    ]
    parcels = list(sheet.parcels)
    assert sheet.totals.parcels == len(parcels) == 2
    assert sheet.collection_point.name == "HTX Bình Lư"
    assert parcels[0].receiver.name == "Lò Thị Mai"
    assert sheet.window == "08:00–11:00"


async def test_two_scanners_on_one_parcel_pack_it_once(world: World, db: Database) -> None:
    staff = await actor_of(db, world, "logistics")
    seller = await actor_of(db, world, "seller")
    parcel = await booked_parcel(db, world)
    batch = await new_batch(db, staff, world.coop_a)

    async def scan(actor: Actor) -> str:
        async with db.session() as session:
            outcome = await service.scan_parcel(session, actor, batch.id, parcel.waybill or "")
            await session.commit()
            return outcome.outcome

    assert sorted(await asyncio.gather(scan(staff), scan(seller))) == ["already_packed", "packed"]
    events = [e.action for e in await trail(db, batch.id)]
    assert events.count("parcel_packed") == 1
    assert events.count("moved") == 1  # open -> packing, once


async def test_programme_managers_read_summaries_but_get_no_documents(
    world: World, db: Database
) -> None:
    admin = await actor_of(db, world, "admin")
    manager = await actor_of(db, world, "program_manager")
    await booked_parcel(db, world)
    batch = await new_batch(db, admin, world.coop_a)
    async with db.session() as session:
        seen = await service.get_batch(session, manager, batch.id)
        listed = await service.list_batches(session, manager, day=TOMORROW)
        assert "receiver" not in str(seen.model_dump())
        assert [b.id for b in listed.items] == [batch.id]
        with pytest.raises(Forbidden):
            await service.load_sheet(session, manager, batch.id)
        with pytest.raises(Forbidden):
            await service.scan_parcel(session, manager, batch.id, "anything")


async def _waiting_on_a_lock(db: Database) -> int:
    async with db.session() as session:
        found = await session.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock'"
            )
        )
    return int(found or 0)


async def test_a_scan_racing_the_orders_cancellation_never_says_already_packed(
    world: World, db: Database
) -> None:
    staff = await actor_of(db, world, "logistics")
    parcel = await booked_parcel(db, world)
    batch = await new_batch(db, staff, world.coop_a)
    async with db.session() as cancelling:
        order = (
            await cancelling.execute(
                select(Order).where(col(Order.id) == parcel.order_id).with_for_update()
            )
        ).scalar_one()
        order.status = "cancelled"
        assert await cancel_for_order(cancelling, order, source="webhook") == "requested"
        # The parcel's row is deleted but not committed yet: the scan finds it, then waits.

        async def scan() -> str:
            async with db.session() as session:
                try:
                    done = await service.scan_parcel(session, staff, batch.id, parcel.waybill or "")
                except service.ParcelNotFound as exc:
                    return f"not found: {exc}"
                await session.commit()
                return done.outcome

        scanning = asyncio.create_task(scan())
        for _ in range(1500):  # until the scan waits on the deleted row (not a timing check)
            if scanning.done() or await _waiting_on_a_lock(db):
                break
            await asyncio.sleep(0.02)
        await cancelling.commit()
        outcome = await scanning
    assert outcome.startswith("not found:"), outcome
    assert "cancelled" in outcome
    after = await detail(db, staff, batch.id)
    assert (after.parcels, after.packed) == (0, 0)
    assert "parcel_packed" not in [e.action for e in await trail(db, batch.id)]


async def test_a_booking_the_carrier_drops_leaves_and_its_re_booking_follows(
    world: World, db: Database
) -> None:
    staff = await actor_of(db, world, "logistics")
    stays, dropped = await booked_parcel(db, world), await booked_parcel(db, world)
    batch = await new_batch(db, staff, world.coop_a)
    # The carrier tells us (tracking) it dropped the booking: that waybill is dead.
    assert await carrier_says(db, dropped.order_id, ShipmentStatus.CANCELLED)
    after = await detail(db, staff, batch.id)
    assert [p.shipment_id for p in after.items] == [stays.id]
    left = [e for e in await trail(db, batch.id) if e.action == "parcel_left_cancelled"]
    assert [(e.shipment_id, e.source) for e in left] == [(dropped.id, "system")]
    async with db.session() as session:
        with pytest.raises(service.ParcelNotFound, match="was cancelled"):
            await service.scan_parcel(session, staff, batch.id, dropped.waybill or "")

    # The order is still live: its new booking follows into the batch the old one left.
    again = await outbox_row(db, dropped.order_id)
    await set_shipment(db, again, waybill="WBAGAIN1", status="handed_off")
    async with db.session() as session:
        await session.execute(
            update(Order)
            .where(col(Order.id) == dropped.order_id)
            .values(fulfilment_status="handed_off")
        )
        assert await membership.follow(session, again, source="job") == (None, batch.id)
        await session.commit()
    held = {p.shipment_id for p in (await detail(db, staff, batch.id)).items}
    assert held == {stays.id, again}
