"""Connecting a shop through the platform's own authorisation, against the simulators over HTTP."""

from __future__ import annotations

import base64
from urllib.parse import urlencode, urlsplit

import httpx
import orjson
from cryptography.fernet import Fernet
from sqlalchemy import text

from api.accounts.models import Role
from api.channels.oauth_state import issue_state
from api.core.config import Settings
from api.core.db import Database, utcnow
from api.core.encryption import Keyring, current_keyring
from integrations.simulators import shopee as shopee_sim_app
from integrations.simulators import tiktok_shop as tiktok_shop_sim
from tests.api.channels.conftest import API
from tests.api.channels.oauth_rig import ask_link, authorise, come_back, consent
from tests.factories import World, add_member
from tests.ingestion.rig import drain, line, order_by_platform_id, place_order, run_worker
from tests.stack import SECRETS_KEY

TIKTOK_SHOP = tiktok_shop_sim.DEFAULT_SHOP_ID
SHOPEE_SHOP = str(shopee_sim_app.DEFAULT_SHOP_ID)
CALLBACK = "/api/v1/channel-connections/oauth/{}/callback"


async def _rows(db: Database) -> list[tuple[int, str, str, str]]:
    async with db.engine.connect() as conn:
        rows = await conn.execute(
            text(
                "SELECT cooperative_id, shop_id, access_token, refresh_token"
                " FROM channel_connections ORDER BY id"
            )
        )
        return [(r.cooperative_id, r.shop_id, r.access_token, r.refresh_token) for r in rows]


async def test_tiktok_shop_round_trip_connects_the_shop_the_platform_names(
    client: httpx.AsyncClient, world: World, db: Database, settings: Settings, tiktok_sim: str
) -> None:
    coop_admin = world.users["coop_admin"].headers
    link = await ask_link(client, "tiktok_shop", world.coop_a, coop_admin)
    assert link.url.startswith(f"{tiktok_sim}/oauth/authorize?app_key=sim_app_key&state=")
    assert link.body["redirect_url"] == f"{client.base_url}{CALLBACK.format('tiktok_shop')}"
    callback = await come_back(await consent(link.url, TIKTOK_SHOP))
    assert callback.status_code == 200, callback.text
    (connected,) = callback.json()["items"]
    assert (connected["cooperative_id"], connected["platform"]) == (world.coop_a, "tiktok_shop")
    assert (connected["shop_id"], connected["shop_cipher"]) == (
        TIKTOK_SHOP,
        tiktok_shop_sim.DEFAULT_SHOP_CIPHER,
    )
    assert (connected["shop_name"], connected["status"]) == ("Nông sản Bình Lư", "active")
    assert connected["has_refresh_token"]
    assert connected["access_expires_at"] is not None
    ((coop, shop, access, refresh),) = await _rows(db)
    assert (coop, shop) == (world.coop_a, TIKTOK_SHOP)
    fernet = Fernet(SECRETS_KEY.encode())
    plain = [fernet.decrypt(v.encode()).decode() for v in (access, refresh)]
    assert all(p.startswith("TTP_") and p not in callback.text for p in plain)
    # The worker reads orders with the tokens the authorisation gave.
    sku = world.product_a.variants[0].sku
    placed = await place_order(tiktok_sim, [line(sku, 1)], status="AWAITING_SHIPMENT")
    await drain(tiktok_sim)
    await run_worker(settings)
    assert await order_by_platform_id(db, placed["order_id"]) is not None


async def test_shopee_round_trip_signs_the_link_and_learns_the_shop(
    client: httpx.AsyncClient, world: World, db: Database, shopee_sim: str
) -> None:
    link = await ask_link(client, "shopee", world.coop_a, world.users["coop_admin"].headers)
    parts = urlsplit(link.url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == (
        f"{shopee_sim}/api/v2/shop/auth_partner"
    )
    location = await consent(link.url, SHOPEE_SHOP)
    assert location.startswith(f"{client.base_url}{CALLBACK.format('shopee')}?state=")
    callback = await come_back(location)
    assert callback.status_code == 200, callback.text
    (connected,) = callback.json()["items"]
    assert (connected["shop_id"], connected["shop_name"]) == (SHOPEE_SHOP, "Trà Shan Tuyết")
    assert connected["shop_cipher"] is None
    ((_, _, access, _),) = await _rows(db)
    assert len(Fernet(SECRETS_KEY.encode()).decrypt(access.encode())) == 32


def _tampered(state: str, **changes: object) -> str:
    body, _, signature = state.partition(".")
    payload = orjson.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    forged = base64.urlsafe_b64encode(orjson.dumps({**payload, **changes})).rstrip(b"=")
    return f"{forged.decode()}.{signature}"


async def test_a_forged_state_is_refused_and_connects_nothing(
    client: httpx.AsyncClient, world: World, db: Database
) -> None:
    link = await ask_link(client, "tiktok_shop", world.coop_a, world.users["coop_admin"].headers)
    location = await consent(link.url, TIKTOK_SHOP)
    code = dict(p.split("=", 1) for p in urlsplit(location).query.split("&"))["code"]
    other_key = Keyring([Fernet.generate_key()])
    foreign, _ = issue_state(other_key, world.coop_a, "tiktok_shop", 1, 2_000_000_000)
    forgeries = {
        "another cooperative": _tampered(link.state, c=world.coop_b),
        "longer life": _tampered(link.state, e=2_000_000_000),
        "signed with another key": foreign,
        "no signature": link.state.partition(".")[0],
        "garbage": "not-a-state",
    }
    for name, state in forgeries.items():
        query = urlencode({"code": code, "state": state})
        response = await client.get(f"{CALLBACK.format('tiktok_shop')}?{query}")
        assert response.status_code == 400, name
        assert "not one Phiên made" in response.json()["detail"], name
    # A genuine TikTok Shop state does not open the Shopee callback either.
    wrong_platform = urlencode({"code": code, "state": link.state, "shop_id": SHOPEE_SHOP})
    assert (await client.get(f"{CALLBACK.format('shopee')}?{wrong_platform}")).status_code == 400
    assert await _rows(db) == []
    # The code was never spent: the genuine state still connects the shop.
    assert (await come_back(location)).status_code == 200


async def test_an_expired_state_is_refused(
    client: httpx.AsyncClient, world: World, db: Database, tiktok_sim: str
) -> None:
    # What the server issued eleven minutes ago: signed with its own keys, expired a minute ago.
    expired_at = int(utcnow().timestamp()) - 60
    state, _ = issue_state(
        current_keyring(), world.coop_a, "tiktok_shop", world.users["coop_admin"].user_id,
        expired_at,
    )  # fmt: skip
    url = f"{tiktok_sim}/oauth/authorize?{urlencode({'app_key': 'sim_app_key', 'state': state})}"
    response = await come_back(await consent(url, TIKTOK_SHOP))
    assert response.status_code == 400
    assert "expired" in response.json()["detail"]
    assert await _rows(db) == []


async def test_a_state_works_once(client: httpx.AsyncClient, world: World, db: Database) -> None:
    link = await ask_link(client, "tiktok_shop", world.coop_a, world.users["coop_admin"].headers)
    location = await consent(link.url, TIKTOK_SHOP)
    assert (await come_back(location)).status_code == 200
    replayed = await come_back(location)
    assert replayed.status_code == 400
    assert "already used" in replayed.json()["detail"]
    # Nor with a fresh code: whoever holds the state cannot connect a second time with it.
    again = await come_back(await consent(link.url, TIKTOK_SHOP))
    assert again.status_code == 400
    assert len(await _rows(db)) == 1


async def test_a_shop_connected_elsewhere_is_refused_without_naming_the_cooperative(
    client: httpx.AsyncClient, world: World, db: Database
) -> None:
    coop_b_admin = await add_member(db, Role.COOP_ADMIN, world.coop_b)
    first = await authorise(client, "shopee", world.coop_b, coop_b_admin.headers, SHOPEE_SHOP)
    assert first.status_code == 200, first.text
    before = await _rows(db)
    refused = await authorise(
        client, "shopee", world.coop_a, world.users["coop_admin"].headers, SHOPEE_SHOP
    )
    assert refused.status_code == 409
    for leak in ("Xuân Lãnh", "Xuan Lanh", f'"{world.coop_b}"', "cooperative_id"):
        assert leak not in refused.text, leak
    assert "another account" in refused.json()["detail"]
    assert await _rows(db) == before  # coop B's connection and tokens untouched
    # Coop B authorising its own shop again refreshes the same connection.
    again = await authorise(client, "shopee", world.coop_b, coop_b_admin.headers, SHOPEE_SHOP)
    assert again.json()["items"][0]["id"] == first.json()["items"][0]["id"]
    assert (await _rows(db))[0][2] != before[0][2]


async def test_only_the_cooperatives_managers_get_a_link(
    client: httpx.AsyncClient, world: World
) -> None:
    path = f"{API}/oauth/tiktok_shop/authorization-links"
    for role, own, other in (
        ("admin", 201, 201),
        ("coop_admin", 201, 404),
        ("seller", 403, 404),
        ("program_manager", 403, 403),
        ("logistics", 403, 404),
    ):
        for coop, expected in ((world.coop_a, own), (world.coop_b, other)):
            response = await client.post(
                path, json={"cooperative_id": coop}, headers=world.users[role].headers
            )
            assert response.status_code == expected, (role, coop, response.text)
    assert (await client.post(path, json={"cooperative_id": world.coop_a})).status_code == 401
    lazada = f"{API}/oauth/lazada/authorization-links"
    body = {"cooperative_id": world.coop_a}
    assert (
        await client.post(lazada, json=body, headers=world.users["admin"].headers)
    ).status_code == 422


async def test_authorising_again_revives_a_shop_that_needed_it(
    client: httpx.AsyncClient, world: World, db: Database
) -> None:
    headers = world.users["coop_admin"].headers
    first = (await authorise(client, "tiktok_shop", world.coop_a, headers, TIKTOK_SHOP)).json()
    async with db.engine.begin() as conn:  # what the token job does when the platform refuses
        await conn.execute(text("UPDATE channel_connections SET status = 'reauth_required'"))
    again = await authorise(client, "tiktok_shop", world.coop_a, headers, TIKTOK_SHOP)
    (revived,) = again.json()["items"]
    assert (revived["id"], revived["status"]) == (first["items"][0]["id"], "active")


async def test_a_link_dies_with_its_authors_rights(
    client: httpx.AsyncClient, world: World, db: Database
) -> None:
    author = await add_member(db, Role.COOP_ADMIN, world.coop_a)
    link = await ask_link(client, "tiktok_shop", world.coop_a, author.headers)
    async with db.engine.begin() as conn:
        await conn.execute(
            text("UPDATE users SET is_active = false WHERE id = :id"), {"id": author.user_id}
        )
    response = await come_back(await consent(link.url, TIKTOK_SHOP))
    assert response.status_code == 403
    assert await _rows(db) == []
