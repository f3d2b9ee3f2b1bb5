"""Cooperatives: create, read and change, each scoped to what the actor may see."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.accounts.models import Role
from api.accounts.scope import Actor
from api.cooperatives.addresses import UnknownPlace, resolve_place
from api.cooperatives.models import Cooperative
from api.cooperatives.schemas import CollectionPoint, CooperativeCreate, CooperativeUpdate
from api.core.errors import Forbidden, NotFound, Unprocessable


def visible_cooperatives(actor: Actor) -> Any:
    """A WHERE clause on cooperatives.id limiting rows to the actor's scope."""
    if actor.sees_all_cooperatives:
        return true()
    if actor.role is Role.LOGISTICS:
        assert actor.province_codes is not None
        return col(Cooperative.province_code).in_(actor.province_codes)
    return col(Cooperative.id) == actor.cooperative_id


def _address_fields(point: CollectionPoint) -> dict[str, Any]:
    try:
        place = resolve_place(point.province, point.ward)
    except UnknownPlace as exc:
        raise Unprocessable(str(exc), field=f"address.{exc.field}") from None
    return {
        "province_code": place.province_code,
        "province_name": place.province_name,
        "ward_code": place.ward_code,
        "ward_name": place.ward_name,
        "street": point.street,
        "legacy_district": point.legacy_district,
    }


async def create_cooperative(
    session: AsyncSession, actor: Actor | None, data: CooperativeCreate
) -> Cooperative:
    """Create a cooperative (admins only; None actor = the CLI)."""
    if actor is not None and actor.role is not Role.ADMIN:
        raise Forbidden("only admins create cooperatives")
    coop = Cooperative(name=data.name, phone=data.phone, **_address_fields(data.address))
    session.add(coop)
    await session.flush()
    return coop


async def get_cooperative(session: AsyncSession, actor: Actor, cooperative_id: int) -> Cooperative:
    """A cooperative the actor may see, else NotFound."""
    coop = (
        await session.execute(
            select(Cooperative).where(
                col(Cooperative.id) == cooperative_id, visible_cooperatives(actor)
            )
        )
    ).scalar_one_or_none()
    if coop is None:
        raise NotFound("cooperative")
    return coop


async def update_cooperative(
    session: AsyncSession, actor: Actor, cooperative_id: int, data: CooperativeUpdate
) -> Cooperative:
    """Change name, phone, collection point or carrier (admins, or its own coop admins)."""
    coop = await get_cooperative(session, actor, cooperative_id)
    if not actor.can_manage_catalogue(cooperative_id):
        raise Forbidden("only admins and this cooperative's coop admins change it")
    if data.name is not None:
        coop.name = data.name
    if data.phone is not None:
        coop.phone = data.phone
    if data.address is not None:
        for key, value in _address_fields(data.address).items():
            setattr(coop, key, value)
    if data.carrier is not None:
        coop.carrier = data.carrier  # new shipments only; unbooked ones are re-routed one by one
    await session.flush()
    return coop


async def list_cooperatives(
    session: AsyncSession, actor: Actor, limit: int, offset: int, province_code: int | None
) -> tuple[list[Cooperative], int]:
    """Cooperatives in the actor's scope, by name."""
    query = select(Cooperative).where(visible_cooperatives(actor))
    if province_code is not None:
        query = query.where(col(Cooperative.province_code) == province_code)
    total = (await session.execute(select(func.count()).select_from(query.subquery()))).scalar_one()
    rows = await session.execute(
        query.order_by(col(Cooperative.name), col(Cooperative.id)).limit(limit).offset(offset)
    )
    return list(rows.scalars()), int(total)
