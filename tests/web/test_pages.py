"""The web layer over HTTP: sign-in by token, cookie session, CSRF, languages, sign-out, scope."""

from __future__ import annotations

import re
from datetime import date

import httpx

from api.core.db import Database
from tests.api.live_sessions.helpers import connect_shop
from tests.factories import World
from tests.reports.rig import item, place, vn


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


async def _signed_in(api_base: str, token: str) -> httpx.AsyncClient:
    browser = httpx.AsyncClient(base_url=api_base, timeout=10)
    page = await browser.get("/sign-in")
    form = {"csrf_token": _csrf(page.text), "token": token, "next": "/dashboard"}
    response = await browser.post("/sign-in", data=form)
    assert response.status_code == 303, response.text
    return browser


async def test_sign_in_language_and_sign_out(api_base: str, world: World) -> None:
    async with httpx.AsyncClient(base_url=api_base, timeout=10) as browser:
        first = await browser.get("/dashboard")
        assert (first.status_code, first.headers["location"]) == (303, "/sign-in?next=/dashboard")
        page = await browser.get("/sign-in")
        assert page.status_code == 200
        assert "Đăng nhập" in page.text
        token = _csrf(page.text)
        no_csrf = await browser.post("/sign-in", data={"token": world.users["admin"].token})
        assert no_csrf.status_code == 403
        wrong = await browser.post("/sign-in", data={"csrf_token": token, "token": "phn_nope"})
        assert wrong.status_code == 401
        assert "Mã này không hợp lệ." in wrong.text
        ok = await browser.post(
            "/sign-in",
            data={
                "csrf_token": token,
                "token": world.users["admin"].token,
                "next": "//evil.example",
            },
        )
        assert (ok.status_code, ok.headers["location"]) == (303, "/dashboard")
        cookie = ok.headers["set-cookie"].lower()
        assert "httponly" in cookie
        assert "samesite=lax" in cookie
        assert world.users["admin"].token not in ok.headers["set-cookie"]
        dashboard = await browser.get("/dashboard")
        assert dashboard.status_code == 200
        assert "Bảng theo dõi chương trình" in dashboard.text
        english = await browser.post(
            "/language", data={"csrf_token": token, "lang": "en", "next": "/dashboard"}
        )
        assert english.status_code == 303
        assert "Programme dashboard" in (await browser.get("/dashboard")).text
        out = await browser.post("/sign-out", data={"csrf_token": token})
        assert out.status_code == 303
        session_cookie = ok.cookies.get("phien_session")
        assert session_cookie
        browser.cookies.set("phien_session", session_cookie)
        assert (await browser.get("/dashboard")).status_code == 303


async def test_a_cooperative_sees_only_its_own_and_no_buyer(
    api_base: str, db: Database, world: World
) -> None:
    a = await connect_shop(db, world.coop_a, "tiktok_shop", "a")
    b = await connect_shop(db, world.coop_b, "tiktok_shop", "b")
    rice = await item(db, world.coop_a, "Gạo Séng Cù", "rice", 5000, 180_000)
    coffee = await item(db, world.coop_b, "Cà phê Xuân Lãnh", "coffee", 1000, 200_000)
    await place(db, a, vn(date(2026, 11, 2), 10), [(rice, 2)])
    await place(db, b, vn(date(2026, 11, 2), 10), [(coffee, 3)])
    seller = await _signed_in(api_base, world.users["seller"].token)
    manager = await _signed_in(api_base, world.users["program_manager"].token)
    try:
        own = (await seller.get("/dashboard")).text
        everyone = (await manager.get("/dashboard")).text
        export = await manager.get("/dashboard/export", params={"group_by": "cooperative"})
    finally:
        await seller.aclose()
        await manager.aclose()
    assert "Gạo Séng Cù" in own
    assert "Cà phê Xuân Lãnh" not in own
    assert "HTX Xuân Lãnh" not in own
    assert "Gạo Séng Cù" in everyone
    assert "Cà phê Xuân Lãnh" in everyone
    for page in (own, everyone, export.text):
        assert "Khách live" not in page
        assert "0912345678" not in page
        assert "Bản 1, Xã" not in page
    assert "HTX Xuân Lãnh" in export.text
