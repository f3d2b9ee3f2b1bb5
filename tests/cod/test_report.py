"""The per-cooperative COD report (JSON, CSV, xlsx) and the `phien cod` commands."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import httpx
from openpyxl import load_workbook

from api.core.db import Database
from tests.cod.rig import parcel, snapshot, upload, vtp_csv
from tests.factories import World

URL = "/api/v1/cod-report"
ROOT = Path(__file__).resolve().parents[2]


async def _scene(client: httpx.AsyncClient, db: Database, world: World) -> dict[str, str]:
    """Coop A: one paid, one short, one paid twice, one overdue, one recent; coop B: overdue."""
    paid = await parcel(db, world.coop_a, 200_000)
    short = await parcel(db, world.coop_a, 100_000)
    overdue = await parcel(db, world.coop_a, 55_000, delivered_days_ago=20)
    await parcel(db, world.coop_a, 66_000, delivered_days_ago=3)  # not overdue yet
    await parcel(db, world.coop_a, 77_000, delivered_days_ago=30, status="in_transit")
    await parcel(db, world.coop_b, 88_000, delivered_days_ago=30)
    content = vtp_csv([(paid.waybill, "200000", "", ""), (short.waybill, "95000", "", ""),
                       (paid.waybill, "200000", "", "")])  # fmt: skip
    assert (await upload(client, world.users["admin"].headers, content)).status_code == 201
    return {"paid": paid.waybill, "short": short.waybill, "overdue": overdue.waybill}


async def test_the_report_lists_what_a_cooperative_must_chase(
    client: httpx.AsyncClient, db: Database, world: World
) -> None:
    waybills = await _scene(client, db, world)

    response = await client.get(
        URL, headers=world.users["coop_admin"].headers, params={"cooperative_id": world.coop_a}
    )

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["overdue_days"] == 14
    found = sorted((i["kind"], i["waybill"]) for i in body["items"])
    assert found == sorted([("amount_differs", waybills["short"]),
                            ("paid_twice", waybills["paid"]), ("overdue", waybills["overdue"])])  # fmt: skip
    summary = {s["kind"]: (s["count"], s["expected_vnd"]) for s in body["summary"]}
    assert summary == {"amount_differs": (1, 100_000), "paid_twice": (1, 200_000),
                       "overdue": (1, 55_000)}  # fmt: skip
    short = next(i for i in body["items"] if i["kind"] == "amount_differs")
    assert (short["expected_vnd"], short["collected_vnd"]) == (100_000, 95_000)
    assert short["order_reference"].startswith("TT-COD-")
    assert "0912000111" not in response.text
    assert "Lò Thị Mai" not in response.text


async def test_report_as_csv_and_xlsx_read_back(
    client: httpx.AsyncClient, db: Database, world: World
) -> None:
    waybills = await _scene(client, db, world)
    headers = world.users["admin"].headers
    params = {"cooperative_id": world.coop_a}

    as_csv = await client.get(URL, headers=headers, params={**params, "format": "csv"})
    as_xlsx = await client.get(URL, headers=headers, params={**params, "format": "xlsx"})

    assert as_csv.status_code == 200
    assert as_csv.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert sorted(r["waybill"] for r in rows) == sorted(
        waybills[k] for k in ("paid", "short", "overdue")
    )
    assert {r["kind"] for r in rows} == {"amount_differs", "paid_twice", "overdue"}
    sheet = load_workbook(io.BytesIO(as_xlsx.content), read_only=True).worksheets[0]
    table = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert table[0][:3] == ["kind", "carrier", "waybill"]
    assert len(table) == 4
    overdue = next(r for r in table if r[0] == "overdue")
    assert overdue[6] == 55_000


async def test_who_reads_which_report(
    client: httpx.AsyncClient, db: Database, world: World
) -> None:
    await _scene(client, db, world)
    own = {"cooperative_id": world.coop_a}
    other = {"cooperative_id": world.coop_b}
    users = world.users

    manager = await client.get(URL, headers=users["program_manager"].headers, params=own)
    manager_csv = await client.get(
        URL, headers=users["program_manager"].headers, params={**own, "format": "csv"}
    )
    seller = await client.get(URL, headers=users["seller"].headers, params=own)
    foreign = await client.get(URL, headers=users["coop_admin"].headers, params=other)
    logistics = await client.get(URL, headers=users["logistics"].headers, params=own)
    missing = await client.get(URL, headers=users["admin"].headers, params={"cooperative_id": 999})

    assert manager.status_code == 200
    assert manager.json()["items"] == []
    assert manager.json()["total"] == 3
    assert (
        manager_csv.content.decode("utf-8-sig").splitlines()[0]
        == "kind,count,expected_vnd,collected_vnd"
    )
    assert seller.status_code == 200
    assert len(seller.json()["items"]) == 3
    assert foreign.status_code == 404
    assert logistics.status_code == 403
    assert missing.status_code == 404


def _phien(args: list[str], database_url: str, redis_url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": redis_url}
    return subprocess.run(  # noqa: S603 - our own CLI with fixed arguments
        [sys.executable, "-m", "workers.cli", *args],
        env=env, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


async def test_the_cli_imports_a_statement_and_writes_the_report(
    db: Database, world: World, database_url: str, redis_url: str, tmp_path: Path
) -> None:
    paid = await parcel(db, world.coop_a, 120_000)
    overdue = await parcel(db, world.coop_a, 30_000, delivered_days_ago=15)
    statement = tmp_path / "bang-ke-vtp.csv"
    statement.write_bytes(vtp_csv([(paid.waybill, "120.000", "2.000", "28/11/2026"),
                                   ("VTP-LA", "10000", "", ""), ("", "5", "", "")]))  # fmt: skip

    first = _phien(
        ["cod", "import", str(statement), "--carrier", "viettel-post"], database_url, redis_url
    )
    before = await snapshot(db)
    again = _phien(
        ["cod", "import", str(statement), "--carrier", "viettel-post"], database_url, redis_url
    )
    out = tmp_path / "report.xlsx"
    report = _phien(["cod", "report", "--cooperative", str(world.coop_a), "--out", str(out)],
                    database_url, redis_url)  # fmt: skip

    assert first.returncode == 0, first.stderr
    counts = dict(line.split("\t") for line in first.stdout.splitlines())
    assert counts == {"matched": "1", "amount_differs": "0", "unknown_waybill": "1",
                      "paid_twice": "0", "parked": "1"}  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert "already imported" in again.stderr
    assert await snapshot(db) == before
    assert report.returncode == 0, report.stderr
    sheet = load_workbook(out, read_only=True).worksheets[0]
    rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert [(r[0], r[2]) for r in rows[1:]] == [("overdue", overdue.waybill)]


async def test_the_cli_says_what_is_wrong_with_a_bad_file(
    db: Database, database_url: str, redis_url: str, tmp_path: Path
) -> None:
    bad = tmp_path / "notes.csv"
    bad.write_text("chỉ là ghi chú\n", encoding="utf-8")

    result = _phien(["cod", "import", str(bad), "--carrier", "ghn"], database_url, redis_url)
    unknown = _phien(["cod", "import", str(bad), "--carrier", "ghtk"], database_url, redis_url)

    assert result.returncode == 1
    assert "no header row" in result.stderr
    assert "Traceback" not in result.stderr
    assert unknown.returncode == 2
