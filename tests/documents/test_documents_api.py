"""GET /api/v1/pickup-batches/{id}/documents/{kind}.{format}: access, formats, streamed content."""

from __future__ import annotations

import csv
import io

import httpx
import pytest
from openpyxl import load_workbook

from api.core.db import Database
from api.documents.render import DocumentKind
from tests.batches.rig import actor_of, booked_parcel, new_batch
from tests.documents.readback import pdf_text
from tests.factories import World


async def _batch(db: Database, world: World) -> tuple[int, list[str]]:
    staff = await actor_of(db, world, "logistics")
    parcels = [await booked_parcel(db, world) for _ in range(3)]
    batch = await new_batch(db, staff, world.coop_a)
    return batch.id, [p.waybill or "" for p in parcels]


async def test_every_document_in_every_format(
    world: World, db: Database, client: httpx.AsyncClient
) -> None:
    batch_id, waybills = await _batch(db, world)
    headers = world.users["logistics"].headers
    base = f"/api/v1/pickup-batches/{batch_id}/documents"
    for kind in DocumentKind:
        for ext, media in (("pdf", "application/pdf"), ("csv", "text/csv"),
                           ("xlsx", "application/vnd.openxmlformats")):  # fmt: skip
            answer = await client.get(f"{base}/{kind}.{ext}", headers=headers)
            assert answer.status_code == 200, (kind, ext, answer.text)
            assert answer.headers["content-type"].startswith(media)
            assert f"lo-{batch_id}-" in answer.headers["content-disposition"]
            assert answer.content

    manifest = await client.get(f"{base}/manifest.pdf", headers=headers)
    text = "\n".join(pdf_text(manifest.content))
    assert all(waybill in text for waybill in waybills)
    assert "Tổng số kiện: 3" in text

    labels = await client.get(f"{base}/labels-thermal.csv", headers=headers)
    rows = list(csv.reader(io.StringIO(labels.content.decode("utf-8-sig"))))
    assert sorted(r[0] for r in rows[1:]) == sorted(waybills)

    book = await client.get(f"{base}/packing-slips.xlsx", headers=headers)
    sheet = load_workbook(io.BytesIO(book.content), read_only=True).active
    assert sheet is not None
    assert sorted(str(r[0]) for r in list(sheet.iter_rows(values_only=True))[1:]) == sorted(
        waybills
    )


@pytest.mark.parametrize("document", ["receipt.pdf", "manifest.docx", "manifest", "pick-list."])
async def test_unknown_kind_or_format_is_404(
    document: str, world: World, db: Database, client: httpx.AsyncClient
) -> None:
    batch_id, _ = await _batch(db, world)
    answer = await client.get(
        f"/api/v1/pickup-batches/{batch_id}/documents/{document}",
        headers=world.users["logistics"].headers,
    )
    assert answer.status_code == 404


async def test_access_follows_the_batch_rules(
    world: World, db: Database, client: httpx.AsyncClient
) -> None:
    batch_id, _ = await _batch(db, world)
    url = f"/api/v1/pickup-batches/{batch_id}/documents/manifest.pdf"
    assert (await client.get(url)).status_code == 401
    assert (await client.get(url, headers=world.users["admin"].headers)).status_code == 200
    assert (await client.get(url, headers=world.users["coop_admin"].headers)).status_code == 200
    # buyers' details: never for programme managers
    assert (
        await client.get(url, headers=world.users["program_manager"].headers)
    ).status_code == 403
    missing = "/api/v1/pickup-batches/999999/documents/manifest.pdf"
    assert (await client.get(missing, headers=world.users["admin"].headers)).status_code == 404


async def test_carrier_labels_are_offered_beside_ours(
    world: World, db: Database, client: httpx.AsyncClient
) -> None:
    batch_id, waybills = await _batch(db, world)
    answer = await client.get(
        f"/api/v1/pickup-batches/{batch_id}/carrier-labels",
        headers=world.users["logistics"].headers,
    )
    assert answer.status_code == 200
    body = answer.json()
    assert sorted(item["waybill"] for item in body) == sorted(waybills)
    for item in body:
        assert item["label_url"] is not None or "prepared" in item["label_error"]
