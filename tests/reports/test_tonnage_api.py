"""GET /api/v1/reports/tonnage against hand-computed expectations; exports read back."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from api.core.db import Database
from api.orders.models import OrderStatus
from integrations.carriers.base import ShipmentStatus
from tests.api.live_sessions.helpers import connect_shop
from tests.factories import World
from tests.reports.rig import Item, carrier_says, compact, item, place, platform_says, vn

URL = "/api/v1/reports/tonnage"


@dataclass
class Scene:
    """Five orders: two sold in Lai Châu, one cancelled, one delivered and one returned in Đắk Lắk."""

    rice: Item
    honey: Item
    coffee: Item


async def _scene(db: Database, world: World) -> Scene:
    a_tt = await connect_shop(db, world.coop_a, "tiktok_shop", "a-tt")
    a_sp = await connect_shop(db, world.coop_a, "shopee", "a-sp")
    b_tt = await connect_shop(db, world.coop_b, "tiktok_shop", "b-tt")
    rice = await item(db, world.coop_a, "Gạo Séng Cù", "rice", 5000, 180_000)
    honey = await item(db, world.coop_a, "Mật ong bạc hà", "honey", 1000, 200_000)
    coffee = await item(db, world.coop_b, "Cà phê rang củi", "coffee", 2000, 150_000)
    monday, tuesday, next_week = date(2026, 11, 2), date(2026, 11, 3), date(2026, 11, 10)
    await place(db, a_tt, vn(monday, 10), [(rice, 2)])
    # 23:30 in Hà Nội is still Monday there (16:30 UTC).
    await place(db, a_tt, vn(monday, 23, 30), [(honey, 1), (rice, 1)])
    # 00:30 on Tuesday in Hà Nội is Monday 17:30 UTC: it counts for Tuesday, then is cancelled.
    cancelled = await place(db, a_sp, vn(tuesday, 0, 30), [(honey, 3)])
    await platform_says(db, cancelled, OrderStatus.CANCELLED)
    delivered = await place(db, b_tt, vn(next_week, 9), [(coffee, 4)])
    await platform_says(db, delivered, OrderStatus.DELIVERED)
    returned = await place(db, b_tt, vn(next_week, 11), [(coffee, 1)])
    assert await carrier_says(db, returned.id, ShipmentStatus.RETURNED)
    return Scene(rice, honey, coffee)


def _sold(row: Any) -> tuple[int, ...]:
    sold = row["sold"]
    return sold["orders"], sold["units"], sold["grams"], sold["gmv_vnd"]


async def _get(client: httpx.AsyncClient, token: str, **params: Any) -> Any:
    response = await client.get(URL, params=params, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return response.json()


async def test_groupings_and_filters_match_hand_counts(
    db: Database, world: World, client: httpx.AsyncClient
) -> None:
    scene = await _scene(db, world)
    # Once with every change still a delta, once folded into the daily and monthly facts.
    await _expect_hand_counts(client, world, scene)
    await compact(db)
    await _expect_hand_counts(client, world, scene)


async def _expect_hand_counts(client: httpx.AsyncClient, world: World, scene: Scene) -> None:
    token = world.users["program_manager"].token
    by_day = await _get(client, token, group_by="day")
    rows = {r["key"]["day"]: r for r in by_day["items"]}
    # Monday: 2 orders, rice 3 x 5 kg + honey 1 kg; the cancelled Tuesday order is gone.
    assert set(rows) == {"2026-11-02", "2026-11-10"}
    assert _sold(rows["2026-11-02"]) == (2, 4, 16_000, 3 * 180_000 + 200_000)
    # Đắk Lắk: the delivered order counts, the returned one does not.
    assert _sold(rows["2026-11-10"]) == (1, 4, 8_000, 600_000)
    assert rows["2026-11-10"]["delivered"]["grams"] == 8_000
    assert rows["2026-11-02"]["delivered"]["grams"] == 0
    totals = by_day["totals"]["sold"]
    assert (totals["orders"], totals["kg"], totals["tonnes"]) == (3, 24.0, 0.024)

    by_cat = await _get(client, token, group_by="category", cooperative_id=world.coop_a)
    cats = {r["key"]["category"]: _sold(r) for r in by_cat["items"]}
    assert cats == {"rice": (2, 3, 15_000, 540_000), "honey": (1, 1, 1_000, 200_000)}

    two_way = await _get(client, token, group_by="week,channel")
    keys = [(r["key"]["week"], r["key"]["channel"], _sold(r)[0]) for r in two_way["items"]]
    assert keys == [("2026-11-02", "tiktok_shop", 2), ("2026-11-09", "tiktok_shop", 1)]

    later = await _get(client, token, group_by="province", date_from="2026-11-03")
    assert [r["label"]["province"] for r in later["items"]] == ["Đắk Lắk"]

    products = await _get(client, token, group_by="product", sort="sold_desc", category="rice")
    assert [(r["key"]["product"], r["label"]["product"]) for r in products["items"]] == [
        (scene.rice.product_id, "Gạo Séng Cù")
    ]
    monthly = await _get(client, token, group_by=["month", "cooperative"], channel="shopee")
    assert monthly["items"] == []
    assert monthly["total"] == 0
    november = await _get(
        client, token, group_by="month", date_from="2026-11-01", date_to="2026-11-30"
    )
    assert [(r["key"]["month"], _sold(r)[0]) for r in november["items"]] == [("2026-11-01", 3)]
    # Mid-month bounds: whole months from the monthly facts, the edges from the daily ones.
    for date_from, date_to, expected in (
        ("2026-10-15", "2026-11-05", [2]),
        ("2026-10-15", "2026-12-05", [2, 1]),
        ("2026-11-02", "2027-01-10", [2, 1]),
        ("2026-11-03", "2027-01-10", [1]),
    ):
        found = await _get(
            client, token, group_by="cooperative", date_from=date_from, date_to=date_to
        )
        assert [_sold(r)[0] for r in found["items"]] == expected, (date_from, date_to)
        assert found["totals"]["sold"]["orders"] == sum(expected)
    # By week: whole weeks from the weekly facts, the days around them from the daily ones.
    for date_from, date_to, weeks in (
        ("2026-11-02", "2026-11-15", [("2026-11-02", 2), ("2026-11-09", 1)]),
        ("2026-11-03", "2026-11-15", [("2026-11-09", 1)]),
        ("2026-10-28", "2026-11-10", [("2026-11-02", 2), ("2026-11-09", 1)]),
        ("2026-11-02", "2026-11-09", [("2026-11-02", 2)]),
    ):
        weekly = await _get(client, token, group_by="week", date_from=date_from, date_to=date_to)
        found_weeks = [(r["key"]["week"], _sold(r)[0]) for r in weekly["items"]]
        assert found_weeks == weeks, (date_from, date_to)


async def test_each_cooperative_sees_only_its_own(
    db: Database, world: World, client: httpx.AsyncClient
) -> None:
    await _scene(db, world)
    await compact(db)
    for role in ("coop_admin", "seller", "logistics"):
        body = await _get(client, world.users[role].token, group_by="cooperative")
        assert [r["key"]["cooperative"] for r in body["items"]] == [world.coop_a], role
        other = await _get(
            client, world.users[role].token, group_by="day", cooperative_id=world.coop_b
        )
        assert other["items"] == []
        assert other["totals"]["sold"]["orders"] == 0
    admin = await _get(client, world.users["admin"].token, group_by="cooperative")
    assert len(admin["items"]) == 2


async def test_csv_and_xlsx_read_back(
    db: Database, world: World, client: httpx.AsyncClient
) -> None:
    await _scene(db, world)
    headers = world.users["admin"].headers
    response = await client.get(
        URL, params={"group_by": "province", "format": "csv"}, headers=headers
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [(r["province_name"], r["sold_kg"], r["sold_orders"]) for r in rows] == [
        ("Lai Châu", "16.000", "2"),
        ("Đắk Lắk", "8.000", "1"),
    ] or [(r["province_name"], r["sold_kg"], r["sold_orders"]) for r in rows] == [
        ("Đắk Lắk", "8.000", "1"),
        ("Lai Châu", "16.000", "2"),
    ]
    accept = {
        **headers,
        "Accept": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
    response = await client.get(URL, params={"group_by": "cooperative,category"}, headers=accept)
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).active
    assert sheet is not None
    values = list(sheet.iter_rows(values_only=True))
    assert values[0][:4] == ("cooperative", "cooperative_name", "category", "sold_orders")
    found = {(r[1], r[2]): (r[3], r[5]) for r in values[1:]}
    assert found == {
        ("HTX Bình Lư", "rice"): (2, 15.0),
        ("HTX Bình Lư", "honey"): (1, 1.0),
        ("HTX Xuân Lãnh", "coffee"): (1, 8.0),
    }


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"group_by": "day,week,month"},
        {"group_by": "colour"},
        {"group_by": "day,day"},
        {"group_by": "day", "date_from": "2026-11-10", "date_to": "2026-11-01"},
        {"group_by": "day", "date_from": "yesterday"},
        {"group_by": "day", "cooperative_id": "0"},
        {"group_by": "day", "cooperative_id": str(2**64)},
        {"group_by": "day", "limit": "100000"},
        {"group_by": "day", "format": "pdf"},
        {"group_by": "day", "category": "gold"},
    ],
)
async def test_bad_requests_are_422(
    world: World, client: httpx.AsyncClient, params: dict[str, str]
) -> None:
    response = await client.get(URL, params=params, headers=world.users["admin"].headers)
    assert response.status_code == 422, response.text


async def test_needs_a_token(client: httpx.AsyncClient) -> None:
    assert (await client.get(URL, params={"group_by": "day"})).status_code == 401
