"""One poison row never stalls an inbox: it is charged its own failed tries, then parked.

Each test here failed on 95bffa4 (a drain round was one transaction that caught only platform
errors, so one bad shop's rows rolled every other shop's rows back, forever).
"""

from __future__ import annotations

import httpx
from sqlalchemy import update
from sqlmodel import col

from api.channels.models import ChannelConnection
from api.core.config import Settings
from api.core.db import Database
from tests.factories import World
from tests.ingestion.poison_rig import (
    inbox_rows,
    make_retries_due,
    post_push,
    tiktok_push,
)
from tests.ingestion.rig import (
    connect_tiktok_shop,
    line,
    order_by_platform_id,
    place_order,
    run_worker,
)
from workers.jobs.attempts import POISON_ATTEMPTS

UNSENDABLE = "tok-Ðêm"  # httpx cannot put it in a header


async def _connect_bad_shop(db: Database, cooperative_id: int, shop_id: str) -> int:
    # Written straight to the table, as a row stored before tokens were checked at the door.
    async with db.session() as session:
        connection = ChannelConnection(
            cooperative_id=cooperative_id, platform="tiktok_shop", shop_id=shop_id,
            shop_cipher="cipher-b", access_token=UNSENDABLE,
        )  # fmt: skip
        session.add(connection)
        await session.commit()
        assert connection.id is not None
        return connection.id


async def _set_token(db: Database, connection_id: int, token: str) -> None:
    async with db.session() as session:
        await session.execute(
            update(ChannelConnection)
            .where(col(ChannelConnection.id) == connection_id)
            .values(access_token=token)
        )
        await session.commit()


async def _retry_until_parked(settings: Settings, db: Database) -> None:
    # The sweeper offers the row again at each worker start (its age no longer matters).
    sweeping = settings.model_copy(update={"inbox_sweep_after_seconds": 0})
    for _ in range(POISON_ATTEMPTS):
        await make_retries_due(db)
        await run_worker(sweeping)


async def test_a_shop_with_an_unsendable_token_stops_no_other_shop(
    settings: Settings, world: World, db: Database, tiktok_sim: str, client: httpx.AsyncClient
) -> None:
    await connect_tiktok_shop(db, world.coop_a)
    await _connect_bad_shop(db, world.coop_b, "7000000000000000002")
    placed = await place_order(
        tiktok_sim, [line(world.product_a.variants[0].sku)], status="AWAITING_SHIPMENT", push=False
    )
    # The bad shop's push comes first, so it shares the good one's drain round.
    assert (
        await post_push(client, tiktok_push(settings, "b-1", shop_id="7000000000000000002")) == 200
    )
    assert await post_push(client, tiktok_push(settings, placed["order_id"])) == 200

    await run_worker(settings)
    bad, good = await inbox_rows(db)
    assert (good.outcome, good.handled_at is not None) == ("processed", True)
    assert await order_by_platform_id(db, placed["order_id"]) is not None
    assert (bad.handled_at, bad.parked_at, bad.attempts) == (None, None, 1)
    assert bad.last_error is not None
    assert "UnicodeEncodeError" in bad.last_error

    await _retry_until_parked(settings, db)
    bad, good = await inbox_rows(db)
    assert bad.parked_at is not None
    assert bad.handled_at is None
    assert (bad.outcome, bad.attempts) == ("failed", POISON_ATTEMPTS)
    assert bad.last_error is not None
    assert "UnicodeEncodeError" in bad.last_error


async def test_admins_list_parked_rows_and_replay_them_once_fixed(
    settings: Settings, world: World, db: Database, tiktok_sim: str, client: httpx.AsyncClient
) -> None:
    connection_id = await connect_tiktok_shop(db, world.coop_a)
    good_token = await _token_of(db, connection_id)
    await _set_token(db, connection_id, UNSENDABLE)
    placed = await place_order(
        tiktok_sim, [line(world.product_a.variants[0].sku)], status="AWAITING_SHIPMENT", push=False
    )
    assert await post_push(client, tiktok_push(settings, placed["order_id"])) == 200
    await run_worker(settings)
    await _retry_until_parked(settings, db)
    admin, coop_admin = world.users["admin"].headers, world.users["coop_admin"].headers

    listed = await client.get("/api/v1/inbound-events?state=failed", headers=admin)
    assert listed.status_code == 200, listed.text
    (row,) = listed.json()["items"]
    assert (row["state"], row["shop_id"], row["attempts"]) == ("failed", "7495540735365777507", 5)
    assert "UnicodeEncodeError" in row["last_error"]
    assert (await client.get("/api/v1/inbound-events", headers=coop_admin)).status_code == 403
    replay_url = f"/api/v1/inbound-events/{row['id']}/replay"
    assert (await client.post(replay_url, headers=coop_admin)).status_code == 403

    # The token is fixed through the API, which now refuses what httpx cannot send.
    patch_url = f"/api/v1/channel-connections/{connection_id}"
    refused = await client.patch(patch_url, json={"access_token": UNSENDABLE}, headers=admin)
    assert refused.status_code == 422
    fixed = await client.patch(patch_url, json={"access_token": good_token}, headers=admin)
    assert fixed.status_code == 200, fixed.text
    replayed = await client.post(replay_url, headers=admin)
    assert replayed.json() == {"replayed": [row["id"]]}
    await run_worker(settings)
    assert await order_by_platform_id(db, placed["order_id"]) is not None
    handled = await client.get("/api/v1/inbound-events?state=handled", headers=admin)
    assert [r["id"] for r in handled.json()["items"]] == [row["id"]]
    assert (
        await client.post("/api/v1/inbound-events/999999/replay", headers=admin)
    ).status_code == 404


async def _token_of(db: Database, connection_id: int) -> str:
    async with db.session() as session:
        connection = await session.get(ChannelConnection, connection_id)
        assert connection is not None
        assert connection.access_token is not None
        return connection.access_token


async def test_the_inbox_list_pages_by_id_and_replays_many(
    settings: Settings, world: World, db: Database, client: httpx.AsyncClient
) -> None:
    for n in range(5):
        assert await post_push(client, tiktok_push(settings, f"o-{n}", shop_id="unknown-7")) == 200
    admin = world.users["admin"].headers
    seen: list[int] = []
    url = "/api/v1/inbound-events?source=tiktok_shop&limit=2"
    while url:
        page = (await client.get(url, headers=admin)).json()
        seen += [item["id"] for item in page["items"]]
        nxt = page["next_before"]
        url = f"/api/v1/inbound-events?source=tiktok_shop&limit=2&before={nxt}" if nxt else ""
    assert seen == [5, 4, 3, 2, 1]
    keyed = await client.get("/api/v1/inbound-events?key=n-o-3", headers=admin)
    assert [item["id"] for item in keyed.json()["items"]] == [4]
    many = await client.post(
        "/api/v1/inbound-events/replay", json={"ids": [2, 3, 42]}, headers=admin
    )
    assert many.json() == {"replayed": [2, 3]}


async def test_a_shop_id_longer_than_any_column_is_parked_at_the_door(
    settings: Settings, world: World, db: Database, client: httpx.AsyncClient
) -> None:
    long_shop = "7" * 80
    assert await post_push(client, tiktok_push(settings, "o-long", shop_id=long_shop)) == 200
    assert await post_push(client, tiktok_push(settings, "o-fine", shop_id="unknown-8")) == 200
    await run_worker(settings)
    parked, fine = await inbox_rows(db)
    assert parked.parked_at is not None
    assert parked.handled_at is None
    assert parked.last_error == "shop_id is 80 characters, longer than 64"
    assert (fine.outcome, fine.parked_at) == ("unknown_shop", None)
    assert await order_by_platform_id(db, "o-long") is None
    assert await order_by_platform_id(db, "o-fine") is not None
