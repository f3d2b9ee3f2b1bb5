"""Platform tokens are ciphertext in the table, work for the worker, and rotate to a new key."""

from __future__ import annotations

import httpx
from cryptography.fernet import Fernet
from pydantic import SecretStr
from sqlalchemy import text

from api.core import encryption
from api.core.config import Settings
from api.core.db import Database
from api.core.rotation import rotate_secrets
from integrations.simulators import tiktok_shop as tiktok_shop_sim
from tests.api.channels.conftest import API
from tests.factories import World
from tests.ingestion.rig import drain, line, order_by_platform_id, place_order, run_worker
from tests.stack import SECRETS_KEY


async def _stored(db: Database, connection_id: int) -> tuple[str, str]:
    async with db.engine.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT access_token, refresh_token FROM channel_connections WHERE id = :id"),
                {"id": connection_id},
            )
        ).one()
    return row.access_token, row.refresh_token


async def _connect_sim_shop(client: httpx.AsyncClient, world: World) -> int:
    sim = tiktok_shop_sim.TikTokShopSimConfig()
    body = {
        "cooperative_id": world.coop_a,
        "platform": "tiktok_shop",
        "shop_id": tiktok_shop_sim.DEFAULT_SHOP_ID,
        "shop_cipher": tiktok_shop_sim.DEFAULT_SHOP_CIPHER,
        "access_token": sim.access_token,
        "refresh_token": sim.refresh_token,
    }
    created = await client.post(API, json=body, headers=world.users["admin"].headers)
    assert created.status_code == 201, created.text
    connection_id: int = created.json()["id"]
    return connection_id


async def test_tokens_are_ciphertext_in_the_table_and_the_worker_still_uses_them(
    client: httpx.AsyncClient, world: World, db: Database, settings: Settings, tiktok_sim: str
) -> None:
    sim = tiktok_shop_sim.TikTokShopSimConfig()
    connection_id = await _connect_sim_shop(client, world)
    access, refresh = await _stored(db, connection_id)
    for stored, plain in ((access, sim.access_token), (refresh, sim.refresh_token)):
        assert plain not in stored
        assert Fernet(SECRETS_KEY.encode()).decrypt(stored.encode()).decode() == plain
    assert access != refresh
    # The worker decrypts the access token to fetch the order: the simulator accepts it.
    sku = world.product_a.variants[0].sku
    placed = await place_order(tiktok_sim, [line(sku, 1)], status="AWAITING_SHIPMENT")
    await drain(tiktok_sim)
    await run_worker(settings)
    assert await order_by_platform_id(db, placed["order_id"]) is not None


async def test_rotation_re_encrypts_every_token_under_the_new_key(
    client: httpx.AsyncClient, world: World, db: Database, settings: Settings
) -> None:
    connection_id = await _connect_sim_shop(client, world)
    before = await _stored(db, connection_id)
    new_key = Fernet.generate_key().decode()
    rotated_settings = settings.model_copy(
        update={"secrets_keys": SecretStr(f"{new_key},{SECRETS_KEY}")}
    )
    try:
        keyring = encryption.configure(rotated_settings)
        async with db.session() as session:
            report = await rotate_secrets(session, keyring)
        assert (report.rewritten, report.current) == (
            {"channel_connections": 2},
            {"channel_connections": 0},
        )
        after = await _stored(db, connection_id)
        plain = [Fernet(SECRETS_KEY.encode()).decrypt(v.encode()) for v in before]
        assert [Fernet(new_key.encode()).decrypt(v.encode()) for v in after] == plain
        async with db.session() as session:
            again = await rotate_secrets(session, keyring)
        assert again.current == {"channel_connections": 2}
        # With only the new key configured, the API still reads the connection.
        encryption.configure(settings.model_copy(update={"secrets_keys": SecretStr(new_key)}))
        read = await client.get(f"{API}/{connection_id}", headers=world.users["admin"].headers)
        assert read.json()["has_refresh_token"] is True
    finally:
        encryption.configure(settings)
