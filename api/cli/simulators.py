"""Simulators served beside the API by `phien serve --simulators` (the demo and `make run`).

Each simulator listens on its own loopback port; the settings are pointed at them so the real
clients talk to them exactly as they would to the real services, and their webhooks come back
to this API.
"""

from __future__ import annotations

import contextlib
import logging

import httpx
from pydantic import SecretStr

from api.core.config import Settings
from integrations.simulators import shopee as shopee_sim
from integrations.simulators import tiktok_shop as tiktok_sim
from integrations.simulators.serve import serve_in_background

log = logging.getLogger(__name__)

TIKTOK_SHOP_PORT = 9101
SHOPEE_PORT = 9102


def point_settings_at_simulators(settings: Settings) -> Settings:
    """Settings whose API bases and credentials are the simulators' (demo only)."""
    tiktok = tiktok_sim.TikTokShopSimConfig()
    shopee = shopee_sim.ShopeeSimConfig()
    return settings.model_copy(
        update={
            "tiktok_shop_api_base": f"http://127.0.0.1:{TIKTOK_SHOP_PORT}",
            "tiktok_shop_auth_base": f"http://127.0.0.1:{TIKTOK_SHOP_PORT}",
            "tiktok_shop_app_key": tiktok.app_key,
            "tiktok_shop_app_secret": SecretStr(tiktok.app_secret),
            "shopee_api_base": f"http://127.0.0.1:{SHOPEE_PORT}",
            "shopee_partner_id": shopee.partner_id,
            "shopee_partner_key": SecretStr(shopee.partner_key),
        }
    )


async def start_simulators(stack: contextlib.AsyncExitStack, settings: Settings) -> dict[str, str]:
    """Start every simulator on its loopback port, webhooks aimed at this API; name -> URL."""
    api = f"http://{settings.host}:{settings.port}"
    tiktok = tiktok_sim.TikTokShopSimConfig(webhook_url=f"{api}/webhooks/tiktok-shop")
    shopee = shopee_sim.ShopeeSimConfig(webhook_url=f"{api}/webhooks/shopee")
    urls = {
        "tiktok-shop": await stack.enter_async_context(
            serve_in_background(tiktok_sim.create_app(tiktok), TIKTOK_SHOP_PORT)
        ),
        "shopee": await stack.enter_async_context(
            serve_in_background(shopee_sim.create_app(shopee), SHOPEE_PORT)
        ),
    }
    for name, url in urls.items():
        log.info("simulator up", extra={"simulator": name, "url": url})
    return urls


async def simulator_alive(url: str) -> bool:
    """Whether a simulator answers its stats endpoint."""
    async with httpx.AsyncClient(timeout=2) as http:
        try:
            return (await http.get(f"{url}/_sim/stats")).status_code == 200
        except httpx.HTTPError:
            return False
