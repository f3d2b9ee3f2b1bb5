"""Checkout Session creations per second through our Stripe client, the simulator at 100 ms.

What the direct checkout's own ceiling is on the Stripe side: the official library's encoding,
its async HTTPX client and one simulator process answering every create after `latency_ms`.
The simulator runs in its own process (as Stripe is not in ours), the client in this one.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.env import free_port, process, wait_http
from integrations.payments.stripe_client import StripePayments
from integrations.payments.types import CheckoutLine, PaymentError, PaymentUnavailable

API_KEY = "sk_test_bench_stripe_0a1b"
LINES = [CheckoutLine("Gạo Séng Cù túi 2 kg", 80_000, 2), CheckoutLine("Mật ong 500 g", 55_000, 1)]


@dataclass
class Result:
    """One run: how many, how long, how many failed, and the latencies."""

    concurrency: int
    created: int
    failed: int
    seconds: float
    latencies_ms: list[float]

    @property
    def rate(self) -> float:
        """Sessions created per second."""
        return self.created / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        """The p-th percentile latency in ms."""
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(len(ordered) * p / 100))] if ordered else 0.0


async def _run(base: str, sessions: int, concurrency: int, tag: str) -> Result:
    client = StripePayments(api_key=API_KEY, api_base=base, max_network_retries=0)
    queue = iter(range(sessions))
    latencies: list[float] = []
    failed = 0

    async def worker() -> None:
        nonlocal failed
        for n in queue:
            started = time.perf_counter()
            try:
                await client.create_checkout_session(
                    lines=LINES,
                    client_reference_id=f"bench-{tag}-{n}",
                    success_url="http://127.0.0.1/done?s={CHECKOUT_SESSION_ID}",
                    cancel_url="http://127.0.0.1/again",
                    expires_at=int(time.time()) + 3600,
                    metadata={"order_id": str(n)},
                    idempotency_key=f"bench-{tag}-{n}",
                )
            except (PaymentError, PaymentUnavailable):
                failed += 1
                continue
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    seconds = time.perf_counter() - started
    await client.aclose()
    return Result(concurrency, len(latencies), failed, seconds, latencies)


async def measure(sessions: int = 2_000, latency_ms: int = 100) -> list[Result]:
    """Start the simulator answering after `latency_ms`, then create sessions at 8…128 callers."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = ["simulate", "stripe", "--port", str(port), "--latency-ms", str(latency_ms)]
    log = Path(tempfile.gettempdir()) / f"bench-stripe-sim-{port}.log"
    with process(command, {"STRIPE_API_KEY": API_KEY}, log):
        await wait_http(f"{base}/_sim/config")
        results = []
        for concurrency in (8, 32, 64, 128):
            results.append(await _run(base, sessions, concurrency, f"c{concurrency}"))
            async with httpx.AsyncClient() as http:
                (await http.post(f"{base}/_sim/reset")).raise_for_status()
        return results


def report(results: list[Result], latency_ms: int = 100) -> None:
    """Print the table."""
    print(
        f"\nStripe Checkout Session creations through StripePayments (simulator at {latency_ms} ms)"
    )
    print("| callers | created | failed |  per s | p50 ms | p99 ms |")
    print("|--------:|--------:|-------:|-------:|-------:|-------:|")
    for r in results:
        print(f"| {r.concurrency:>7} | {r.created:>7} | {r.failed:>6} | {r.rate:>6.0f} "
              f"| {r.percentile(50):>6.1f} | {r.percentile(99):>6.1f} |")  # fmt: skip
