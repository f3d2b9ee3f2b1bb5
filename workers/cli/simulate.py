"""`phien simulate …`: the platform and carrier simulators, and a simulated live sale."""

from __future__ import annotations

import asyncio
import os
from dataclasses import replace
from enum import StrEnum
from typing import Annotated, Any

import typer

from api.core.config import get_settings
from workers.cli.simulators import service

simulate_app = typer.Typer(help="Simulators that speak the real protocols.", no_args_is_help=True)


class LivePlatform(StrEnum):
    """Platforms a live sale can be simulated on."""

    TIKTOK_SHOP = "tiktok-shop"
    SHOPEE = "shopee"


# Simulator config field -> the variable the service reads it from. Where set, the simulator
# accepts exactly what the service sends (containers share one env file); else its own well-known
# credentials.
CREDENTIAL_VARIABLES: dict[str, dict[str, str]] = {
    "tiktok-shop": {"app_key": "TIKTOK_SHOP_APP_KEY", "app_secret": "TIKTOK_SHOP_APP_SECRET"},
    "shopee": {"partner_id": "SHOPEE_PARTNER_ID", "partner_key": "SHOPEE_PARTNER_KEY"},
    "viettel-post": {"username": "VIETTEL_POST_USERNAME", "password": "VIETTEL_POST_PASSWORD",
                     "webhook_secret": "VIETTEL_POST_WEBHOOK_SECRET"},
    "ghn": {"token": "GHN_TOKEN", "shop_id": "GHN_SHOP_ID", "webhook_secret": "GHN_WEBHOOK_SECRET"},
    "stripe": {"api_key": "STRIPE_API_KEY", "webhook_secret": "STRIPE_WEBHOOK_SECRET"},
}  # fmt: skip


def credentials_from_env(simulator: str) -> dict[str, Any]:
    """The simulator's credentials found in the environment (ids as integers)."""
    found: dict[str, Any] = {}
    for field, name in CREDENTIAL_VARIABLES[simulator].items():
        value = os.environ.get(name)
        if value:
            found[field] = int(value) if field.endswith("_id") else value
    return found


HostOpt = Annotated[str, typer.Option(help="listen address (keep it on loopback)")]
WebhookOpt = Annotated[str | None, typer.Option(help="where to push webhooks (our API)")]
PortOpt = Annotated[
    int | None, typer.Option(help="listen port (default: SIMULATOR_BASE_PORT + its offset)")
]


def _port(key: str) -> int:
    """The simulator's port from SIMULATOR_BASE_PORT / PORT, as `phien serve` computes it."""
    return get_settings().simulator_port(service(key).port_offset)


@simulate_app.command("tiktok-shop")
def tiktok_shop(
    port: PortOpt = None,
    host: HostOpt = "127.0.0.1",
    webhook_url: WebhookOpt = "http://127.0.0.1:8000/webhooks/tiktok-shop",
    latency_ms: int = 0,
    failure_rate: float = 0.0,
    push_concurrency: int = 32,
    push_time_scale: Annotated[
        float, typer.Option(help="run the 2 min … 12 h retry schedule this much faster (0–1)")
    ] = 1.0,
) -> None:
    """Serve the TikTok Shop simulator (order API, token refresh, signed webhooks)."""
    from integrations.simulators.live import run_tiktok_shop_simulator
    from integrations.simulators.tiktok_shop import TikTokShopSimConfig

    config = TikTokShopSimConfig(
        webhook_url=webhook_url,
        latency_ms=latency_ms,
        failure_rate=failure_rate,
        push_concurrency=push_concurrency,
        push_time_scale=push_time_scale,
    )
    config = replace(config, **credentials_from_env("tiktok-shop"))
    run_tiktok_shop_simulator(host, port or _port("tiktok-shop"), config)


@simulate_app.command("shopee")
def shopee(
    port: PortOpt = None,
    host: HostOpt = "127.0.0.1",
    webhook_url: WebhookOpt = "http://127.0.0.1:8000/webhooks/shopee",
    latency_ms: int = 0,
    failure_rate: float = 0.0,
) -> None:
    """Serve the Shopee simulator (order API, lost pushes, signed pushes)."""
    from integrations.simulators.live import run_shopee_simulator
    from integrations.simulators.shopee import ShopeeSimConfig

    config = ShopeeSimConfig(
        webhook_url=webhook_url, latency_ms=latency_ms, failure_rate=failure_rate
    )
    config = replace(config, **credentials_from_env("shopee"))
    run_shopee_simulator(host, port or _port("shopee"), config)


class CarrierName(StrEnum):
    """Carriers that have a simulator."""

    VIETTEL_POST = "viettel-post"
    GHN = "ghn"


@simulate_app.command("carrier")
def carrier(
    name: Annotated[CarrierName, typer.Argument(help="which carrier")],
    port: PortOpt = None,
    host: HostOpt = "127.0.0.1",
    webhook_url: WebhookOpt = None,
    latency_ms: float = 0.0,
    failure_rate: float = 0.0,
    timeout_rate: float = 0.0,
) -> None:
    """Serve a carrier simulator: login, booking with duplicate checks, cancel, labels, webhooks."""
    from integrations.simulators._carrier_common import CarrierSimConfig

    config = CarrierSimConfig(
        webhook_target_url=webhook_url or f"http://127.0.0.1:8000/webhooks/carriers/{name.value}",
        latency_ms=latency_ms,
        failure_rate=failure_rate,
        timeout_rate=timeout_rate,
    )
    config = replace(config, **credentials_from_env(name.value))
    listen = port or _port(name.value)
    if name is CarrierName.VIETTEL_POST:
        from integrations.simulators.viettel_post import run_viettel_post_simulator

        run_viettel_post_simulator(host, listen, config)
    else:
        from integrations.simulators.ghn import run_ghn_simulator

        run_ghn_simulator(host, listen, config)


@simulate_app.command("stripe")
def stripe(
    port: PortOpt = None,
    host: HostOpt = "127.0.0.1",
    webhook_url: WebhookOpt = None,
    latency_ms: Annotated[float, typer.Option(help="delay of every API answer (bench: 100)")] = 0.0,
    push_time_scale: Annotated[
        float, typer.Option(help="run Stripe's webhook retry schedule this much faster (0–1)")
    ] = 1.0,
    settle_after_s: Annotated[
        float, typer.Option(help="a bank transfer on the buyer page settles after this long")
    ] = 5.0,
    public_url: Annotated[
        str | None, typer.Option(help="where browsers reach this simulator (default: as called)")
    ] = None,
) -> None:
    """Serve the Stripe simulator: Checkout Sessions, refunds, a buyer page, signed webhooks.

    It accepts STRIPE_API_KEY (an sk_test_ key) and signs with STRIPE_WEBHOOK_SECRET when set,
    else its own well-known test values (the defaults of `StripeSimConfig`).
    """
    from integrations.simulators.stripe import StripeSimConfig, run_stripe_simulator

    settings = get_settings()
    config = StripeSimConfig(
        webhook_url=webhook_url or f"http://127.0.0.1:{settings.port}/webhooks/stripe",
        latency_ms=latency_ms,
        push_time_scale=push_time_scale,
        async_settle_s=settle_after_s,
        public_url=public_url,
    )
    config = replace(config, **credentials_from_env("stripe"))
    run_stripe_simulator(host, port or _port("stripe"), config)


@simulate_app.command("live")
def live(
    platform: Annotated[LivePlatform, typer.Option(help="which platform's simulator")],
    orders: Annotated[int, typer.Option(min=1, max=100_000)] = 2500,
    minutes: Annotated[float, typer.Option(min=0.0, max=240.0)] = 4.0,
    sim_url: Annotated[str | None, typer.Option(help="simulator base URL")] = None,
    seed: int = 0,
) -> None:
    """Play a live sale: create orders on the simulator, which pushes their webhooks to us."""
    from integrations.simulators.live import play_live_sale

    url = sim_url or f"http://127.0.0.1:{_port(platform.value)}"
    name = "tiktok_shop" if platform is LivePlatform.TIKTOK_SHOP else "shopee"
    summary = asyncio.run(play_live_sale(url, name, orders, minutes, seed=seed))
    typer.echo(summary)
