"""A played live sale creates orders over time and every webhook reaches the receiver."""

import pytest

from integrations.platforms.shopee.parsing import parse_push
from integrations.platforms.tiktok_shop.parsing import parse_webhook
from integrations.simulators.live import default_skus, play_live_sale

from .conftest import SimRig


async def test_tiktok_live_sale_summary_matches_what_was_pushed(tiktok: SimRig) -> None:
    summary = await play_live_sale(tiktok.sim_url, "tiktok_shop", orders=12, minutes=0.01, seed=7)
    assert (summary.orders_requested, summary.orders_created, summary.failed_requests) == (
        12,
        12,
        0,
    )
    assert summary.drained
    assert summary.webhooks["acked"] == 24  # UNPAID then AWAITING_SHIPMENT per order
    assert summary.elapsed_s >= 0.5  # 12 orders spread over 0.6 s
    received = [parse_webhook(raw) for raw in tiktok.receiver.bodies]
    assert {w.order_id for w in received} == set(summary.order_ids)
    prices = {sku.unit_price for sku in default_skus("tiktok_shop")}
    assert summary.gmv >= summary.units * min(prices)


async def test_shopee_live_sale_without_confirmation(shopee: SimRig) -> None:
    summary = await play_live_sale(
        shopee.sim_url, "shopee", orders=5, minutes=0, confirm=False, cod_ratio=1.0
    )
    assert (summary.orders_created, summary.cod_orders) == (5, 5)
    statuses = {parse_push(raw).status for raw in shopee.receiver.bodies}
    assert statuses == {"UNPAID"}


@pytest.mark.pure
async def test_unknown_platform_is_refused() -> None:
    with pytest.raises(ValueError, match="platform"):
        await play_live_sale("http://127.0.0.1:9", "lazada", orders=1, minutes=0)
