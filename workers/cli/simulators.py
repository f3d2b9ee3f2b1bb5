"""Real where configured, simulated where not: the outside services of `phien serve --simulators`.

For each outside service whose credentials are set in the environment, the real service is used
unchanged. Each of the others gets its simulator on a loopback port (from one base port, so two
instances can run side by side), and the settings are pointed at it: the real clients talk to a
simulator exactly as they would to the service, and its webhooks come back to this API.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr

from api.core.config import Settings
from integrations.simulators import ghn as ghn_sim
from integrations.simulators import shopee as shopee_sim
from integrations.simulators import stripe as stripe_sim
from integrations.simulators import tiktok_shop as tiktok_sim
from integrations.simulators import viettel_post as viettel_post_sim
from integrations.simulators._carrier_common import CarrierSimConfig
from integrations.simulators.serve import serve_in_background

log = logging.getLogger(__name__)

# The demo's parcels move one step along their journey this often, pushing signed webhooks.
DEMO_PARCEL_STEP_S = 30.0


@dataclass(frozen=True)
class OutsideService:
    """An outside service: how to tell it is configured, and where its simulator listens."""

    key: str  # as in `phien simulate <key>` and the webhook paths
    title: str
    port_offset: int
    configured: Callable[[Settings], bool]
    api_base: Callable[[Settings], str]


def _secret(value: SecretStr) -> bool:
    return bool(value.get_secret_value())


SERVICES: tuple[OutsideService, ...] = (
    OutsideService(
        "tiktok-shop",
        "TikTok Shop",
        1,
        lambda s: bool(s.tiktok_shop_app_key) and _secret(s.tiktok_shop_app_secret),
        lambda s: s.tiktok_shop_api_base,
    ),
    OutsideService(
        "shopee",
        "Shopee",
        2,
        lambda s: bool(s.shopee_partner_id) and _secret(s.shopee_partner_key),
        lambda s: s.shopee_api_base,
    ),
    OutsideService(
        "viettel-post",
        "Viettel Post",
        3,
        lambda s: bool(s.viettel_post_username) and _secret(s.viettel_post_password),
        lambda s: s.viettel_post_api_base,
    ),
    OutsideService(
        "ghn",
        "GHN",
        4,
        lambda s: bool(s.ghn_shop_id) and _secret(s.ghn_token),
        lambda s: s.ghn_api_base,
    ),
    OutsideService(
        "stripe",
        "Stripe",
        5,
        lambda s: _secret(s.stripe_api_key),
        lambda s: s.stripe_api_base,
    ),
)


def service(key: str) -> OutsideService:
    """The outside service called `key`."""
    return next(s for s in SERVICES if s.key == key)


def simulator_url(settings: Settings, key: str) -> str:
    """Where the simulator of `key` listens for this instance."""
    return f"http://127.0.0.1:{settings.simulator_port(service(key).port_offset)}"


def to_simulate(settings: Settings) -> list[str]:
    """The services without credentials in the environment: those get a simulator."""
    return [s.key for s in SERVICES if not s.configured(settings)]


def _simulated_settings(settings: Settings, key: str) -> dict[str, Any]:
    url = simulator_url(settings, key)
    if key == "tiktok-shop":
        tiktok = tiktok_sim.TikTokShopSimConfig()
        return {
            "tiktok_shop_api_base": url,
            "tiktok_shop_auth_base": url,
            "tiktok_shop_app_key": tiktok.app_key,
            "tiktok_shop_app_secret": SecretStr(tiktok.app_secret),
        }
    if key == "shopee":
        shopee = shopee_sim.ShopeeSimConfig()
        return {
            "shopee_api_base": url,
            "shopee_partner_id": shopee.partner_id,
            "shopee_partner_key": SecretStr(shopee.partner_key),
        }
    if key == "stripe":
        stripe = stripe_sim.StripeSimConfig()
        return {
            "stripe_api_base": url,
            "stripe_api_key": SecretStr(stripe.api_key),
            "stripe_webhook_secret": SecretStr(stripe.webhook_secret),
        }
    carrier = CarrierSimConfig()
    if key == "viettel-post":
        return {
            "viettel_post_api_base": url,
            "viettel_post_username": carrier.username,
            "viettel_post_password": SecretStr(carrier.password),
            "viettel_post_webhook_secret": SecretStr(carrier.webhook_secret),
        }
    return {
        "ghn_api_base": f"{url}/shiip/public-api",
        "ghn_token": SecretStr(carrier.token),
        "ghn_shop_id": carrier.shop_id,
        "ghn_webhook_secret": SecretStr(carrier.webhook_secret),
    }


def point_settings_at_simulators(settings: Settings, keys: list[str]) -> Settings:
    """Settings whose API bases and credentials for `keys` are their simulators'."""
    update: dict[str, Any] = {}
    for key in keys:
        update |= _simulated_settings(settings, key)
    return settings.model_copy(update=update)


def describe(settings: Settings, simulated: list[str]) -> list[str]:
    """One line per outside service: real (with its host) or simulated (with its URL)."""
    lines = []
    for s in SERVICES:
        if s.key in simulated:
            lines.append(f"{s.title:<13} simulated  {simulator_url(settings, s.key)}")
        else:
            lines.append(f"{s.title:<13} real       {s.api_base(settings)}")
    return lines


def _simulator_app(settings: Settings, key: str) -> Any:
    api = f"http://{settings.host}:{settings.port}"
    if key == "tiktok-shop":
        return tiktok_sim.create_app(
            tiktok_sim.TikTokShopSimConfig(
                webhook_url=f"{api}/webhooks/tiktok-shop",
                redirect_url=f"{api}/api/v1/channel-connections/oauth/tiktok_shop/callback",
            )
        )
    if key == "shopee":
        return shopee_sim.create_app(
            shopee_sim.ShopeeSimConfig(webhook_url=f"{api}/webhooks/shopee")
        )
    if key == "stripe":
        # The buyer page's "bank transfer" settles after the config's few seconds.
        return stripe_sim.create_app(
            stripe_sim.StripeSimConfig(webhook_url=f"{api}/webhooks/stripe")
        )
    carrier = CarrierSimConfig(
        webhook_target_url=f"{api}/webhooks/carriers/{key}", auto_progress_s=DEMO_PARCEL_STEP_S
    )
    if key == "viettel-post":
        return viettel_post_sim.create_app(carrier)
    return ghn_sim.create_app(carrier)


async def start_simulators(
    stack: contextlib.AsyncExitStack, settings: Settings, keys: list[str]
) -> dict[str, str]:
    """Start the simulators of `keys` on their loopback ports, webhooks aimed at this API."""
    urls: dict[str, str] = {}
    for key in keys:
        port = settings.simulator_port(service(key).port_offset)
        try:
            urls[key] = await stack.enter_async_context(
                serve_in_background(_simulator_app(settings, key), port)
            )
        except OSError as exc:
            raise SystemExit(
                f"the {key} simulator cannot listen on 127.0.0.1:{port} ({exc.strerror}); "
                "another instance may hold it: set SIMULATOR_BASE_PORT (or another PORT)"
            ) from None
        log.info("simulator up", extra={"simulator": key, "url": urls[key]})
    return urls
