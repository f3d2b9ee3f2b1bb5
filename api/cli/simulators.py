"""Simulators served beside the API by `phien serve --simulators` (the demo and `make run`).

Each simulator listens on its own loopback port; the settings are pointed at them so the real
clients talk to them exactly as they would to the real services, and their webhooks come back
to this API.
"""

from __future__ import annotations

import contextlib
import logging

from pydantic import SecretStr

from api.core.config import Settings
from integrations.simulators import ghn as ghn_sim
from integrations.simulators import shopee as shopee_sim
from integrations.simulators import tiktok_shop as tiktok_sim
from integrations.simulators import viettel_post as viettel_post_sim
from integrations.simulators._carrier_common import CarrierSimConfig
from integrations.simulators.serve import serve_in_background

log = logging.getLogger(__name__)

TIKTOK_SHOP_PORT = 9101
SHOPEE_PORT = 9102
VIETTEL_POST_PORT = 9103
GHN_PORT = 9104
# The demo's parcels move one step along their journey this often, pushing signed webhooks.
DEMO_PARCEL_STEP_S = 30.0


def point_settings_at_simulators(settings: Settings) -> Settings:
    """Settings whose API bases and credentials are the simulators' (demo only)."""
    tiktok = tiktok_sim.TikTokShopSimConfig()
    shopee = shopee_sim.ShopeeSimConfig()
    carrier = CarrierSimConfig()
    return settings.model_copy(
        update={
            "tiktok_shop_api_base": f"http://127.0.0.1:{TIKTOK_SHOP_PORT}",
            "tiktok_shop_auth_base": f"http://127.0.0.1:{TIKTOK_SHOP_PORT}",
            "tiktok_shop_app_key": tiktok.app_key,
            "tiktok_shop_app_secret": SecretStr(tiktok.app_secret),
            "shopee_api_base": f"http://127.0.0.1:{SHOPEE_PORT}",
            "shopee_partner_id": shopee.partner_id,
            "shopee_partner_key": SecretStr(shopee.partner_key),
            "viettel_post_api_base": f"http://127.0.0.1:{VIETTEL_POST_PORT}",
            "viettel_post_username": carrier.username,
            "viettel_post_password": SecretStr(carrier.password),
            "viettel_post_webhook_secret": SecretStr(carrier.webhook_secret),
            "ghn_api_base": f"http://127.0.0.1:{GHN_PORT}/shiip/public-api",
            "ghn_token": SecretStr(carrier.token),
            "ghn_shop_id": carrier.shop_id,
            "ghn_webhook_secret": SecretStr(carrier.webhook_secret),
        }
    )


async def start_simulators(stack: contextlib.AsyncExitStack, settings: Settings) -> dict[str, str]:
    """Start every simulator on its loopback port, webhooks aimed at this API; name -> URL."""
    api = f"http://{settings.host}:{settings.port}"
    tiktok = tiktok_sim.TikTokShopSimConfig(webhook_url=f"{api}/webhooks/tiktok-shop")
    shopee = shopee_sim.ShopeeSimConfig(webhook_url=f"{api}/webhooks/shopee")
    viettel = CarrierSimConfig(
        webhook_target_url=f"{api}/webhooks/carriers/viettel-post",
        auto_progress_s=DEMO_PARCEL_STEP_S,
    )
    ghn = CarrierSimConfig(
        webhook_target_url=f"{api}/webhooks/carriers/ghn", auto_progress_s=DEMO_PARCEL_STEP_S
    )
    apps = {
        "tiktok-shop": (tiktok_sim.create_app(tiktok), TIKTOK_SHOP_PORT),
        "shopee": (shopee_sim.create_app(shopee), SHOPEE_PORT),
        "viettel-post": (viettel_post_sim.create_app(viettel), VIETTEL_POST_PORT),
        "ghn": (ghn_sim.create_app(ghn), GHN_PORT),
    }
    urls = {
        name: await stack.enter_async_context(serve_in_background(app, port))
        for name, (app, port) in apps.items()
    }
    for name, url in urls.items():
        log.info("simulator up", extra={"simulator": name, "url": url})
    return urls
