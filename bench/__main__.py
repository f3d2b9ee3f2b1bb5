"""`python -m bench [webhooks|e2e|pipeline|flash|handoff|faults|reports|cod|documents|stripe|…]`."""

from __future__ import annotations

import os
import sys

import uvloop

from bench.load import LoadResult


def _row(name: str, result: LoadResult) -> str:
    statuses = ",".join(f"{k}:{v}" for k, v in sorted(result.statuses.items()))
    return (
        f"| {name:<28} | {result.requests:>7} | {result.rate:>9.0f} | {result.percentile(50):>7.1f} "
        f"| {result.percentile(99):>7.1f} | {statuses:<14} |"
    )


async def webhooks() -> None:
    """Webhook acknowledgement rate and latency beside /health."""
    from bench.webhook_ack import measure

    results, stored = await measure()
    print("\nWebhook acknowledgement (64 concurrent keep-alive senders, one `phien api` process)")
    print(
        "| endpoint                     | requests |    req/s |  p50 ms |  p99 ms | statuses       |"
    )
    print(
        "|------------------------------|---------:|---------:|--------:|--------:|----------------|"
    )
    for name, result in results.items():
        print(_row(name, result))
    health, hooks = results["GET /health"], results["POST /webhooks/tiktok-shop"]
    print(f"webhooks/health throughput ratio: {hooks.rate / health.rate:.2f}; "
          f"inbox rows stored: {stored} of {hooks.requests}; target >= 3000/s, p99 <= 50 ms")  # fmt: skip


async def e2e() -> None:
    """End-to-end orders per second over 20,000 orders, lost and duplicated counts."""
    from bench.end_to_end import measure, report

    report(await measure(orders=int(os.environ.get("BENCH_ORDERS", "20000"))))


async def pipeline() -> None:
    """Webhook to booked parcel: the end-to-end run with the carrier simulator configured."""
    from bench.end_to_end import measure_pipeline, report_pipeline

    report_pipeline(await measure_pipeline(orders=int(os.environ.get("BENCH_ORDERS", "20000"))))


async def handoff() -> None:
    """Carrier bookings per second over 5,000 shipments, undisturbed and with a worker killed."""
    from bench.handoff import measure, report

    report(await measure(shipments=int(os.environ.get("BENCH_SHIPMENTS", "5000"))))


async def flash() -> None:
    """A flash sale: 1,000 orders against an offer capped at 100."""
    from bench.flash_sale import measure, report

    report(await measure())


async def faults() -> None:
    """Orders through poison webhooks, a killed worker, a hanging carrier, Redis and PG restarts."""
    from bench.faults import measure, report, settings_from_env

    report(await measure(*settings_from_env()))


async def checkout() -> None:
    """Direct checkouts per second with the Stripe simulator answering in 100 ms, beside /health."""
    from bench.checkout import measure, report

    report(*await measure())


async def reports() -> None:
    """Tonnage report p95 over 1,000,000 order lines; webhook to the dashboard's live counter."""
    from bench.reports import measure, report

    report(await measure())


async def cod() -> None:
    """A 10,000-line COD statement imported and reconciled, beside a 1,000-line baseline."""
    from bench.cod import measure, report

    report(await measure())


async def documents() -> None:
    """Every document of a 500-parcel pickup batch beside a 50-parcel one: time, pages, memory."""
    from bench.documents import measure, report

    report(await measure())


async def stripe() -> None:
    """Checkout Session creations per second through our Stripe client, simulator at 100 ms."""
    from bench.stripe_client import measure, report

    report(await measure(sessions=int(os.environ.get("BENCH_STRIPE_SESSIONS", "2000"))))


def main() -> None:
    """Run the benchmarks named on the command line (all by default)."""
    benches = {
        "webhooks": webhooks, "e2e": e2e, "pipeline": pipeline, "flash": flash, "handoff": handoff,
        "faults": faults,
        "reports": reports,
        "cod": cod,
        "documents": documents,
        "stripe": stripe,
        "checkout": checkout,
    }  # fmt: skip
    for name in sys.argv[1:] or list(benches):
        uvloop.run(benches[name]())


main()
