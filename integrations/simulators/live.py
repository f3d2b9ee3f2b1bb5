"""Play a livestream sale against a running platform simulator, and run the simulators (CLI)."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn

from integrations.simulators import shopee, tiktok_shop

PLATFORMS = ("tiktok_shop", "shopee")
# The status a paid (or COD-accepted) order reaches; the order job books shipping from here.
CONFIRMED_STATUS = {"tiktok_shop": "AWAITING_SHIPMENT", "shopee": "READY_TO_SHIP"}

# Real two-tier names (as in the `vietnam-provinces` list): province, commune/ward, street.
_ADDRESSES = (
    ("Lai Châu", "Xã Bình Lư", "Bản Nà Luồng"),
    ("Đắk Lắk", "Phường Ea Kao", "Số 45 đường Y Wang"),
    ("Thành phố Hà Nội", "Phường Ba Đình", "Số 12 phố Phan Đình Phùng"),
    ("Thành phố Hồ Chí Minh", "Phường Sài Gòn", "Số 8 đường Lê Lợi"),
    ("Thành phố Đà Nẵng", "Phường Hải Châu", "Số 30 đường Bạch Đằng"),
)
_BUYERS = ("Nguyễn Thị Hoa", "Trần Văn Minh", "Lê Thị Lan", "Phạm Quốc Bảo", "Vàng Thị Mai")


@dataclass(frozen=True, slots=True)
class LiveSku:
    """A product offered in the live, with its platform SKU id and live price in VND."""

    sku_id: str
    product_name: str
    unit_price: int
    seller_sku: str = ""
    sku_name: str = ""


@dataclass(frozen=True, slots=True)
class LiveSaleSummary:
    """What a played live sale produced, plus the simulator's webhook counters after draining."""

    platform: str
    orders_requested: int
    orders_created: int
    order_ids: tuple[str, ...]
    units: int
    gmv: int
    cod_orders: int
    failed_requests: int
    elapsed_s: float
    drained: bool
    webhooks: dict[str, int]


def default_skus(platform: str) -> list[LiveSku]:
    """A Lai Châu cooperative's catalogue, with SKU ids in the platform's format."""
    names = (
        ("Gạo Séng Cù túi 5 kg", "SENGCU-5KG", 185_000),
        ("Chè Shan Tuyết hũ 200 g", "CHE-200G", 120_000),
        ("Mật ong rừng chai 500 ml", "MATONG-500", 250_000),
        ("Khoai lang mật thùng 3 kg", "KHOAI-3KG", 95_000),
    )
    skus = []
    for n, (name, seller_sku, price) in enumerate(names, 1):
        # Shopee SKUs are (item_id, model_id) pairs; TikTok SKU ids are long numeric strings.
        sku_id = f"260014404{n}:10{n}" if platform == "shopee" else f"172900000000000{n}"
        skus.append(LiveSku(sku_id, name, price, seller_sku))
    return skus


async def play_live_sale(
    sim_base_url: str,
    platform: str,
    orders: int,
    minutes: float,
    skus: Sequence[LiveSku] | None = None,
    *,
    shop_id: str | None = None,
    cod_ratio: float = 0.8,
    confirm: bool = True,
    max_quantity: int = 3,
    concurrency: int = 16,
    drain_timeout_s: float = 30.0,
    seed: int = 0,
) -> LiveSaleSummary:
    """Create `orders` orders spread evenly over `minutes` and let the simulator push webhooks."""
    if platform not in PLATFORMS:
        raise ValueError(f"platform must be one of {PLATFORMS}")
    rng = random.Random(seed)
    catalogue = list(skus) if skus else default_skus(platform)
    then = [CONFIRMED_STATUS[platform]] if confirm else []
    bodies = [
        _order_body(rng, catalogue, shop_id, cod_ratio, max_quantity, then) for _ in range(orders)
    ]
    gap_s = minutes * 60 / orders if orders else 0.0
    slots = asyncio.Semaphore(concurrency)
    started = time.monotonic()
    async with httpx.AsyncClient(base_url=sim_base_url, timeout=10.0) as http:

        async def create(n: int, body: dict[str, Any]) -> dict[str, Any] | None:
            await asyncio.sleep(max(0.0, started + n * gap_s - time.monotonic()))
            async with slots:
                try:
                    response = await http.post("/_sim/orders", json=body)
                except httpx.HTTPError:
                    return None
            return response.json() if response.status_code == 201 else None

        results = await asyncio.gather(*(create(n, b) for n, b in enumerate(bodies)))
        drain = await http.post("/_sim/drain", params={"timeout_s": drain_timeout_s})
        drain.raise_for_status()
        stats = drain.json()
    return _summary(platform, orders, bodies, results, time.monotonic() - started, stats)


def _order_body(
    rng: random.Random,
    catalogue: Sequence[LiveSku],
    shop_id: str | None,
    cod_ratio: float,
    max_quantity: int,
    then: list[str],
) -> dict[str, Any]:
    picked = rng.sample(list(catalogue), k=rng.randint(1, min(2, len(catalogue))))
    province, commune, street = rng.choice(_ADDRESSES)
    phone = "09" + "".join(rng.choice("0123456789") for _ in range(8))
    lines = [
        {
            "sku_id": sku.sku_id,
            "seller_sku": sku.seller_sku,
            "product_name": sku.product_name,
            "sku_name": sku.sku_name,
            "quantity": rng.randint(1, max_quantity),
            "unit_price": sku.unit_price,
        }
        for sku in picked
    ]
    return {
        "shop_id": shop_id,
        "lines": lines,
        "is_cod": rng.random() < cod_ratio,
        "buyer": {"name": rng.choice(_BUYERS), "phone": phone},
        "address": {"province": province, "commune": commune, "street": street},
        "then_statuses": then,
    }


def _summary(
    platform: str,
    requested: int,
    bodies: list[dict[str, Any]],
    results: Sequence[dict[str, Any] | None],
    elapsed_s: float,
    stats: dict[str, Any],
) -> LiveSaleSummary:
    created = [(b, r) for b, r in zip(bodies, results, strict=True) if r is not None]
    lines = [line for body, _ in created for line in body["lines"]]
    return LiveSaleSummary(
        platform=platform,
        orders_requested=requested,
        orders_created=len(created),
        order_ids=tuple(str(r["order_id"]) for _, r in created),
        units=sum(line["quantity"] for line in lines),
        gmv=sum(line["quantity"] * line["unit_price"] for line in lines),
        cod_orders=sum(1 for body, _ in created if body["is_cod"]),
        failed_requests=requested - len(created),
        elapsed_s=round(elapsed_s, 3),
        drained=bool(stats.get("idle")),
        webhooks=dict(stats.get("webhooks") or {}),
    )


def run_tiktok_shop_simulator(
    host: str = "127.0.0.1", port: int = 9101, config: tiktok_shop.TikTokShopSimConfig | None = None
) -> None:
    """Serve the TikTok Shop simulator until interrupted (blocking; for `phien simulate`)."""
    # No access log: query strings carry access tokens and, on refresh, the app secret.
    app = tiktok_shop.create_app(config)
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=False)


def run_shopee_simulator(
    host: str = "127.0.0.1", port: int = 9102, config: shopee.ShopeeSimConfig | None = None
) -> None:
    """Serve the Shopee simulator until interrupted (blocking; for `phien simulate`)."""
    app = shopee.create_app(config)
    uvicorn.run(app, host=host, port=port, log_level="info", access_log=False)
