"""A refusal never tells a cooperative what another cooperative holds (users' emails here;
shops connected elsewhere are in tests/api/channels/test_oauth.py)."""

from __future__ import annotations

import httpx

from api.accounts.models import Role
from api.core.db import Database
from tests.factories import World, add_member

USERS = "/api/v1/users"


async def test_an_email_used_in_another_cooperative_is_refused_without_saying_where(
    client: httpx.AsyncClient, world: World, db: Database
) -> None:
    other = await add_member(db, Role.SELLER, world.coop_b)
    other_email = (
        await client.get(f"{USERS}/{other.user_id}", headers=world.users["admin"].headers)
    ).json()["email"]
    coop_admin = world.users["coop_admin"].headers
    own = {"email": "thu.nguyen@binhlu.vn", "role": "seller", "cooperative_id": world.coop_a}
    assert (await client.post(USERS, json=own, headers=coop_admin)).status_code == 201
    taken_here = await client.post(USERS, json=own, headers=coop_admin)
    taken_elsewhere = await client.post(
        USERS, json={**own, "email": other_email.upper()}, headers=coop_admin
    )
    assert taken_here.status_code == taken_elsewhere.status_code == 409
    # One answer for both: the caller learns the address is unusable, not where it is used.
    assert taken_here.json() == taken_elsewhere.json()
    detail = taken_elsewhere.text.lower()
    for leak in (other_email.lower(), "xuân lãnh", "xuan lanh", str(world.coop_b), "exists"):
        assert leak not in detail, leak
    assert "email" in detail
