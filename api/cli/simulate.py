"""`phien simulate …`: the platform and carrier simulators, and a simulated live sale."""

from __future__ import annotations

import asyncio
from enum import StrEnum
from typing import Annotated

import typer

from api.cli.simulators import SHOPEE_PORT, TIKTOK_SHOP_PORT

simulate_app = typer.Typer(help="Simulators that speak the real protocols.", no_args_is_help=True)


class LivePlatform(StrEnum):
    """Platforms a live sale can be simulated on."""

    TIKTOK_SHOP = "tiktok-shop"
    SHOPEE = "shopee"


HostOpt = Annotated[str, typer.Option(help="listen address (keep it on loopback)")]
WebhookOpt = Annotated[str | None, typer.Option(help="where to push webhooks (our API)")]


@simulate_app.command("tiktok-shop")
def tiktok_shop(
    port: int = TIKTOK_SHOP_PORT,
    host: HostOpt = "127.0.0.1",
    webhook_url: WebhookOpt = "http://127.0.0.1:8000/webhooks/tiktok-shop",
    latency_ms: int = 0,
    failure_rate: float = 0.0,
    push_concurrency: int = 32,
) -> None:
    """Serve the TikTok Shop simulator (order API, token refresh, signed webhooks)."""
    from integrations.simulators.live import run_tiktok_shop_simulator
    from integrations.simulators.tiktok_shop import TikTokShopSimConfig

    config = TikTokShopSimConfig(
        webhook_url=webhook_url,
        latency_ms=latency_ms,
        failure_rate=failure_rate,
        push_concurrency=push_concurrency,
    )
    run_tiktok_shop_simulator(host, port, config)


@simulate_app.command("shopee")
def shopee(
    port: int = SHOPEE_PORT,
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
    run_shopee_simulator(host, port, config)


class CarrierName(StrEnum):
    """Carriers that have a simulator."""

    VIETTEL_POST = "viettel-post"
    GHN = "ghn"


CARRIER_PORTS = {CarrierName.VIETTEL_POST: 9103, CarrierName.GHN: 9104}


@simulate_app.command("carrier")
def carrier(
    name: Annotated[CarrierName, typer.Argument(help="which carrier")],
    port: Annotated[int | None, typer.Option(help="9103 (Viettel Post) or 9104 (GHN)")] = None,
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
    listen = port or CARRIER_PORTS[name]
    if name is CarrierName.VIETTEL_POST:
        from integrations.simulators.viettel_post import run_viettel_post_simulator

        run_viettel_post_simulator(host, listen, config)
    else:
        from integrations.simulators.ghn import run_ghn_simulator

        run_ghn_simulator(host, listen, config)


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

    port = TIKTOK_SHOP_PORT if platform is LivePlatform.TIKTOK_SHOP else SHOPEE_PORT
    url = sim_url or f"http://127.0.0.1:{port}"
    name = "tiktok_shop" if platform is LivePlatform.TIKTOK_SHOP else "shopee"
    summary = asyncio.run(play_live_sale(url, name, orders, minutes, seed=seed))
    typer.echo(summary)
