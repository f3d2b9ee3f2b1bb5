"""The batch rules, through the service against the real database."""

from __future__ import annotations

import pytest

from api.batches import service
from api.core.db import Database
from tests.batches.rig import actor_of, booked_parcel, detail, new_batch, trail
from tests.factories import World


async def test_fill_scan_and_hand_over(world: World, db: Database) -> None:
    staff = await actor_of(db, world, "logistics")
    parcels = [await booked_parcel(db, world) for _ in range(3)]
    other_carrier = await booked_parcel(db, world, carrier="ghn")
    batch = await new_batch(db, staff, world.coop_a)
    assert sorted(p.shipment_id for p in batch.items) == sorted(p.id for p in parcels)
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
