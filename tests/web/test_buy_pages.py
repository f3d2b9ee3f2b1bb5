"""The public buy page over HTTP: products and live prices, CSRF, field errors, communes, 404s."""

from __future__ import annotations

import re

import httpx

from api.core.config import Settings
from api.core.db import Database
from tests.api.live_sessions.helpers import add_offer, connect_shop, move, schedule
from tests.factories import World

LAI_CHAU, BINH_LU, HA_NOI, BA_DINH = 12, 3390, 1, 4


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def _variant(world: World) -> int:
    variant_id = world.product_a.variants[0].id
    assert variant_id is not None
    return variant_id


def _form(token: str, variant_id: int, **changes: str) -> dict[str, str]:
    data = {
        "csrf_token": token, "name": "Lò Thị Mai", "phone": "0912 345 678",
        "province": str(LAI_CHAU), "ward": str(BINH_LU), "street": "Bản 1", "note": "",
        f"qty-{variant_id}": "2", "action": "pay",
    }  # fmt: skip
    data.update(changes)
    return data


async def test_the_page_lists_active_products_in_vietnamese_without_sign_in(
    api_base: str, world: World
) -> None:
    async with httpx.AsyncClient(base_url=api_base, timeout=10) as buyer:
        page = await buyer.get(f"/buy/{world.coop_a}")
    assert page.status_code == 200
    assert "Đặt hàng của HTX Bình Lư" in page.text
    assert "Gạo Séng Cù" in page.text
    assert "180.000 ₫" in page.text
    assert "Cà phê rang củi" not in page.text  # the other cooperative's
    # The 34 provinces, and a "choose…" line in each of the two pickers (no communes yet).
    assert page.text.count("<option value=") == 34 + 2
    assert "0912345678" not in page.text  # the cooperative's own phone is not shown
    assert (
        "form-action 'self' https://checkout.stripe.com" in page.headers["content-security-policy"]
    )


async def test_a_live_link_shows_the_live_price(
    api_base: str, db: Database, world: World, client: httpx.AsyncClient
) -> None:
    shop = await connect_shop(db, world.coop_a, "tiktok_shop", "a")
    seller = world.users["seller"]
    live = await schedule(client, seller, shop, title="Phiên live gạo mới")
    await add_offer(client, seller, live["id"], _variant(world), live_price_vnd=150_000)
    await move(client, seller, live["id"], "start")
    async with httpx.AsyncClient(base_url=api_base, timeout=10) as buyer:
        page = await buyer.get(f"/buy/{world.coop_a}/live/{live['id']}")
        other = await buyer.get(f"/buy/{world.coop_b}/live/{live['id']}")
    assert page.status_code == 200
    assert "Phiên live gạo mới" in page.text
    assert "Giá live" in page.text
    assert "150.000 ₫" in page.text
    assert other.status_code == 404


async def test_unknown_cooperative_is_a_friendly_404(api_base: str, world: World) -> None:
    async with httpx.AsyncClient(base_url=api_base, timeout=10) as buyer:
        missing = await buyer.get("/buy/987654")
        thanks = await buyer.get("/buy/987654/thanks", params={"order": "X"})
        not_an_id = await buyer.get("/buy/htx-binh-lu")
        too_big = await buyer.get(f"/buy/{world.coop_a}/live/99999999999999999999")
    for response in (missing, thanks, not_an_id, too_big):
        assert response.status_code == 404
        assert "Không tìm thấy cửa hàng" in response.text


async def test_a_post_without_the_csrf_token_is_refused(api_base: str, world: World) -> None:
    async with httpx.AsyncClient(base_url=api_base, timeout=10) as buyer:
        page = await buyer.get(f"/buy/{world.coop_a}")
        data = _form(_csrf(page.text), _variant(world))
        del data["csrf_token"]
        refused = await buyer.post(f"/buy/{world.coop_a}", data=data)
        forged = await buyer.post(f"/buy/{world.coop_a}", data={**data, "csrf_token": "nope"})
    assert refused.status_code == 403
    assert forged.status_code == 403


async def test_field_errors_are_shown_next_to_the_fields_and_input_is_kept(
    api_base: str, world: World
) -> None:
    variant = _variant(world)
    async with httpx.AsyncClient(base_url=api_base, timeout=10) as buyer:
        token = _csrf((await buyer.get(f"/buy/{world.coop_a}")).text)
        bad = _form(token, variant, phone="12", street="", ward=str(BA_DINH),
                    **{f"qty-{variant}": "120"})  # fmt: skip
        response = await buyer.post(f"/buy/{world.coop_a}", data=bad)
        none = await buyer.post(f"/buy/{world.coop_a}", data=_form(token, variant, **{f"qty-{variant}": "0"}))  # fmt: skip
    assert response.status_code == 422
    html = response.text
    assert 'id="phone-error"' in html
    assert "Vui lòng nhập số điện thoại" in html
    assert 'id="street-error"' in html
    assert 'id="ward-error"' in html  # Ba Đình is not in Lai Châu
    assert f'id="qty-{variant}-error"' in html
    assert 'value="Lò Thị Mai"' in html
    assert 'value="120"' in html
    assert f'<option value="{LAI_CHAU}" selected>' in html
    assert none.status_code == 422
    assert "Vui lòng chọn ít nhất một sản phẩm." in none.text


async def test_communes_are_filtered_by_province(api_base: str, world: World) -> None:
    async with httpx.AsyncClient(base_url=api_base, timeout=10) as buyer:
        lai_chau = await buyer.get(f"/buy/places/{LAI_CHAU}")
        unknown = await buyer.get("/buy/places/999")
        # Without JavaScript: the form comes back with the province's communes, input kept.
        token = _csrf((await buyer.get(f"/buy/{world.coop_a}")).text)
        round_trip = await buyer.post(
            f"/buy/{world.coop_a}",
            data={
                "csrf_token": token,
                "province": str(HA_NOI),
                "name": "Lò Thị Mai",
                "action": "places",
            },
        )
    names = {place["name"] for place in lai_chau.json()}
    assert "Xã Bình Lư" in names
    assert "Phường Ba Đình" not in names
    assert unknown.status_code == 404
    assert round_trip.status_code == 200
    assert f'<option value="{BA_DINH}">Phường Ba Đình</option>' in round_trip.text
    assert f'<option value="{BINH_LU}">' not in round_trip.text
    assert 'value="Lò Thị Mai"' in round_trip.text
    assert "field-error" not in round_trip.text


async def test_thanks_page_without_an_order_and_after_a_cancel(api_base: str, world: World) -> None:
    async with httpx.AsyncClient(base_url=api_base, timeout=10) as buyer:
        unknown = await buyer.get(f"/buy/{world.coop_a}/thanks", params={"order": "PHN-NOPE"})
        cancelled = await buyer.get(f"/buy/{world.coop_a}", params={"cancelled": "1"})
    assert unknown.status_code == 200
    assert "Không tìm thấy đơn hàng" in unknown.text
    assert "Bạn đã rời trang thanh toán" in cancelled.text


async def test_english_through_the_same_switch(api_base: str, world: World) -> None:
    async with httpx.AsyncClient(base_url=api_base, timeout=10) as buyer:
        token = _csrf((await buyer.get(f"/buy/{world.coop_a}")).text)
        path = f"/buy/{world.coop_a}"
        switched = await buyer.post(
            "/language", data={"csrf_token": token, "lang": "en", "next": path}
        )
        page = await buyer.get(path)
    assert (switched.status_code, switched.headers["location"]) == (303, path)
    assert "Order from HTX Bình Lư" in page.text
    assert "Pay by card" in page.text


async def test_a_good_form_goes_on_to_stripe_checkout(
    api_base: str, stripe_sim: str, world: World
) -> None:
    async with httpx.AsyncClient(base_url=api_base, timeout=10) as buyer:
        token = _csrf((await buyer.get(f"/buy/{world.coop_a}")).text)
        sent = await buyer.post(f"/buy/{world.coop_a}", data=_form(token, _variant(world)))
    assert sent.status_code == 303, sent.text
    assert sent.headers["location"].startswith(stripe_sim)


async def test_a_checkout_refusal_is_shown_next_to_its_product(
    api_base: str, stripe_sim: str, db: Database, world: World, client: httpx.AsyncClient
) -> None:
    shop = await connect_shop(db, world.coop_a, "tiktok_shop", "a")
    seller = world.users["seller"]
    live = await schedule(client, seller, shop, title="Phiên live gạo mới")
    await add_offer(client, seller, live["id"], _variant(world), per_buyer_limit=1)
    await move(client, seller, live["id"], "start")
    path = f"/buy/{world.coop_a}/live/{live['id']}"
    async with httpx.AsyncClient(base_url=api_base, timeout=10) as buyer:
        token = _csrf((await buyer.get(path)).text)
        refused = await buyer.post(path, data=_form(token, _variant(world)))
    assert refused.status_code == 409
    assert f'id="qty-{_variant(world)}-error"' in refused.text
    assert "vượt quá giới hạn cho mỗi người mua" in refused.text
    assert 'value="Lò Thị Mai"' in refused.text


async def test_the_checkout_rate_limit_applies_to_the_page(
    api_base: str, stripe_sim: str, settings: Settings, world: World
) -> None:
    allowed = int(settings.rate_limit_checkout_per_address.split("/")[0])
    variant = _variant(world)
    async with httpx.AsyncClient(base_url=api_base, timeout=10) as buyer:
        token = _csrf((await buyer.get(f"/buy/{world.coop_a}")).text)
        data = _form(token, variant, **{f"qty-{variant}": "1"})
        answers = [
            (await buyer.post(f"/buy/{world.coop_a}", data=data)).status_code
            for _ in range(allowed)
        ]
        refused = await buyer.post(f"/buy/{world.coop_a}", data=data)
    assert answers == [303] * allowed
    assert refused.status_code == 429
    assert "Quá nhiều lần thử từ kết nối này" in refused.text
    assert 'value="Lò Thị Mai"' in refused.text


async def test_digits_that_are_not_ascii_or_endless_are_a_field_error_not_a_500(
    api_base: str, world: World
) -> None:
    variant = f"qty-{_variant(world)}"
    tries = [
        {variant: "²"},  # str.isdigit() says yes, int() says no
        {variant: "9" * 5000},  # past Python's integer-string limit
        {variant: "٢"},  # an Arabic-Indic two
        {"province": "¹²"},
        {"ward": "³"},
    ]
    async with httpx.AsyncClient(base_url=api_base, timeout=10) as buyer:
        for change in tries:
            token = _csrf((await buyer.get(f"/buy/{world.coop_a}")).text)
            answer = await buyer.post(
                f"/buy/{world.coop_a}", data=_form(token, _variant(world), **change)
            )
            assert answer.status_code == 422, (change, answer.status_code)
