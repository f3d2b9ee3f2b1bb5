"""COD payout statements over the API: matching, re-imports, bad rows and files, access."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from api.core.db import Database
from tests.cod.rig import GHN_HEADER, parcel, snapshot, upload, vtp_csv, xlsx
from tests.factories import World

URL = "/api/v1/cod-statements"


async def _payment(db: Database, order_id: int) -> tuple[str, int | None]:
    async with db.engine.connect() as conn:
        from sqlalchemy import text

        row = (
            await conn.execute(
                text(
                    "SELECT o.payment_status, s.cod_collected_vnd FROM orders o "
                    "JOIN shipments s ON s.order_id = o.id WHERE o.id = :id"
                ),
                {"id": order_id},
            )
        ).one()
    return row[0], row[1]


async def _lines(client: httpx.AsyncClient, headers: dict[str, str], sid: int, **q: Any) -> Any:
    response = await client.get(f"{URL}/{sid}/lines", headers=headers, params={"limit": 200, **q})
    assert response.status_code == 200, response.text
    return sorted(response.json()["items"], key=lambda line: line["line_no"])


async def test_a_statement_with_matches_mismatches_unknowns_and_a_second_payout(
    client: httpx.AsyncClient, db: Database, world: World
) -> None:
    paid = await parcel(db, world.coop_a, 250_000)
    short = await parcel(db, world.coop_a, 100_000)
    garbled = await parcel(db, world.coop_b, 80_000)
    other_carrier = await parcel(db, world.coop_a, 70_000, carrier="ghn")
    admin = world.users["admin"].headers
    content = vtp_csv([
        (paid.waybill, "250.000", "5.000", "28/11/2026 09:30"),
        (short.waybill, "90.000", "3.000", "28/11/2026"),
        ("VTP999999", "50000", "", ""),
        (paid.waybill, "250000", "", ""),
        (other_carrier.waybill, "70000", "", ""),
        ("", "120000", "", ""),
        (garbled.waybill, "hai trăm", "", ""),
    ])  # fmt: skip

    response = await upload(client, admin, content)

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["created"] is True
    assert body["statement_ref"] == "BK-2026-11-028"
    assert body["carrier"] == "viettel_post"
    assert {k: body[k] for k in ("lines_total", "matched", "amount_differs", "unknown_waybill",
                                 "paid_twice", "parked")} == {
        "lines_total": 7, "matched": 1, "amount_differs": 1, "unknown_waybill": 2,
        "paid_twice": 1, "parked": 2,
    }  # fmt: skip
    lines = await _lines(client, admin, body["id"])
    assert [(line["line_no"], line["outcome"]) for line in lines] == [
        (5, "matched"), (6, "amount_differs"), (7, "unknown_waybill"), (8, "paid_twice"),
        (9, "unknown_waybill"), (10, "parked"), (11, "parked"),
    ]  # fmt: skip
    assert lines[0]["amount_paid_vnd"] == 245_000
    assert lines[0]["order_id"] == paid.order_id
    assert lines[0]["cooperative_id"] == world.coop_a
    assert lines[1]["expected_vnd"] == 100_000
    assert "90000" in lines[1]["reason"]
    assert lines[3]["reason"] == "also on line 5 of this statement"
    assert lines[5]["reason"] == "no waybill"
    assert "collected" in lines[6]["reason"]
    assert await _payment(db, paid.order_id) == ("cod_collected", 250_000)
    assert await _payment(db, short.order_id) == ("cod_pending", None)
    assert await _payment(db, other_carrier.order_id) == ("cod_pending", None)
    parked = await _lines(client, admin, body["id"], outcome="parked")
    assert [line["line_no"] for line in parked] == [10, 11]


async def test_the_same_statement_twice_changes_nothing(
    client: httpx.AsyncClient, db: Database, world: World
) -> None:
    paid = await parcel(db, world.coop_a, 150_000)
    short = await parcel(db, world.coop_a, 60_000)
    admin = world.users["admin"].headers
    content = vtp_csv([(paid.waybill, "150000", "", ""), (short.waybill, "1", "", ""),
                       ("VTP-NOBODY", "5", "", "")])  # fmt: skip
    first = await upload(client, admin, content)
    assert first.status_code == 201, first.text
    before = await snapshot(db)

    again = await upload(client, admin, content, name="renamed.csv")

    assert again.status_code == 200, again.text
    assert again.json()["created"] is False
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["file_name"] == "bang-ke.csv"
    assert await snapshot(db) == before


async def test_the_same_statement_downloaded_again_changes_nothing(
    client: httpx.AsyncClient, db: Database, world: World
) -> None:
    paid = await parcel(db, world.coop_a, 150_000)
    admin = world.users["admin"].headers
    content = vtp_csv([(paid.waybill, "150000", "", "")])
    first = await upload(client, admin, content)
    assert first.status_code == 201, first.text
    before = await snapshot(db)
    # The portal's export downloaded again (or opened and saved): other bytes, the same payout.
    resaved = content.decode("utf-8-sig").replace("\r\n", "\n").encode("utf-8")
    assert resaved != content

    again = await upload(client, admin, resaved, name="bang-ke (1).csv")

    assert again.status_code == 200, again.text
    assert again.json()["created"] is False
    assert again.json()["id"] == first.json()["id"]
    assert await snapshot(db) == before


async def test_the_same_payout_in_another_file_counts_once(
    client: httpx.AsyncClient, db: Database, world: World
) -> None:
    paid = await parcel(db, world.coop_a, 150_000)
    later = await parcel(db, world.coop_a, 40_000)
    admin = world.users["admin"].headers
    first = await upload(client, admin, vtp_csv([(paid.waybill, "150000", "", "")]))
    assert first.status_code == 201
    orders_before = await _payment(db, paid.order_id)
    # The carrier's portal export of the next period, in English API names, as a workbook.
    book = xlsx(("ORDER_NUMBER", "MONEY_COLLECTION", "MONEY_FEECOD"),
                [(paid.waybill, 150000, 2000), (later.waybill, 40000, 1000)])  # fmt: skip

    second = await upload(client, admin, book, name="payout.xlsx", media="application/octet-stream")

    assert second.status_code == 201, second.text
    body = second.json()
    assert body["file_format"] == "xlsx"
    assert (body["matched"], body["paid_twice"]) == (1, 1)
    lines = await _lines(client, admin, body["id"])
    assert lines[0]["outcome"] == "paid_twice"
    assert lines[0]["reason"] == f"already paid on line 5 of statement {first.json()['id']}"
    assert lines[1]["outcome"] == "matched"
    assert lines[1]["amount_paid_vnd"] == 39_000
    assert await _payment(db, paid.order_id) == orders_before
    assert await _payment(db, later.order_id) == ("cod_collected", 40_000)


async def test_a_ghn_statement_as_csv_and_as_xlsx(
    client: httpx.AsyncClient, db: Database, world: World
) -> None:
    one = await parcel(db, world.coop_a, 99_000, carrier="ghn")
    two = await parcel(db, world.coop_b, 45_500, carrier="ghn")
    same_waybill_at_vtp = await parcel(db, world.coop_a, 99_000, waybill=one.waybill)
    admin = world.users["admin"].headers
    csv_body = (
        "order_code,cod_amount,CODFee,CODTransferDate\n"
        f'{one.waybill},"99,000",1000,2026-11-27T08:00:00Z\n'
    ).encode()
    book = xlsx(GHN_HEADER, [(two.waybill, 45500, 500, "27/11/2026")])

    from_csv = await upload(client, admin, csv_body, carrier="ghn")
    from_xlsx = await upload(client, admin, book, carrier="ghn", name="ghn.xlsx",
                             media="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")  # fmt: skip

    assert (from_csv.status_code, from_csv.json()["matched"]) == (201, 1), from_csv.text
    assert (from_xlsx.status_code, from_xlsx.json()["matched"]) == (201, 1), from_xlsx.text
    assert await _payment(db, one.order_id) == ("cod_collected", 99_000)
    assert await _payment(db, two.order_id) == ("cod_collected", 45_500)
    # Waybills are unique per carrier only: GHN's payout does not pay the Viettel Post parcel.
    assert await _payment(db, same_waybill_at_vtp.order_id) == ("cod_pending", None)
    paid_at = (await _lines(client, admin, from_csv.json()["id"]))[0]["paid_at"]
    assert paid_at.startswith("2026-11-27T08:00:00")


async def test_files_that_are_not_statements(client: httpx.AsyncClient, world: World) -> None:
    admin = world.users["admin"].headers

    no_header = await upload(client, admin, "Xin chào;thế giới\n1;2\n".encode())
    wrong_carrier_columns = await upload(client, admin, b"order_code,cod_amount\nX,1\n")
    not_text = await upload(client, admin, b"\xff\xfe\x00garbage\x00" * 20)
    broken_zip = await upload(client, admin, b"PK\x03\x04not really", name="a.xlsx")
    empty = await upload(client, admin, b"")
    image = await upload(client, admin, b"\x89PNG....", name="photo.png", media="image/png")
    bad_carrier = await upload(client, admin, vtp_csv([]), carrier="ghtk")

    for response in (no_header, wrong_carrier_columns, not_text, broken_zip, empty, bad_carrier):
        assert response.status_code == 422, response.text
    assert "header" in no_header.text
    assert image.status_code == 415
    listed = await client.get(URL, headers=admin)
    assert listed.json()["total"] == 0


async def test_a_file_over_the_limit_is_413(client: httpx.AsyncClient, world: World) -> None:
    admin = world.users["admin"].headers
    huge = b"x" * 20_000_100

    response = await upload(client, admin, huge)

    assert response.status_code == 413


async def test_only_admins_import_and_read_statements(
    client: httpx.AsyncClient, db: Database, world: World
) -> None:
    await parcel(db, world.coop_a, 10_000)
    content = vtp_csv([("VTP-X", "10000", "", "")])
    for role in ("coop_admin", "seller", "program_manager", "logistics"):
        headers = world.users[role].headers
        assert (await upload(client, headers, content)).status_code == 403, role
        assert (await client.get(URL, headers=headers)).status_code == 403, role
    assert (await client.post(URL, files={"file": ("a.csv", content)},
                              data={"carrier": "ghn"})).status_code == 401  # fmt: skip
    created = await upload(client, world.users["admin"].headers, content)
    sid = created.json()["id"]
    assert (
        await client.get(f"{URL}/{sid}", headers=world.users["coop_admin"].headers)
    ).status_code == 403
    listed = await client.get(URL, headers=world.users["admin"].headers, params={"limit": 1})
    assert listed.status_code == 200
    assert [s["id"] for s in listed.json()["items"]] == [sid]
    assert (await client.get(f"{URL}/999", headers=world.users["admin"].headers)).status_code == 404


async def test_two_files_paying_one_waybill_at_once_count_it_once(
    client: httpx.AsyncClient, db: Database, world: World
) -> None:
    parcels = [await parcel(db, world.coop_a, 10_000 + i) for i in range(3)]
    admin = world.users["admin"].headers
    first = vtp_csv([(p.waybill, str(p.cod_vnd), "", "") for p in parcels])
    second = vtp_csv([(p.waybill, str(p.cod_vnd), "100", "") for p in reversed(parcels)])

    answers = await asyncio.gather(
        upload(client, admin, first), upload(client, admin, second), upload(client, admin, first)
    )

    assert sorted(a.status_code for a in answers) == [200, 201, 201]
    created = [a.json() for a in answers if a.status_code == 201]
    assert sorted((s["matched"], s["paid_twice"]) for s in created) == [(0, 3), (3, 0)]
    assert {a.json()["id"] for a in answers if a.status_code == 200} <= {s["id"] for s in created}
    for p in parcels:
        assert await _payment(db, p.order_id) == ("cod_collected", p.cod_vnd)


async def test_a_file_imported_for_one_carrier_is_refused_for_the_other(
    client: httpx.AsyncClient, world: World
) -> None:
    admin = world.users["admin"].headers
    content = b"order_code,cod_amount,Ma van don,Tien thu ho\nX,1,X,1\n"
    assert (await upload(client, admin, content, carrier="ghn")).status_code == 201

    again = await upload(client, admin, content, carrier="viettel-post")

    assert again.status_code == 409
    assert "ghn" in again.json()["detail"]
