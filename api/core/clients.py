"""Clients of the outside services (carriers and platforms), built from the settings.

The one place that turns settings into clients: the worker's jobs and the API's routes use
these, never their own builders.

Carrier clients: one per carrier per process.

Kept for the life of the process because the Viettel Post client caches its login token and the
post-merger address lists: a client per job would log in and download the wards every time.
Carrier calls get their own httpx client so their timeout (CARRIER_TIMEOUT_S) is the carriers',
not the platforms'.
"""

from __future__ import annotations

import httpx

from api.core.config import Settings
from integrations.carriers.base import Carrier, Label, OrderState
from integrations.carriers.ghn import GhnClient, GhnConfig
from integrations.carriers.http import HttpLanes
from integrations.carriers.viettel_post import ViettelPostClient, ViettelPostConfig
from integrations.payments.stripe_client import StripePayments
from integrations.platforms.shopee import ShopeeClient
from integrations.platforms.tiktok_shop import TikTokShopClient

GHN_API_PATH = "/shiip/public-api"
CALLS_IN_FLIGHT = 32


def viettel_post_config(settings: Settings) -> ViettelPostConfig:
    """The Viettel Post account from VIETTEL_POST_* settings."""
    return ViettelPostConfig(
        username=settings.viettel_post_username,
        password=settings.viettel_post_password.get_secret_value(),
        api_base=settings.viettel_post_api_base,
        webhook_secret=settings.viettel_post_webhook_secret.get_secret_value(),
        service_code=settings.viettel_post_service_code,
    )


def ghn_config(settings: Settings) -> GhnConfig:
    """The GHN shop from GHN_* settings; GHN_API_BASE may be the host or the full API base."""
    base = settings.ghn_api_base.rstrip("/")
    if not base.endswith(GHN_API_PATH):
        base += GHN_API_PATH
    return GhnConfig(
        token=settings.ghn_token.get_secret_value(),
        shop_id=settings.ghn_shop_id,
        api_base=base,
    )


class CarrierClients:
    """The process's carrier clients over one httpx client with the carrier timeout."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._timeout = httpx.Timeout(settings.carrier_timeout_s, connect=3.0)
        # Per carrier: its calls in flight at most CALLS_IN_FLIGHT, each lane one connection.
        self._lanes: dict[str, HttpLanes] = {}
        self._clients: dict[str, Carrier] = {}

    def get(self, carrier: str) -> Carrier:
        """The client of `carrier` (viettel_post or ghn), built on first use."""
        client = self._clients.get(carrier)
        if client is None:
            client = self._clients[carrier] = self._build(carrier)
        return client

    def _build(self, carrier: str) -> Carrier:
        if carrier not in ("viettel_post", "ghn"):
            raise ValueError(f"no client for carrier {carrier!r}")
        lanes = self._lanes[carrier] = HttpLanes(CALLS_IN_FLIGHT, self._timeout)
        if carrier == "viettel_post":
            return ViettelPostClient(viettel_post_config(self.settings), lanes)
        return GhnClient(ghn_config(self.settings), lanes)

    def missing_config(self, carrier: str) -> str | None:
        """What is missing before `carrier` can be called at all (None: configured)."""
        settings = self.settings
        if carrier == "viettel_post" and not (
            settings.viettel_post_username and settings.viettel_post_password.get_secret_value()
        ):
            return "Viettel Post is not configured (VIETTEL_POST_USERNAME, VIETTEL_POST_PASSWORD)"
        if carrier == "ghn" and not (
            settings.ghn_token.get_secret_value() and settings.ghn_shop_id
        ):
            return "GHN is not configured (GHN_TOKEN, GHN_SHOP_ID)"
        return None

    def configured_service(self, carrier: str) -> str | None:
        """The service we ask the carrier for when its answer does not say."""
        return self.settings.viettel_post_service_code if carrier == "viettel_post" else None

    async def label(self, carrier: str, waybill: str) -> Label:
        """A fresh print link for a booked parcel and its expiry (the label job stores both)."""
        return await self.get(carrier).label(waybill)

    async def ghn_order_state(self, waybill: str, reference: str | None) -> OrderState | None:
        """GHN's own view of a parcel (its webhooks are unsigned, so money claims are re-read)."""
        client = self.get("ghn")
        assert isinstance(client, GhnClient)
        return await client.order_state(waybill, reference)

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        for lanes in self._lanes.values():
            await lanes.aclose()


def tiktok_shop_client(settings: Settings, http: httpx.AsyncClient) -> TikTokShopClient:
    """The TikTok Shop Partner API client for our app (TIKTOK_SHOP_* settings)."""
    return TikTokShopClient(
        http,
        settings.tiktok_shop_api_base,
        settings.tiktok_shop_app_key,
        settings.tiktok_shop_app_secret.get_secret_value(),
    )


def shopee_client(settings: Settings, http: httpx.AsyncClient) -> ShopeeClient:
    """The Shopee Open Platform client for our partner account (SHOPEE_* settings)."""
    return ShopeeClient(
        http,
        settings.shopee_api_base,
        settings.shopee_partner_id,
        settings.shopee_partner_key.get_secret_value(),
    )


def payments_client(settings: Settings) -> StripePayments | None:
    """The Stripe client (STRIPE_API_KEY, STRIPE_API_BASE), or None when no key is configured.

    One per process: it holds a pool of connections to Stripe. Close it with `aclose()`.
    """
    api_key = settings.stripe_api_key.get_secret_value()
    if not api_key:
        return None
    return StripePayments(api_key=api_key, api_base=settings.stripe_api_base)
