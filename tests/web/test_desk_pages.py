"""The desk over HTTP: scan answers (200/404/409), the plain-form path, moves, CSRF, scope, PDFs."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

import httpx

from api.accounts.models import Role
from api.cooperatives.models import Cooperative
from api.core.db import Database
from api.documents.render import DocumentKind
from api.web.i18n import VN
from tests.batches.rig import actor_of, booked_parcel, new_batch
from tests.factories import World, add_member

JSON = {"Accept": "application/json"}


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


@asynccontextmanager
async def _signed_in(api_base: str, token: str) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    """A browser signed in (cookie session) and its CSRF token."""
    async with httpx.AsyncClient(base_url=api_base, timeout=30) as browser:
        csrf = _csrf((await browser.get("/sign-in")).text)
        form = {"csrf_token": csrf, "token": token, "next": "/desk"}
        response = await browser.post("/sign-in", data=form)
        assert response.status_code == 303, response.text
        yield browser, csrf


async def _two_batches(db: Database, world: World) -> tuple[int, list[str], int, str]:
    """Today's batch of two parcels and another batch holding a third: (id, codes, other, code)."""
    staff = await actor_of(db, world, "logistics")
    today = datetime.now(VN).date()
    mine = [await booked_parcel(db, world) for _ in range(2)]
    batch = await new_batch(db, staff, world.coop_a, day=today)
    stray = await booked_parcel(db, world)
    other = await new_batch(db, staff, world.coop_a, day=today, start=batch.window_end)
    assert [p.shipment_id for p in other.items] == [stray.id]
    codes = [mine[0].waybill or "", mine[1].reference]
    return batch.id, codes, other.id, stray.waybill or ""


async def test_scanning_answers_packed_duplicate_other_batch_and_unknown(
    api_base: str, db: Database, world: World
) -> None:
    batch, codes, other, stray = await _two_batches(db, world)
    scan = f"/desk/batches/{batch}/scan"
    async with _signed_in(api_base, world.users["logistics"].token) as (browser, csrf):
        desk = await browser.get("/desk")
        assert desk.status_code == 200
        assert f'href="/desk/batches/{batch}"' in desk.text
        assert f'href="/desk/batches/{other}"' in desk.text
        page = await browser.get(f"/desk/batches/{batch}")
        assert page.status_code == 200
        assert 'id="code"' in page.text
        assert "autofocus" in page.text

        first = await browser.post(scan, data={"csrf_token": csrf, "code": codes[0]}, headers=JSON)
        assert first.status_code == 200, first.text
        body = first.json()
        assert (body["outcome"], body["packed"], body["left"]) == ("packed", 1, 1)
        assert body["title"] == "Đã đóng gói"
        again = await browser.post(scan, data={"csrf_token": csrf, "code": codes[0]}, headers=JSON)
        assert again.status_code == 200
        assert (again.json()["outcome"], again.json()["packed"]) == ("already_packed", 1)

        wrong = await browser.post(scan, data={"csrf_token": csrf, "code": stray}, headers=JSON)
        assert wrong.status_code == 409
        assert wrong.json()["outcome"] == "other_batch"
        assert wrong.json()["other_batch_id"] == other
        assert f"#{other}" in wrong.json()["title"]

        unknown = await browser.post(scan, data={"csrf_token": csrf, "code": "NOPE"}, headers=JSON)
        assert unknown.status_code == 404
        assert unknown.json()["outcome"] == "unknown"
        assert "NOPE" in unknown.json()["detail"]

        # Our order reference works as well as the waybill, typed in lower case too.
        by_reference = await browser.post(
            scan, data={"csrf_token": csrf, "code": codes[1].lower()}, headers=JSON
        )
        assert (by_reference.json()["packed"], by_reference.json()["left"]) == (2, 0)


async def test_csrf_is_required_and_plain_forms_work_without_javascript(
    api_base: str, db: Database, world: World
) -> None:
    batch, codes, _, _ = await _two_batches(db, world)
    scan = f"/desk/batches/{batch}/scan"
    async with _signed_in(api_base, world.users["logistics"].token) as (browser, csrf):
        forged = await browser.post(scan, data={"code": codes[0]}, headers=JSON)
        assert forged.status_code == 403
        wrong_token = await browser.post(scan, data={"csrf_token": "x" * 32, "code": codes[0]})
        assert wrong_token.status_code == 403
        moved = await browser.post(f"/desk/batches/{batch}/status", data={"to": "ready"})
        assert moved.status_code == 403

        posted = await browser.post(scan, data={"csrf_token": csrf, "code": codes[0]})
        assert (posted.status_code, posted.headers["location"]) == (303, f"/desk/batches/{batch}")
        shown = await browser.get(f"/desk/batches/{batch}")
        assert 'data-outcome="packed"' in shown.text
        assert 'id="count-packed">1<' in shown.text
        # The message is shown once.
        assert 'data-outcome="packed"' not in (await browser.get(f"/desk/batches/{batch}")).text

        refused = await browser.post(
            f"/desk/batches/{batch}/status", data={"csrf_token": csrf, "to": "ready"}
        )
        assert refused.status_code == 303
        page = (await browser.get(f"/desk/batches/{batch}")).text
        assert "Lô chưa chuyển trạng thái: 1 kiện chưa đóng gói" in page

        await browser.post(scan, data={"csrf_token": csrf, "code": codes[1]})
        await browser.post(
            f"/desk/batches/{batch}/status", data={"csrf_token": csrf, "to": "ready"}
        )
        page = (await browser.get(f"/desk/batches/{batch}")).text
        assert "Sẵn sàng lấy hàng." in page
        assert 'value="handed_over"' in page


async def test_another_province_sees_nothing(api_base: str, db: Database, world: World) -> None:
    batch, codes, _, _ = await _two_batches(db, world)
    async with db.session() as session:
        coop_b = await session.get(Cooperative, world.coop_b)
    assert coop_b is not None
    outsider = await add_member(db, Role.LOGISTICS, provinces=[coop_b.province_code])
    async with _signed_in(api_base, outsider.token) as (browser, csrf):
        assert f"/desk/batches/{batch}" not in (await browser.get("/desk")).text
        assert (await browser.get(f"/desk/batches/{batch}")).status_code == 404
        scanned = await browser.post(
            f"/desk/batches/{batch}/scan",
            data={"csrf_token": csrf, "code": codes[0]},
            headers=JSON,
        )
        assert scanned.status_code == 404
        moved = await browser.post(
            f"/desk/batches/{batch}/status", data={"csrf_token": csrf, "to": "ready"}
        )
        assert moved.status_code == 404
        pdf = await browser.get(f"/desk/batches/{batch}/documents/pick-list.pdf")
        assert pdf.status_code == 404
    other_coop = await add_member(db, Role.COOP_ADMIN, world.coop_b)
    async with _signed_in(api_base, other_coop.token) as (browser, _):
        assert (await browser.get(f"/desk/batches/{batch}")).status_code == 404
    async with _signed_in(api_base, world.users["coop_admin"].token) as (browser, _):
        assert (await browser.get(f"/desk/batches/{batch}")).status_code == 200
    # A programme manager reads the batch but neither scans, moves nor prints buyers' details.
    async with _signed_in(api_base, world.users["program_manager"].token) as (browser, _):
        page = await browser.get(f"/desk/batches/{batch}")
        assert page.status_code == 200
        assert 'id="code"' not in page.text
        assert "/documents/" not in page.text
        assert "Lò Thị Mai" not in page.text
        pdf = await browser.get(f"/desk/batches/{batch}/documents/labels-thermal.pdf")
        assert pdf.status_code == 403
    async with httpx.AsyncClient(base_url=api_base, timeout=10) as anonymous:
        answer = await anonymous.get(f"/desk/batches/{batch}")
        assert (answer.status_code, answer.headers["location"]) == (
            303,
            f"/sign-in?next=/desk/batches/{batch}",
        )


async def test_documents_open_inline_as_pdf(api_base: str, db: Database, world: World) -> None:
    batch, codes, _, _ = await _two_batches(db, world)
    async with _signed_in(api_base, world.users["logistics"].token) as (browser, _):
        page = (await browser.get(f"/desk/batches/{batch}")).text
        for kind in DocumentKind:
            href = f"/desk/batches/{batch}/documents/{kind.value}.pdf"
            assert f'href="{href}"' in page
            pdf = await browser.get(href)
            assert pdf.status_code == 200, (kind, pdf.text)
            assert pdf.headers["content-type"] == "application/pdf"
            assert pdf.headers["content-disposition"] == (
                f'inline; filename="lo-{batch}-{datetime.now(VN).date()}-{kind.value}.pdf"'
            )
            assert pdf.content.startswith(b"%PDF")
        table = await browser.get(f"/desk/batches/{batch}/documents/manifest.csv")
        assert table.status_code == 200
        assert table.headers["content-type"] == "text/csv; charset=utf-8"
        assert table.headers["content-disposition"].startswith("attachment;")
        assert codes[0] in table.content.decode("utf-8-sig")
        sheet = await browser.get(f"/desk/batches/{batch}/documents/pick-list.xlsx")
        assert sheet.status_code == 200
        assert sheet.content.startswith(b"PK")
        assert f'/desk/batches/{batch}/documents/manifest.xlsx"' in page
        for wrong in ("nope.pdf", "manifest.docx", "manifest"):
            answer = await browser.get(f"/desk/batches/{batch}/documents/{wrong}")
            assert answer.status_code == 404, wrong


async def test_a_day_at_the_calendar_edge_is_shown_not_a_500(api_base: str, world: World) -> None:
    async with _signed_in(api_base, world.users["logistics"].token) as (browser, _):
        last = await browser.get("/desk?day=9999-12-31")
        assert last.status_code == 200, last.status_code
        assert 'href="/desk?day=9999-12-30"' in last.text
        assert 'rel="next"' not in last.text
        first = await browser.get("/desk?day=0001-01-01")
        assert first.status_code == 200, first.status_code
        assert 'href="/desk?day=0001-01-02"' in first.text
        assert 'rel="prev"' not in first.text


async def test_a_day_that_is_not_a_date_shows_today_not_an_error(
    api_base: str, world: World
) -> None:
    async with _signed_in(api_base, world.users["logistics"].token) as (browser, _):
        for garbage in ("garbage", "2026-13-45", "%00", "9" * 40):
            page = await browser.get("/desk", params={"day": garbage})
            assert page.status_code == 200, (garbage, page.status_code)
            assert "text/html" in page.headers["content-type"]
