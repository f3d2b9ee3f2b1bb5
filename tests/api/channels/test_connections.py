"""Connections: tokens are write-only, one shop connects once, status follows its rules."""

from __future__ import annotations

import httpx
from sqlalchemy import update
from sqlmodel import col

from api.channels.models import ChannelConnection
from api.core.db import Database
from tests.api.channels.conftest import API, Shops, connection_body, new_shop_id

ACCESS = "ACCESS-7f3a9c-never-shown"
REFRESH = "REFRESH-b81e04-never-shown"
ROTATED_ACCESS = "ACCESS-rotated-5d2f11"
ROTATED_REFRESH = "REFRESH-rotated-e0c7aa"
SECRETS = (ACCESS, REFRESH, ROTATED_ACCESS, ROTATED_REFRESH)
READ_KEYS = {
    "id", "cooperative_id", "platform", "shop_id", "shop_name", "shop_cipher", "status",
    "has_access_token", "has_refresh_token", "access_expires_at", "refresh_expires_at",
    "created_at", "updated_at",
}  # fmt: skip


async def _stored(db: Database, connection_id: int) -> ChannelConnection:
    async with db.session() as session:
        connection = await session.get(ChannelConnection, connection_id)
        assert connection is not None
        return connection


async def test_tokens_are_stored_but_never_returned(
    client: httpx.AsyncClient, shops: Shops, db: Database
) -> None:
    headers = shops.admin
    body = connection_body(
        shops.world.coop_a,
        access_token=ACCESS,
        refresh_token=REFRESH,
        access_expires_at="2026-12-01T00:00:00+07:00",
        refresh_expires_at="2027-06-01T00:00:00Z",
    )
    created = await client.post(API, json=body, headers=headers)
    assert created.status_code == 201, created.text
    path = f"{API}/{created.json()['id']}"
    rotate = {"access_token": ROTATED_ACCESS, "refresh_token": ROTATED_REFRESH}
    responses = [
        created,
        await client.get(path, headers=headers),
        await client.get(API, headers=headers),
        await client.patch(path, json=rotate, headers=headers),
        await client.get(path, headers=shops.world.users["coop_admin"].headers),
        await client.post(API, json=body, headers=headers),  # duplicate: 409
        await client.post(API, json={**body, "colour": "red"}, headers=headers),  # 422
        await client.patch(path, json={"access_token": ACCESS * 200}, headers=headers),  # too long
        await client.patch(path, json={**rotate, "status": "paused"}, headers=headers),
    ]
    assert [r.status_code for r in responses] == [201, 200, 200, 200, 200, 409, 422, 422, 422]
    for response in responses:
        for secret in SECRETS:
            assert secret not in response.text, (response.status_code, secret)
    assert set(created.json()) == READ_KEYS
    assert created.json()["has_access_token"] is True
    assert created.json()["access_expires_at"].startswith("2026-11-30T17:00:00")
    stored = await _stored(db, created.json()["id"])
    assert (stored.access_token, stored.refresh_token) == (ROTATED_ACCESS, ROTATED_REFRESH)
    openapi = (await client.get("/openapi.json")).json()
    read_schema = openapi["components"]["schemas"]["ChannelConnectionRead"]["properties"]
    assert "access_token" not in read_schema
    assert "refresh_token" not in read_schema


async def test_a_rotated_token_without_expiry_forgets_the_old_expiry(
    client: httpx.AsyncClient, shops: Shops
) -> None:
    path = f"{API}/{shops.conn_a}"
    first = {"access_token": ACCESS, "access_expires_at": "2026-12-01T00:00:00Z"}
    assert (await client.patch(path, json=first, headers=shops.admin)).json()[
        "access_expires_at"
    ] is not None
    rotated = await client.patch(path, json={"access_token": ROTATED_ACCESS}, headers=shops.admin)
    assert rotated.json()["access_expires_at"] is None
    assert rotated.json()["has_access_token"] is True
    cleared = await client.patch(path, json={"access_token": None}, headers=shops.admin)
    assert cleared.json()["has_access_token"] is False


async def test_one_shop_connects_once_across_cooperatives(
    client: httpx.AsyncClient, shops: Shops
) -> None:
    shop_id = new_shop_id()
    first = connection_body(shops.world.coop_a, shop_id=shop_id)
    assert (await client.post(API, json=first, headers=shops.admin)).status_code == 201
    again = connection_body(shops.world.coop_b, shop_id=shop_id)
    duplicate = await client.post(API, json=again, headers=shops.admin)
    assert duplicate.status_code == 409
    other_platform = connection_body(shops.world.coop_b, shop_id=shop_id, platform="shopee")
    assert (await client.post(API, json=other_platform, headers=shops.admin)).status_code == 201


async def test_status_switches_and_reauth_needs_new_tokens(
    client: httpx.AsyncClient, shops: Shops, db: Database
) -> None:
    path, headers = f"{API}/{shops.conn_a}", shops.world.users["coop_admin"].headers
    disabled = await client.patch(path, json={"status": "disabled"}, headers=headers)
    assert disabled.json()["status"] == "disabled"
    assert (await client.patch(path, json={"status": "active"}, headers=headers)).json()[
        "status"
    ] == "active"
    async with db.session() as session:  # what the token job does when the platform refuses
        await session.execute(
            update(ChannelConnection)
            .where(col(ChannelConnection.id) == shops.conn_a)
            .values(status="reauth_required")
        )
        await session.commit()
    refused = await client.patch(path, json={"status": "active"}, headers=headers)
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "status"]
    renamed = await client.patch(path, json={"shop_name": "Vẫn chờ"}, headers=headers)
    assert renamed.json()["status"] == "reauth_required"
    tokens = {"access_token": ROTATED_ACCESS, "refresh_token": ROTATED_REFRESH}
    # A coop admin reconnects through the platform's authorisation (test_oauth.py); an admin
    # may type the new tokens.
    assert (await client.patch(path, json=tokens, headers=headers)).status_code == 403
    reconnected = await client.patch(path, json=tokens, headers=shops.admin)
    assert reconnected.json()["status"] == "active"
    manual = await client.patch(path, json={"status": "reauth_required"}, headers=headers)
    assert manual.status_code == 422


async def test_bad_input_names_the_field(client: httpx.AsyncClient, shops: Shops) -> None:
    coop = shops.world.coop_a
    cases = [
        (connection_body(coop, platform="shopee", shop_id="shop-abc"), ["body", "shop_id"]),
        (connection_body(coop, platform="lazada"), ["body", "platform"]),
        (connection_body(coop, shop_id="has space"), ["body", "shop_id"]),
        (connection_body(coop, access_expires_at="2026-12-01T00:00:00"),
         ["body", "access_expires_at"]),
        (connection_body(coop, access_token=""), ["body", "access_token"]),
        (connection_body(2**63), ["body", "cooperative_id"]),
    ]  # fmt: skip
    for body, loc in cases:
        response = await client.post(API, json=body, headers=shops.admin)
        assert response.status_code == 422, body
        assert loc in [e["loc"] for e in response.json()["detail"]], response.text
    missing = await client.post(API, json=connection_body(987654), headers=shops.admin)
    assert missing.status_code == 404


async def test_list_filters_by_platform_and_status(client: httpx.AsyncClient, shops: Shops) -> None:
    body = connection_body(shops.world.coop_a, platform="shopee", shop_id="220011")
    shopee = (await client.post(API, json=body, headers=shops.admin)).json()
    await client.patch(f"{API}/{shops.conn_b}", json={"status": "disabled"}, headers=shops.admin)
    by_platform = (await client.get(f"{API}?platform=shopee", headers=shops.admin)).json()
    assert [c["id"] for c in by_platform["items"]] == [shopee["id"]]
    disabled = (await client.get(f"{API}?status=disabled", headers=shops.admin)).json()
    assert [c["id"] for c in disabled["items"]] == [shops.conn_b]
    page = (await client.get(f"{API}?limit=2&offset=1", headers=shops.admin)).json()
    assert (page["total"], len(page["items"]), page["offset"]) == (3, 2, 1)
