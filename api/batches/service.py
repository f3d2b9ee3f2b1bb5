"""Pickup batches for people and jobs: scoped reads, fill, add and remove, scan, move, documents.

Services never commit: the request handler or the job owns the transaction. Every write to a
batch first takes its row (FOR NO KEY UPDATE, so parcel and event inserts referencing it are not
blocked), then shipments and orders FOR SHARE: a cancellation holding the order waits or wins.
"A shipment is in at most one open batch" is the partial unique index on
`pickup_batch_parcels(shipment_id) WHERE open`; inserts go through ON CONFLICT DO NOTHING and a
parcel that did not land is reported as belonging to the batch that has it.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, time
from typing import Any, NoReturn

from sqlalchemy import func, select, text, true
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import TextClause
from sqlmodel import col

from api.accounts.models import Role
from api.accounts.scope import Actor
from api.batches.errors import (
    BatchMoveRefused,
    BatchNotFound,
    ParcelInOtherBatch,
    ParcelNotEligible,
    ParcelNotFound,
)
from api.batches.models import BatchEvent, PickupBatch, PickupBatchParcel
from api.batches.schemas import (
    BatchDetail,
    BatchEventRead,
    BatchParcelRead,
    BatchSummary,
    ScanOutcome,
    ScanResult,
)
from api.batches.status import ACCEPTS_PARCELS, OPEN, BatchStatus, can_move_batch
from api.cooperatives.models import Cooperative
from api.cooperatives.service import get_cooperative, visible_cooperatives
from api.core.db import utcnow
from api.core.errors import Conflict, Forbidden, NotFound, Unprocessable
from api.core.paging import BadCursor, CursorPage, CursorParams, decode_cursor, keyset_page
from api.documents.sheets import (
    BatchSheet,
    BatchTotals,
    Parcel,
    ParcelLine,
    Party,
    PickLine,
)
from api.orders.models import Order, OrderLine
from api.shipments.models import CARRIERS, Shipment
from api.shipments.service import visible_shipments

__all__ = [
    "BatchMoveRefused",
    "BatchNotFound",
    "ParcelInOtherBatch",
    "ParcelNotEligible",
    "ParcelNotFound",
    "add_parcels",
    "batch_events",
    "create_batch",
    "get_batch",
    "list_batches",
    "load_sheet",
    "move_batch",
    "pick_list",
    "remove_parcel",
    "scan_parcel",
]

CARRIER_NAMES = {"viettel_post": "Viettel Post", "ghn": "GHN"}
MAX_LIMIT = 200


def _adding_parcels(shipments: str) -> TextClause:
    """Put the shipments the `shipments` SELECT names (ids, in lock order) into :batch_id, one
    `parcel_added` event each; a shipment an open batch has already is skipped by the index.
    Returns the shipment ids that landed."""
    return text(
        f"""
    WITH added AS (
        INSERT INTO pickup_batch_parcels (batch_id, shipment_id)
        {shipments}
        ON CONFLICT DO NOTHING
        RETURNING shipment_id
    )
    INSERT INTO batch_events (batch_id, shipment_id, action, actor_user_id, source, detail)
    SELECT :batch_id, shipment_id, 'parcel_added', :actor, :source, CAST(:detail AS jsonb)
      FROM added
    RETURNING shipment_id
    """  # noqa: S608 - our own constant SQL, values are bound
    )


# Booked and waiting at the collection point: a waybill, not yet picked up, its order still live
# and handed off (a cancel requested at the carrier moves the order to cancel_requested), and in
# no batch at all (an open one has it, or a handed-over one gave it to the driver already: our
# shipment status moves only when the carrier says so).
_FILL = _adding_parcels(
    """SELECT :batch_id, s.id
          FROM shipments s JOIN orders o ON o.id = s.order_id
         WHERE s.cooperative_id = :cooperative_id AND s.carrier = :carrier
           AND s.waybill IS NOT NULL AND s.status = 'handed_off'
           AND o.status <> 'cancelled' AND o.fulfilment_status = 'handed_off'
           AND NOT EXISTS (
               SELECT 1 FROM pickup_batch_parcels m WHERE m.shipment_id = s.id)
         ORDER BY s.id
           FOR SHARE OF s, o"""
)

_ADD = _adding_parcels(
    "SELECT :batch_id, id FROM unnest(CAST(:ids AS bigint[])) AS t(id) ORDER BY id"
)


# ---------------------------------------------------------------------------------------------
# Scope


def visible_batches(actor: Actor) -> Any:
    """Batches of cooperatives in the actor's scope (logistics: its provinces)."""
    if actor.sees_all_cooperatives:
        return true()
    return col(PickupBatch.cooperative_id).in_(
        select(col(Cooperative.id)).where(visible_cooperatives(actor))
    )


def _require_acts(actor: Actor) -> None:
    if actor.role is Role.PROGRAM_MANAGER:
        raise Forbidden("programme managers read batches; logistics staff and cooperatives act")


def _require_sheet(actor: Actor) -> None:
    if actor.role is Role.PROGRAM_MANAGER:
        raise Forbidden("the batch documents hold buyers' details: not for programme managers")


async def _visible(session: AsyncSession, actor: Actor, batch_id: int) -> PickupBatch:
    batch = (
        await session.execute(
            select(PickupBatch).where(col(PickupBatch.id) == batch_id, visible_batches(actor))
        )
    ).scalar_one_or_none()
    if batch is None:
        raise BatchNotFound(batch_id)
    return batch


async def _lock(session: AsyncSession, actor: Actor | None, batch_id: int) -> PickupBatch:
    """The batch row, locked FOR NO KEY UPDATE (None actor: a job or the system)."""
    query = select(PickupBatch).where(col(PickupBatch.id) == batch_id)
    if actor is not None:
        query = query.where(visible_batches(actor))
    batch = (
        await session.execute(
            query.with_for_update(key_share=True).execution_options(populate_existing=True)
        )
    ).scalar_one_or_none()
    if batch is None:
        raise BatchNotFound(batch_id)
    if actor is not None:
        _require_acts(actor)
    return batch


# ---------------------------------------------------------------------------------------------
# Events


def record(
    session: AsyncSession,
    batch_id: int,
    action: str,
    actor: Actor | None,
    *,
    source: str | None = None,
    shipment_id: int | None = None,
    from_status: str | None = None,
    to_status: str | None = None,
    **detail: Any,
) -> None:
    """Append a step to the batch's trail (a person's id, or NULL with source job/system)."""
    session.add(
        BatchEvent(
            batch_id=batch_id,
            shipment_id=shipment_id,
            action=action,
            from_status=from_status,
            to_status=to_status,
            actor_user_id=actor.user_id if actor is not None else None,
            source=source or ("api" if actor is not None else "system"),
            detail=detail,
        )
    )


# ---------------------------------------------------------------------------------------------
# Reads


@dataclass(frozen=True)
class _Counts:
    parcels: int = 0
    packed: int = 0
    weight_g: int = 0
    cod_vnd: int = 0


async def _counts(session: AsyncSession, batch_ids: Sequence[int]) -> dict[int, _Counts]:
    if not batch_ids:
        return {}
    m, s = PickupBatchParcel, Shipment
    rows = await session.execute(
        select(
            col(m.batch_id),
            func.count(),
            func.count(col(m.packed_at)),
            func.coalesce(func.sum(col(s.weight_g)), 0),
            func.coalesce(func.sum(col(s.cod_amount_vnd)), 0),
        )
        .join(s, col(s.id) == col(m.shipment_id))
        .where(col(m.batch_id).in_(batch_ids))
        .group_by(col(m.batch_id))
    )
    return {int(r[0]): _Counts(int(r[1]), int(r[2]), int(r[3]), int(r[4])) for r in rows.all()}


def _summary(batch: PickupBatch, coop: Cooperative, counts: _Counts) -> dict[str, Any]:
    assert batch.id is not None
    return {
        "id": batch.id,
        "cooperative_id": batch.cooperative_id,
        "cooperative_name": coop.name,
        "province_code": coop.province_code,
        "carrier": batch.carrier,
        "pickup_date": batch.pickup_date,
        "window_start": batch.window_start,
        "window_end": batch.window_end,
        "status": batch.status,
        "parcels": counts.parcels,
        "packed": counts.packed,
        "left": counts.parcels - counts.packed,
        "weight_g": counts.weight_g,
        "cod_vnd": counts.cod_vnd,
        "created_by": batch.created_by,
        "created_at": batch.created_at,
        "status_at": batch.status_at,
        "handed_over_at": batch.handed_over_at,
    }


async def _cooperatives(session: AsyncSession, ids: set[int]) -> dict[int, Cooperative]:
    if not ids:
        return {}
    rows = await session.execute(select(Cooperative).where(col(Cooperative.id).in_(ids)))
    return {c.id: c for c in rows.scalars() if c.id is not None}


def _page_params(cursor: str | None, limit: int) -> CursorParams:
    """A page of at most `limit` (1 to MAX_LIMIT) rows after `cursor`, or 422 naming the field."""
    if not 1 <= limit <= MAX_LIMIT:
        raise Unprocessable(f"limit must be between 1 and {MAX_LIMIT}", field="limit")
    try:
        before = decode_cursor(cursor) if cursor else None
    except BadCursor:
        raise Unprocessable("not a cursor from this API", field="cursor") from None
    return CursorParams(limit=limit, offset=0, before_id=before)


async def list_batches(
    session: AsyncSession,
    actor: Actor,
    *,
    day: date | None = None,
    statuses: Sequence[str] | None = None,
    cooperative_id: int | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> CursorPage[BatchSummary]:
    """Batches in scope, newest first, by pickup day, statuses and cooperative."""
    params = _page_params(cursor, limit)
    query = select(PickupBatch).where(visible_batches(actor))
    if day is not None:
        query = query.where(col(PickupBatch.pickup_date) == day)
    if statuses:
        query = query.where(col(PickupBatch.status).in_(list(statuses)))
    if cooperative_id is not None:
        query = query.where(col(PickupBatch.cooperative_id) == cooperative_id)
    rows, total, capped, next_cursor = await keyset_page(
        session, query, col(PickupBatch.id), params
    )
    counts = await _counts(session, [b.id for b in rows])
    coops = await _cooperatives(session, {b.cooperative_id for b in rows})
    items = [
        BatchSummary(**_summary(b, coops[b.cooperative_id], counts.get(b.id, _Counts())))
        for b in rows
    ]
    return CursorPage[BatchSummary](
        items=items,
        total=total,
        limit=limit,
        offset=0,
        next_cursor=next_cursor,
        total_capped=capped,
    )


async def _parcels(session: AsyncSession, batch_id: int) -> list[BatchParcelRead]:
    m, s = PickupBatchParcel, Shipment
    rows = await session.execute(
        select(m, s)
        .join(s, col(s.id) == col(m.shipment_id))
        .where(col(m.batch_id) == batch_id)
        .order_by(col(m.packed_at).is_not(None), col(m.id))
    )
    return [
        BatchParcelRead(
            shipment_id=member.shipment_id,
            order_id=ship.order_id,
            order_reference=ship.reference,
            waybill=ship.waybill,
            sort_code=ship.sort_code,
            shipment_status=ship.status,
            weight_g=ship.weight_g,
            cod_vnd=ship.cod_amount_vnd,
            added_at=member.added_at,
            packed_at=member.packed_at,
            packed_by=member.packed_by,
        )
        for member, ship in rows.all()
    ]


async def _detail(session: AsyncSession, batch: PickupBatch) -> BatchDetail:
    assert batch.id is not None
    coop = (await _cooperatives(session, {batch.cooperative_id}))[batch.cooperative_id]
    counts = (await _counts(session, [batch.id])).get(batch.id, _Counts())
    return BatchDetail(**_summary(batch, coop, counts), items=await _parcels(session, batch.id))


async def get_batch(session: AsyncSession, actor: Actor, batch_id: int) -> BatchDetail:
    """One batch in scope with its parcels (unpacked first), else BatchNotFound."""
    return await _detail(session, await _visible(session, actor, batch_id))


# ---------------------------------------------------------------------------------------------
# Create, fill, add, remove


async def fill_batch(
    session: AsyncSession, batch: PickupBatch, actor: Actor | None, *, source: str | None = None
) -> list[int]:
    """Add every booked parcel waiting for this batch's carrier at its cooperative (and in no
    other open batch); the batch row must be locked or new. The shipments added, by id."""
    assert batch.id is not None
    source = source or ("api" if actor is not None else "system")
    added = (
        await session.execute(
            _FILL,
            {
                "batch_id": batch.id,
                "cooperative_id": batch.cooperative_id,
                "carrier": batch.carrier,
                "actor": actor.user_id if actor is not None else None,
                "source": source,
                "detail": json.dumps({"by": "fill"}),
            },
        )
    ).scalars()
    ids = sorted(int(i) for i in added)
    record(session, batch.id, "filled", actor, source=source, parcels=len(ids))
    return ids


async def create_batch(
    session: AsyncSession,
    actor: Actor,
    *,
    cooperative_id: int,
    carrier: str,
    pickup_date: date,
    window_start: time,
    window_end: time,
    fill: bool = True,
) -> BatchDetail:
    """A new open batch for a collection point, a carrier and a window (filled by default)."""
    _require_acts(actor)
    if carrier not in CARRIERS:
        raise Unprocessable(f"unknown carrier {carrier!r}", field="carrier")
    if window_end <= window_start:
        raise Unprocessable("window_end must be after window_start", field="window_end")
    try:
        await get_cooperative(session, actor, cooperative_id)
    except NotFound:
        raise Unprocessable(
            f"cooperative {cooperative_id} not found", field="cooperative_id"
        ) from None
    batch = await insert_batch(
        session, cooperative_id, carrier, pickup_date, window_start, window_end, actor
    )
    if batch is None:
        existing = await _slot(session, cooperative_id, carrier, pickup_date, window_start)
        raise Conflict(
            f"pickup batch {existing} already covers this cooperative, carrier and window"
        )
    assert batch.id is not None
    record(
        session, batch.id, "created", actor, to_status=batch.status,
        carrier=carrier, pickup_date=pickup_date.isoformat(),
        window=f"{window_start:%H:%M}-{window_end:%H:%M}",
    )  # fmt: skip
    if fill:
        await session.flush()  # the trail starts with "created", before the fill's rows
        await fill_batch(session, batch, actor)
    await session.flush()
    return await _detail(session, batch)


async def insert_batch(
    session: AsyncSession,
    cooperative_id: int,
    carrier: str,
    pickup_date: date,
    window_start: time,
    window_end: time,
    actor: Actor | None,
) -> PickupBatch | None:
    """The new batch, or None when its slot is taken (a savepoint keeps the transaction)."""
    batch = PickupBatch(
        cooperative_id=cooperative_id,
        carrier=carrier,
        pickup_date=pickup_date,
        window_start=window_start,
        window_end=window_end,
        status=BatchStatus.OPEN.value,
        status_at=utcnow(),
        created_by=actor.user_id if actor is not None else None,
    )
    try:
        async with session.begin_nested():
            session.add(batch)
            await session.flush()
    except IntegrityError:
        return None
    return batch


async def _slot(
    session: AsyncSession, cooperative_id: int, carrier: str, pickup_date: date, start: time
) -> int | None:
    found = await session.execute(
        select(col(PickupBatch.id)).where(
            col(PickupBatch.cooperative_id) == cooperative_id,
            col(PickupBatch.carrier) == carrier,
            col(PickupBatch.pickup_date) == pickup_date,
            col(PickupBatch.window_start) == start,
        )
    )
    return found.scalar_one_or_none()


async def _open_batch_of(session: AsyncSession, shipment_id: int) -> int | None:
    found = await session.execute(
        select(col(PickupBatchParcel.batch_id)).where(
            col(PickupBatchParcel.shipment_id) == shipment_id, col(PickupBatchParcel.open)
        )
    )
    return found.scalar_one_or_none()


async def _handed_over_in(session: AsyncSession, shipment_id: int) -> int | None:
    found = await session.execute(
        select(col(PickupBatchParcel.batch_id))
        .where(
            col(PickupBatchParcel.shipment_id) == shipment_id,
            col(PickupBatchParcel.open).is_(False),
        )
        .limit(1)
    )
    return found.scalar_one_or_none()


def _eligibility(shipment: Shipment, order: Order, batch: PickupBatch) -> str | None:
    """Why the shipment cannot join the batch (None: it can)."""
    label = shipment.waybill or f"shipment {shipment.id}"
    if shipment.carrier != batch.carrier:
        return f"{label} goes with {shipment.carrier}, this batch with {batch.carrier}"
    if shipment.waybill is None:
        return f"{label} is not booked with the carrier yet"
    if shipment.status != "handed_off":
        return f"{label} is {shipment.status}, not waiting for pickup"
    if order.status == "cancelled" or order.fulfilment_status != "handed_off":
        return f"{label}: its order is {order.status} ({order.fulfilment_status})"
    return None


async def add_parcels(
    session: AsyncSession, actor: Actor, batch_id: int, shipment_ids: Sequence[int]
) -> BatchDetail:
    """Add booked parcels of the batch's cooperative and carrier (already here: no-op)."""
    batch = await _lock(session, actor, batch_id)
    if batch.status not in ACCEPTS_PARCELS:
        raise BatchMoveRefused(
            f"the batch is {batch.status}: parcels are added while open or packing"
        )
    wanted = sorted(set(shipment_ids))
    rows = await session.execute(
        select(Shipment, Order)
        .join(Order, col(Order.id) == col(Shipment.order_id))
        .where(
            col(Shipment.id).in_(wanted),
            col(Shipment.cooperative_id) == batch.cooperative_id,
        )
        .order_by(col(Shipment.id))
        .with_for_update(read=True, of=[Shipment, Order])
        .execution_options(populate_existing=True)
    )
    found = {s.id: (s, o) for s, o in rows.all()}
    missing = [i for i in wanted if i not in found]
    if missing:
        raise ParcelNotFound(f"shipment {missing[0]} not found at this cooperative")
    to_add: list[int] = []
    for shipment_id in wanted:
        shipment, order = found[shipment_id]
        holder = await _open_batch_of(session, shipment_id)
        if holder == batch.id:
            continue
        if holder is not None:
            raise ParcelInOtherBatch(shipment_id, holder, shipment.waybill)
        reason = _eligibility(shipment, order, batch)
        handed = await _handed_over_in(session, shipment_id)
        if handed is not None:
            reason = f"{shipment.waybill} was handed to the driver with pickup batch {handed}"
        if reason is not None:
            raise ParcelNotEligible(reason)
        to_add.append(shipment_id)
    if to_add:
        await _insert_parcels(session, batch, to_add, actor, by="add")
    await session.flush()
    return await _detail(session, batch)


async def _insert_parcels(
    session: AsyncSession,
    batch: PickupBatch,
    shipment_ids: list[int],
    actor: Actor | None,
    *,
    by: str,
    source: str | None = None,
) -> None:
    """Insert memberships; one another batch took meanwhile raises ParcelInOtherBatch."""
    assert batch.id is not None
    landed = (
        await session.execute(
            _ADD,
            {
                "batch_id": batch.id,
                "ids": shipment_ids,
                "actor": actor.user_id if actor is not None else None,
                "source": source or ("api" if actor is not None else "system"),
                "detail": json.dumps({"by": by}),
            },
        )
    ).scalars()
    lost = sorted(set(shipment_ids) - {int(i) for i in landed})
    if lost:
        holder = await _open_batch_of(session, lost[0])
        raise ParcelInOtherBatch(lost[0], holder or 0)


async def remove_parcel(
    session: AsyncSession, actor: Actor, batch_id: int, shipment_id: int
) -> BatchDetail:
    """Take a parcel out of a batch not yet handed over (it may join another one)."""
    batch = await _lock(session, actor, batch_id)
    assert batch.id is not None
    if batch.status not in OPEN:
        raise BatchMoveRefused(f"the batch is {batch.status}: its parcels are with the driver")
    removed = (
        await session.execute(
            PickupBatchParcel.__table__.delete()  # type: ignore[attr-defined]
            .where(
                PickupBatchParcel.__table__.c.batch_id == batch.id,  # type: ignore[attr-defined]
                PickupBatchParcel.__table__.c.shipment_id == shipment_id,  # type: ignore[attr-defined]
            )
            .returning(PickupBatchParcel.__table__.c.packed_at)  # type: ignore[attr-defined]
        )
    ).first()
    if removed is None:
        raise ParcelNotFound(f"shipment {shipment_id} is not in pickup batch {batch.id}")
    record(
        session, batch.id, "parcel_removed", actor, shipment_id=shipment_id,
        was_packed=removed[0] is not None,
    )  # fmt: skip
    await session.flush()
    return await _detail(session, batch)


# ---------------------------------------------------------------------------------------------
# Scan


_PACK = text(
    """
    UPDATE pickup_batch_parcels SET packed_at = now(), packed_by = :user_id
     WHERE batch_id = :batch_id AND shipment_id = :shipment_id AND packed_at IS NULL
    RETURNING id
    """
)


async def _find_code(
    session: AsyncSession, actor: Actor, batch: PickupBatch, code: str
) -> Shipment | None:
    """The shipment whose waybill or our reference is `code`, in scope (this batch's first)."""
    candidates = list(
        (
            await session.execute(
                select(Shipment).where(
                    # Every carrier listed: the lookup uses the (carrier, waybill) unique index.
                    (
                        col(Shipment.carrier).in_(CARRIERS)
                        & col(Shipment.waybill).in_(sorted({code, code.upper()}))
                    )
                    | (col(Shipment.reference) == code.upper()),
                    visible_shipments(actor),
                )
            )
        ).scalars()
    )
    if not candidates:
        return None
    members = set(
        (
            await session.execute(
                select(col(PickupBatchParcel.shipment_id)).where(
                    col(PickupBatchParcel.batch_id) == batch.id,
                    col(PickupBatchParcel.shipment_id).in_([c.id for c in candidates]),
                )
            )
        ).scalars()
    )

    def rank(s: Shipment) -> tuple[bool, bool, bool, int]:
        return (
            s.id not in members,
            s.carrier != batch.carrier,
            s.status == "cancelled",
            -(s.id or 0),
        )

    return sorted(candidates, key=rank)[0]


async def _not_in_batch(session: AsyncSession, batch: PickupBatch, shipment: Shipment) -> NoReturn:
    """Raise why the scanned parcel is not in this batch: another open batch has it (409), it was
    cancelled (404, set it aside), or it is simply not here (404)."""
    assert shipment.id is not None
    holder = await _open_batch_of(session, shipment.id)
    if holder is not None:
        raise ParcelInOtherBatch(shipment.id, holder, shipment.waybill)
    label = shipment.waybill or shipment.reference
    order_status, fulfilment = (
        await session.execute(
            select(col(Order.status), col(Order.fulfilment_status)).where(
                col(Order.id) == shipment.order_id
            )
        )
    ).one()
    if (
        shipment.status == "cancelled"
        or order_status == "cancelled"
        or fulfilment
        in (
            "cancel_requested",
            "cancelled",
        )
    ):
        raise ParcelNotFound(f"parcel {label} was cancelled: set it aside, do not pack it")
    raise ParcelNotFound(f"parcel {label} is not in pickup batch {batch.id}")


async def scan_parcel(session: AsyncSession, actor: Actor, batch_id: int, code: str) -> ScanOutcome:
    """Mark the parcel with this waybill or order reference packed (idempotent).

    Unknown code: ParcelNotFound. A parcel of another open batch: ParcelInOtherBatch naming it.
    The first scan moves an open batch to packing.
    """
    batch = await _lock(session, actor, batch_id)
    assert batch.id is not None
    code = code.strip()
    if not code:
        raise ParcelNotFound("empty code: scan a waybill or an order reference")
    shipment = await _find_code(session, actor, batch, code)
    if shipment is None:
        raise ParcelNotFound(f"no parcel has the waybill or order reference {code}")
    assert shipment.id is not None
    member = (
        await session.execute(
            select(PickupBatchParcel).where(
                col(PickupBatchParcel.batch_id) == batch.id,
                col(PickupBatchParcel.shipment_id) == shipment.id,
            )
        )
    ).scalar_one_or_none()
    if member is None:
        await _not_in_batch(session, batch, shipment)
    outcome: ScanResult = "already_packed"
    if member.packed_at is None:
        if batch.status not in ACCEPTS_PARCELS:
            raise BatchMoveRefused(f"the batch is {batch.status}: no more packing")
        packed = await session.execute(
            _PACK,
            {"batch_id": batch.id, "shipment_id": shipment.id, "user_id": actor.user_id},
        )
        if packed.first() is not None:
            outcome = "packed"
            record(
                session, batch.id, "parcel_packed", actor, shipment_id=shipment.id,
                code=code, waybill=shipment.waybill,
            )  # fmt: skip
            if batch.status == BatchStatus.OPEN.value:
                _set_status(session, batch, BatchStatus.PACKING, actor, automatic=True)
        elif await _open_batch_of(session, shipment.id) != batch.id:
            # Its row went (its order was cancelled) between the read above and this update:
            # say why, never "already packed" for a parcel that is no longer in the batch.
            await _not_in_batch(session, batch, shipment)
    await session.flush()
    counts = (await _counts(session, [batch.id])).get(batch.id, _Counts())
    return ScanOutcome(
        outcome=outcome,
        shipment_id=shipment.id,
        waybill=shipment.waybill,
        order_reference=shipment.reference,
        packed=counts.packed,
        left=counts.parcels - counts.packed,
    )


# ---------------------------------------------------------------------------------------------
# Status


def _set_status(
    session: AsyncSession,
    batch: PickupBatch,
    target: BatchStatus,
    actor: Actor | None,
    *,
    automatic: bool = False,
    source: str | None = None,
) -> None:
    assert batch.id is not None
    previous = batch.status
    batch.status = target.value
    batch.status_at = utcnow()
    detail = {"automatic": True} if automatic else {}
    record(
        session, batch.id, "moved", actor, source=source,
        from_status=previous, to_status=target.value, **detail,
    )  # fmt: skip


_HAND_OVER = text(
    """
    WITH handed AS (
        UPDATE pickup_batch_parcels SET open = false
         WHERE batch_id = :batch_id AND open
        RETURNING shipment_id
    )
    INSERT INTO batch_events (batch_id, shipment_id, action, actor_user_id, source, detail)
    SELECT :batch_id, shipment_id, 'parcel_handed_over', :actor, 'api', '{}'::jsonb FROM handed
    """
)


async def move_batch(
    session: AsyncSession, actor: Actor, batch_id: int, to_status: str
) -> BatchDetail:
    """Move the batch along its table; ready and handed over need every parcel packed."""
    batch = await _lock(session, actor, batch_id)
    assert batch.id is not None
    try:
        target = BatchStatus(to_status)
    except ValueError:
        raise Unprocessable(f"unknown batch status {to_status!r}", field="to") from None
    if batch.status == target.value:
        raise BatchMoveRefused(f"the batch is already {target.value}")
    if not can_move_batch(batch.status, target.value):
        raise BatchMoveRefused(f"a {batch.status} batch cannot move to {target.value}")
    counts = (await _counts(session, [batch.id])).get(batch.id, _Counts())
    unpacked = counts.parcels - counts.packed
    if target in (BatchStatus.READY, BatchStatus.HANDED_OVER):
        if counts.parcels == 0:
            raise BatchMoveRefused("the batch has no parcels")
        if unpacked:
            raise BatchMoveRefused(
                f"{unpacked} parcel(s) not packed: pack them or remove them from the batch first"
            )
    if target is BatchStatus.CLOSED and batch.status in OPEN and counts.parcels:
        raise BatchMoveRefused(
            f"{counts.parcels} parcel(s) still in the batch: remove them before closing it"
        )
    _set_status(session, batch, target, actor)
    if target is BatchStatus.HANDED_OVER:
        # Handed to the driver: our record only; the carrier's own pickup event moves the
        # shipments (we do not fake carrier statuses).
        batch.handed_over_at = batch.status_at
        await session.execute(_HAND_OVER, {"batch_id": batch.id, "actor": actor.user_id})
    await session.flush()
    return await _detail(session, batch)


# ---------------------------------------------------------------------------------------------
# Pick list and documents


_PICK = text(
    """
    SELECT coalesce(v.sku, nullif(l.seller_sku, ''), l.platform_sku_id) AS sku,
           coalesce(nullif(trim(concat_ws(' ', p.name, nullif(v.name, ''))), ''), l.name) AS name,
           sum(l.quantity)::bigint AS quantity,
           sum(l.quantity::bigint * coalesce(nullif(l.net_weight_g, 0), v.net_weight_g, 0))::bigint
               AS weight_g
      FROM pickup_batch_parcels m
      JOIN shipments s ON s.id = m.shipment_id
      JOIN order_lines l ON l.order_id = s.order_id
      LEFT JOIN variants v ON v.id = l.variant_id
      LEFT JOIN products p ON p.id = v.product_id
     WHERE m.batch_id = :batch_id
     GROUP BY 1, 2
    """
)


async def _pick_lines(session: AsyncSession, batch_id: int) -> list[PickLine]:
    rows = (await session.execute(_PICK, {"batch_id": batch_id})).all()
    # No storage location exists in the catalogue yet: every line has location "", so the
    # walk is by product name, then SKU.
    lines = [
        PickLine(sku=sku, name=name, quantity=int(qty), weight_g=int(grams), location="")
        for sku, name, qty, grams in rows
    ]
    return sorted(lines, key=lambda p: (p.location, p.name.casefold(), p.sku))


async def pick_list(session: AsyncSession, actor: Actor, batch_id: int) -> list[PickLine]:
    """Quantities per variant for the whole batch, in walking order (location, name, SKU)."""
    batch = await _visible(session, actor, batch_id)
    assert batch.id is not None
    return await _pick_lines(session, batch.id)


def window_text(start: time, end: time) -> str:
    """ "08:00–11:00"."""
    return f"{start:%H:%M}–{end:%H:%M}"


async def _sheet_parcels(
    session: AsyncSession, batch_id: int, sender: Party
) -> tuple[list[Parcel], BatchTotals]:
    m = PickupBatchParcel
    rows = list(
        (
            await session.execute(
                select(m, Shipment, Order)
                .join(Shipment, col(Shipment.id) == col(m.shipment_id))
                .join(Order, col(Order.id) == col(Shipment.order_id))
                .where(col(m.batch_id) == batch_id)
                .order_by(col(m.id))
            )
        ).all()
    )
    order_ids = [o.id for _, _, o in rows]
    lines: dict[int, list[ParcelLine]] = defaultdict(list)
    if order_ids:
        for line in (
            await session.execute(
                select(OrderLine)
                .where(col(OrderLine.order_id).in_(order_ids))
                .order_by(col(OrderLine.order_id), col(OrderLine.id))
            )
        ).scalars():
            lines[line.order_id].append(
                ParcelLine(
                    sku=line.seller_sku or line.platform_sku_id,
                    name=line.name,
                    quantity=line.quantity,
                    weight_g=line.quantity * line.net_weight_g,
                )
            )
    parcels: list[Parcel] = []
    packed = weight = cod = 0
    for member, ship, order in rows:
        assert ship.id is not None
        assert order.id is not None
        receiver = Party(
            name=ship.receiver_name or order.buyer_name,
            phone=ship.receiver_phone or order.buyer_phone,
            address_lines=tuple(
                part
                for part in (
                    ship.receiver_street or order.ship_street,
                    ship.receiver_ward or order.ship_ward,
                    ship.receiver_district or "",
                    ship.receiver_province or order.ship_province,
                )
                if part
            ),
        )
        parcels.append(
            Parcel(
                shipment_id=ship.id,
                order_reference=ship.reference,
                platform_order_id=order.platform_order_id,
                waybill=ship.waybill or "",
                sort_code=ship.sort_code,
                carrier=ship.carrier,
                service_code=ship.service_code,
                sender=sender,
                receiver=receiver,
                weight_g=ship.weight_g,
                cod_vnd=ship.cod_amount_vnd,
                lines=tuple(lines.get(order.id, ())),
                note="",
                packed_at=member.packed_at,
            )
        )
        packed += member.packed_at is not None
        weight += ship.weight_g
        cod += ship.cod_amount_vnd
    return parcels, BatchTotals(parcels=len(parcels), packed=packed, weight_g=weight, cod_vnd=cod)


async def load_sheet(session: AsyncSession, actor: Actor, batch_id: int) -> BatchSheet:
    """Everything the batch's documents show (buyers' details: not for programme managers)."""
    batch = await _visible(session, actor, batch_id)
    _require_sheet(actor)
    assert batch.id is not None
    coop = (await _cooperatives(session, {batch.cooperative_id}))[batch.cooperative_id]
    point = Party(
        name=coop.name,
        phone=coop.phone,
        address_lines=tuple(p for p in (coop.street, coop.ward_name, coop.province_name) if p),
    )
    parcels, totals = await _sheet_parcels(session, batch.id, point)
    return BatchSheet(
        batch_id=batch.id,
        cooperative_name=coop.name,
        collection_point=point,
        carrier=batch.carrier,
        carrier_name=CARRIER_NAMES.get(batch.carrier, batch.carrier),
        pickup_date=batch.pickup_date,
        window=window_text(batch.window_start, batch.window_end),
        status=batch.status,
        pick_lines=tuple(await _pick_lines(session, batch.id)),
        totals=totals,
        parcels=iter(parcels),
        printed_at=utcnow(),
    )


# ---------------------------------------------------------------------------------------------
# Trail


async def batch_events(
    session: AsyncSession,
    actor: Actor,
    batch_id: int,
    *,
    cursor: str | None = None,
    limit: int = 50,
) -> CursorPage[BatchEventRead]:
    """The batch's trail, newest first."""
    batch = await _visible(session, actor, batch_id)
    params = _page_params(cursor, limit)
    query = select(BatchEvent).where(col(BatchEvent.batch_id) == batch.id)
    rows, total, capped, next_cursor = await keyset_page(session, query, col(BatchEvent.id), params)
    return CursorPage[BatchEventRead](
        items=[BatchEventRead.model_validate(e, from_attributes=True) for e in rows],
        total=total,
        limit=limit,
        offset=0,
        next_cursor=next_cursor,
        total_capped=capped,
    )
