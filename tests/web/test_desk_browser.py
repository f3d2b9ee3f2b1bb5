"""A real browser at the packing desk: a logistics user scans parcels as a barcode scanner would.

The scanner is a keyboard: it types the code fast and presses Enter. The page must keep the
focus in the scan field, count live, and answer each outcome with its own sign and sound
(oscillator notes are recorded by an init script: headless chromium has no loudspeaker).
Screenshots and the first label page go to var/test-output/ (tests/web/browser.py).
"""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

from playwright.async_api import Browser, Page, expect
from pypdf import PdfReader

from api.core.db import Database
from api.web.i18n import VN
from tests.batches.rig import actor_of, booked_parcel, new_batch
from tests.documents.readback import barcodes, page_image, pdf_text, save_png
from tests.factories import World
from tests.web.browser import OUTPUT, sign_in

# Every note the page plays: (frequency, waveform), in order.
RECORD_TONES = """
window.__tones = [];
const start = OscillatorNode.prototype.start;
OscillatorNode.prototype.start = function (...args) {
  window.__tones.push([this.frequency.value, this.type]);
  return start.apply(this, args);
};
"""


async def _arrange(db: Database, world: World) -> tuple[int, list[str], int, str]:
    """Today's batch of three booked parcels, and a second batch holding one more."""
    staff = await actor_of(db, world, "logistics")
    today = datetime.now(VN).date()
    parcels = [await booked_parcel(db, world, quantity=n) for n in (1, 2, 1)]
    batch = await new_batch(db, staff, world.coop_a, day=today)
    stray = await booked_parcel(db, world)
    other = await new_batch(db, staff, world.coop_a, day=today, start=batch.window_end)
    codes = [parcels[0].waybill or "", parcels[1].reference, parcels[2].waybill or ""]
    return batch.id, codes, other.id, stray.waybill or ""


async def _scan(page: Page, code: str) -> list[Any]:
    """Type the code and Enter into whatever has focus; the notes that scan played."""
    before = await page.evaluate("window.__tones.length")
    answered = await page.get_attribute("#scan-result", "data-scan") or "0"
    await page.keyboard.type(code, delay=5)
    await page.keyboard.press("Enter")
    # The page numbers its answers and beeps as it shows one.
    await expect(page.locator("#scan-result")).to_have_attribute(
        "data-scan", str(int(answered) + 1)
    )
    await expect(page.locator("#code")).to_be_focused()
    await expect(page.locator("#code")).to_have_value("")
    tones: list[Any] = await page.evaluate(f"window.__tones.slice({before})")
    return tones


async def test_a_packer_scans_parcels_at_the_desk(
    browser: Browser, api_base: str, db: Database, world: World
) -> None:
    batch, codes, other, stray = await _arrange(db, world)
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page = await browser.new_page(viewport={"width": 360, "height": 800})
    await page.add_init_script(RECORD_TONES)
    await sign_in(page, api_base, "/desk", world.users["logistics"].token)
    assert await page.text_content("h1") == "Bàn đóng gói"
    await page.screenshot(path=str(OUTPUT / "desk-list-360.png"), full_page=True)
    await page.click(f'a[data-batch-id="{batch}"]')
    await page.wait_for_load_state("networkidle")
    await expect(page.locator("#code")).to_be_focused()
    await expect(page.locator("#count-left")).to_have_text("3")

    outcomes: dict[str, list[Any]] = {}
    for packed, code in enumerate(codes, start=1):
        outcomes["packed"] = await _scan(page, code)
        await expect(page.locator("#scan-result")).to_have_attribute("data-outcome", "packed")
        await expect(page.locator("#count-packed")).to_have_text(str(packed))
        await expect(page.locator("#count-left")).to_have_text(str(3 - packed))
    assert await page.locator("tr.is-packed").count() == 3
    await expect(page.locator("#scan-result")).to_contain_text("Đã đóng gói đủ mọi kiện")
    await expect(page.locator("#batch-status")).to_have_text("Đang đóng gói")

    outcomes["already_packed"] = await _scan(page, codes[0])
    result = page.locator("#scan-result")
    await expect(result).to_have_attribute("data-outcome", "already_packed")
    await expect(result).to_contain_text("Đã đóng gói trước đó")
    await expect(page.locator("#count-packed")).to_have_text("3")

    # A tap beside the field must not lose the next scan.
    await page.click("h1")
    outcomes["other_batch"] = await _scan(page, stray)
    await expect(result).to_have_attribute("data-outcome", "other_batch")
    await expect(result).to_contain_text(f"Sai lô: kiện này thuộc lô #{other}")
    await expect(page.locator("#scan-live")).to_have_attribute("aria-live", "assertive")
    await expect(page.locator("#count-packed")).to_have_text("3")
    await page.screenshot(path=str(OUTPUT / "desk-360.png"), full_page=True)

    outcomes["unknown"] = await _scan(page, "KHONGCO123")
    await expect(result).to_have_attribute("data-outcome", "unknown")
    # Each outcome sounds different (and is shown with its own sign, not colour alone).
    sounds = {name: tuple(map(tuple, tones)) for name, tones in outcomes.items()}
    assert len(set(sounds.values())) == 4, sounds

    await page.set_viewport_size({"width": 1280, "height": 900})
    await page.screenshot(path=str(OUTPUT / "desk-1280.png"), full_page=True)

    href = await page.get_attribute('a[data-kind="labels-thermal"]', "href")
    assert href == f"/desk/batches/{batch}/documents/labels-thermal.pdf"
    answer = await page.request.get(f"{api_base}{href}")
    assert answer.status == 200
    assert answer.headers["content-type"] == "application/pdf"
    pdf = await answer.body()
    (OUTPUT / "desk-labels-thermal.pdf").write_bytes(pdf)
    pages = pdf_text(pdf)
    assert len(pages) == 3
    box = PdfReader(io.BytesIO(pdf)).pages[0].mediabox
    assert (round(box.width / 72 * 25.4), round(box.height / 72 * 25.4)) == (100, 150)
    assert codes[0] in pages[0]
    # The label's barcode, as a reader sees it on the picture, is the parcel's waybill.
    assert [text for _, text in barcodes(page_image(pdf))] == [codes[0]]
    save_png(pdf, OUTPUT / "desk-label-1.png", dpi=200)

    await page.click('button[value="ready"]')
    await expect(page.locator(".notice")).to_have_text("Sẵn sàng lấy hàng.")
    page.once("dialog", lambda dialog: dialog.accept())
    await page.click('button[value="handed_over"]')
    await expect(page.locator(".notice").first).to_have_text("Đã bàn giao cho tài xế.")
    await expect(page.locator("#code")).to_have_count(0)
    await page.click('button[data-lang="en"]')
    await expect(page.locator("h1")).to_have_text(f"Batch #{batch} · HTX Bình Lư")
    await expect(page.locator("#batch-status")).to_have_text("Handed over")
    await page.set_viewport_size({"width": 360, "height": 800})
    await page.screenshot(path=str(OUTPUT / "desk-handed-over-en-360.png"), full_page=True)
    print(f"\ndesk screenshots and the first label in {OUTPUT}")
    await page.close()
