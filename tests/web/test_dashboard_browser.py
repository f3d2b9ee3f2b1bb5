"""A real browser (Debian's chromium, driven by Playwright) signs in and reads the dashboard.

It fails, never skips, when no browser is found (tests/web/browser.py). Screenshots go to
var/test-output/ (printed).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from playwright.async_api import Browser, Page, Request

from api.core.db import Database
from tests.api.live_sessions.helpers import add_offer, connect_shop, move, schedule
from tests.factories import World
from tests.reports.rig import item, place, vn
from tests.web.browser import OUTPUT

FIRST_LOAD_BUDGET = 300_000


async def _arrange(db: Database, world: World, client: httpx.AsyncClient) -> None:
    shop = await connect_shop(db, world.coop_a, "tiktok_shop", "a")
    other = await connect_shop(db, world.coop_b, "shopee", "b")
    rice = await item(db, world.coop_a, "Gạo Séng Cù", "rice", 5000, 180_000)
    honey = await item(db, world.coop_a, "Mật ong bạc hà", "honey", 500, 250_000)
    coffee = await item(db, world.coop_b, "Cà phê rang củi", "coffee", 1000, 200_000)
    today = datetime.now(UTC)
    for weeks in range(6):
        day = (today - timedelta(weeks=weeks)).date()
        await place(db, shop, vn(day, 9), [(rice, 10 + weeks)])
        await place(db, other, vn(day, 10), [(coffee, 20 - weeks)])
    live = await schedule(client, world.users["seller"], shop, title="Phiên live mật ong Bình Lư")
    await add_offer(client, world.users["seller"], live["id"], honey.variant_id)
    await move(client, world.users["seller"], live["id"], "start")
    await place(db, shop, datetime.now(UTC), [(honey, 2)])


async def _sign_in(page: Page, api_base: str, token: str) -> int:
    """Sign in; return the bytes the dashboard's first load transferred."""
    await page.goto(f"{api_base}/dashboard")
    await page.fill("#token", token)
    sizes: list[int] = []

    async def count(request: Request) -> None:
        response = await request.response()
        if response is not None:
            measured = await request.sizes()
            sizes.append(measured["responseBodySize"] + measured["responseHeadersSize"])

    page.on("requestfinished", count)
    await page.click("button.primary")
    await page.wait_for_load_state("networkidle")
    page.remove_listener("requestfinished", count)
    return sum(sizes)


async def test_dashboard_in_a_real_browser(
    browser: Browser, api_base: str, db: Database, world: World, client: httpx.AsyncClient
) -> None:
    await _arrange(db, world, client)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page = await browser.new_page(viewport={"width": 360, "height": 800})
    # A script our CSP blocks, a missing icon: each shows as a console error to the people we serve.
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    transferred = await _sign_in(page, api_base, world.users["program_manager"].token)
    print(f"\nfirst load of /dashboard: {transferred} bytes; screenshots in {OUTPUT}")
    assert transferred < FIRST_LOAD_BUDGET
    assert await page.text_content("h1") == "Bảng theo dõi chương trình"
    sold = await page.text_content("#total-sold strong")
    assert sold is not None
    assert sold.strip() != "0,000"
    assert await page.locator(".chart svg").count() == 1
    assert await page.locator("[data-live-id]").count() == 1
    await page.screenshot(path=str(OUTPUT / "dashboard-360.png"), full_page=True)
    await page.click('button[data-lang="en"]')
    await page.wait_for_load_state("networkidle")
    assert await page.text_content("h1") == "Programme dashboard"
    await page.set_viewport_size({"width": 1280, "height": 900})
    await page.screenshot(path=str(OUTPUT / "dashboard-1280.png"), full_page=True)
    await page.click('button[data-lang="vi"]')
    await page.wait_for_load_state("networkidle")
    assert await page.text_content("h1") == "Bảng theo dõi chương trình"
    assert console_errors == []
    await page.close()
