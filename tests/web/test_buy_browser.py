"""A buyer on a 360-pixel phone buys through the buy page and the Stripe simulator, for real.

Chromium (Playwright) opens the shared link, picks a product, a province and a commune, pays
on the simulator's checkout page and comes back to the thanks page. The simulator's signed
webhook reaches the API, a real arq worker in burst mode drains the inbox and books the
parcel, and the cooperative sees the paid order through the API. Screenshots: var/test-output/.
"""

from __future__ import annotations

import asyncio
import logging
import re

import httpx
import pytest
from playwright.async_api import Browser, Page, Request
from sqlalchemy import select
from sqlmodel import col

from api.core.config import Settings
from api.core.db import Database
from api.webhooks.models import InboundEvent
from tests.factories import World
from tests.ingestion.rig import run_worker
from tests.reports.rig import item
from tests.shipments.tracking_rig import work_off_inbox
from tests.web.browser import OUTPUT

LAI_CHAU, BINH_LU = "12", "3390"
PHONE_WIDTH = 360
# A buyer on a prepaid data plan: the whole first load, uncompressed.
FIRST_LOAD_BUDGET = 100_000


async def _first_load(page: Page, url: str) -> int:
    """Open `url`; the bytes its first load transferred (page, stylesheet, script)."""
    sizes: list[int] = []

    async def count(request: Request) -> None:
        measured = await request.sizes()
        sizes.append(measured["responseBodySize"] + measured["responseHeadersSize"])

    page.on("requestfinished", count)
    await page.goto(url)
    await page.wait_for_load_state("networkidle")
    page.remove_listener("requestfinished", count)
    return sum(sizes)


async def _no_sideways_scroll(page: Page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_WIDTH, f"the page scrolls sideways: {width} px wide"


async def _fill_the_form(page: Page, variant_id: int) -> None:
    await page.fill(f"#qty-{variant_id}", "2")
    await page.select_option("#province", LAI_CHAU)
    # buy.js fetches the province's communes in place.
    await page.wait_for_selector(f'#ward option[value="{BINH_LU}"]', state="attached")
    await page.select_option("#ward", BINH_LU)
    await page.fill("#name", "Lò Thị Mai")
    await page.fill("#phone", "0912 345 678")
    await page.fill("#street", "Bản 1, cạnh trường học")


async def _paid_event(db: Database) -> InboundEvent:
    """The simulator's signed `checkout.session.completed`, once it is in the inbox."""
    for _ in range(200):
        async with db.session() as session:
            found = (
                await session.execute(
                    select(InboundEvent).where(
                        col(InboundEvent.source) == "stripe",
                        col(InboundEvent.topic) == "checkout.session.completed",
                    )
                )
            ).scalar_one_or_none()
        if found is not None:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError("the simulator's paid event never reached /webhooks/stripe")


async def _the_order(client: httpx.AsyncClient, world: World) -> dict[str, object]:
    headers = world.users["coop_admin"].headers
    response = await client.get("/api/v1/orders", headers=headers)
    assert response.status_code == 200, response.text
    (order,) = [o for o in response.json()["items"] if o["platform"] == "direct"]
    return dict(order)


async def _booked_shipment(
    client: httpx.AsyncClient, world: World, settings: Settings
) -> dict[str, object]:
    headers = world.users["coop_admin"].headers
    for _ in range(20):
        await run_worker(settings)
        items = (await client.get("/api/v1/shipments", headers=headers)).json()["items"]
        if items and items[0]["waybill"]:
            return dict(items[0])
        await asyncio.sleep(0.1)
    raise AssertionError("the shipment was never booked with the carrier")


async def test_a_buyer_pays_on_a_phone_and_the_cooperative_sees_the_order(
    browser: Browser,
    api_base: str,
    stripe_sim: str,
    db: Database,
    settings: Settings,
    world: World,
    client: httpx.AsyncClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    honey = await item(db, world.coop_a, "Mật ong bạc hà Bình Lư", "honey", 500, 250_000)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page = await browser.new_page(viewport={"width": PHONE_WIDTH, "height": 800})
    transferred = await _first_load(page, f"{api_base}/buy/{world.coop_a}")
    print(f"\nfirst load of /buy: {transferred} bytes; screenshots in {OUTPUT}")
    assert transferred < FIRST_LOAD_BUDGET
    assert await page.text_content("h1") == "Đặt hàng của HTX Bình Lư"
    await _fill_the_form(page, honey.variant_id)
    await _no_sideways_scroll(page)
    await page.screenshot(path=str(OUTPUT / "buy-360.png"), full_page=True)

    await page.click("button.primary")
    await page.wait_for_url(re.compile(re.escape(stripe_sim)))
    await page.click("#pay-card")
    await page.wait_for_url(re.compile(rf"/buy/{world.coop_a}/thanks\?order="))
    # No worker has run yet: the page says it waits for the payment (and refreshes itself).
    assert await page.locator('[data-status="pending"]').count() == 1

    # The simulator's signed webhook reaches the inbox; a burst worker confirms the order.
    event = await _paid_event(db)
    assert event.signature_valid
    await work_off_inbox(settings, db)
    shipment = await _booked_shipment(client, world, settings)
    order = await _the_order(client, world)
    assert order["payment_status"] == "paid"
    assert order["total_vnd"] == 2 * 250_000
    assert order["ship_ward"] == "Xã Bình Lư"
    assert shipment["order_id"] == order["id"]
    assert shipment["status"] == "handed_off"

    await page.reload()
    assert await page.locator('[data-status="paid"]').count() == 1
    assert str(order["platform_order_id"]) in (await page.text_content(".ref") or "")
    await _no_sideways_scroll(page)
    await page.screenshot(path=str(OUTPUT / "buy-thanks-360.png"), full_page=True)
    page_text = await page.text_content("main") or ""
    assert "0912" not in page_text  # the thanks page shows no personal data
    # The API runs in this process: nothing it logged along the way holds the buyer's phone.
    assert "checkout opened" in caplog.text
    assert "345 678" not in caplog.text
    assert "345678" not in caplog.text
    await page.close()


async def test_without_javascript_the_communes_come_from_the_server_and_enter_pays(
    browser: Browser, api_base: str, stripe_sim: str, world: World
) -> None:
    context = await browser.new_context(
        viewport={"width": PHONE_WIDTH, "height": 800}, java_script_enabled=False
    )
    page = await context.new_page()
    await page.goto(f"{api_base}/buy/{world.coop_a}")
    variant_id = world.product_a.variants[0].id
    await page.fill(f"#qty-{variant_id}", "1")
    await page.select_option("#province", LAI_CHAU)
    await page.fill("#name", "Lò Thị Mai")
    # The button beside the province lists its communes; what was typed stays.
    await page.click("button.secondary")
    await page.wait_for_selector(f'#ward option[value="{BINH_LU}"]', state="attached")
    assert await page.input_value("#name") == "Lò Thị Mai"
    assert await page.locator(".field-error").count() == 0
    await page.select_option("#ward", BINH_LU)
    await page.fill("#phone", "0912345678")
    await page.fill("#street", "Bản 1")
    await _no_sideways_scroll(page)
    # Enter in a field pays (the form's first submit button), it does not list communes again.
    await page.press("#street", "Enter")
    await page.wait_for_url(re.compile(re.escape(stripe_sim)))
    await context.close()
