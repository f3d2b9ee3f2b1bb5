"""Deliver simulated platform webhooks: one shared client, bounded concurrency, bounded retries."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import httpx


@dataclass(frozen=True, slots=True)
class Push:
    """One signed webhook: its target, the exact bytes, and the headers carrying the signature."""

    url: str
    body: bytes
    headers: Mapping[str, str]
    label: str = ""  # e.g. the order status, so tests and logs can tell pushes apart


@dataclass(slots=True)
class PushStats:
    """Counters for `/_sim/stats`: every HTTP attempt, its outcome, and abandoned deliveries."""

    deliveries: int = 0  # logical deliveries requested (duplicates count separately)
    sent: int = 0  # HTTP attempts made
    acked: int = 0  # attempts answered 2xx
    failed: int = 0  # attempts answered non-2xx, timed out or refused
    retried: int = 0  # attempts that were retries
    gave_up: int = 0  # deliveries abandoned after the last attempt
    pending: int = 0  # deliveries not finished yet
    # Seconds of the platform's schedule waited before retries, summed (before any time scale).
    waited_s: float = 0.0

    def as_dict(self) -> dict[str, float]:
        """The counters as a JSON-ready dict."""
        return {
            "deliveries": self.deliveries,
            "sent": self.sent,
            "acked": self.acked,
            "failed": self.failed,
            "retried": self.retried,
            "gave_up": self.gave_up,
            "pending": self.pending,
            "waited_s": self.waited_s,
        }


# TikTok Shop retries a webhook 4 times, 2 min, 30 min, 3 h and 12 h after the first attempt
# (platforms.md §1.5), then gives up.
TIKTOK_SHOP_RETRIES_S: tuple[float, ...] = (120.0, 1800.0, 10800.0, 43200.0)
# Shopee's live-push retry schedule is not documented (platforms.md §2.1: UNCONFIRMED). What is
# documented is that an undelivered push becomes a "lost" message, kept 3 days for
# `get_lost_push_message`: the simulator plays the strictest reading, no retry at all.
SHOPEE_RETRIES_S: tuple[float, ...] = ()


@dataclass(slots=True)
class PushPolicy:
    """How hard the simulator tries, on the platform's own schedule.

    `time_scale` compresses the schedule for tests and benches (0.0001 turns 12 h into 4.3 s)
    without changing which attempts are made; stats count the schedule's seconds unscaled.
    """

    retry: bool = True
    backoff_s: tuple[float, ...] = TIKTOK_SHOP_RETRIES_S
    timeout_s: float = 3.0  # both platforms want an answer within 3 s
    time_scale: float = 1.0


class WebhookPusher:
    """Queue pushes as background tasks; sequences keep their order, separate submits race."""

    def __init__(
        self,
        policy: PushPolicy,
        *,
        concurrency: int = 32,
        on_gave_up: Callable[[Push], None] | None = None,
    ) -> None:
        self.policy = policy
        self.stats = PushStats()
        self._concurrency = concurrency
        self._slots = asyncio.Semaphore(concurrency)
        self._on_gave_up = on_gave_up
        self._tasks: set[asyncio.Task[None]] = set()
        self._idle = asyncio.Event()
        self._idle.set()
        self._http: httpx.AsyncClient | None = None

    async def start(self) -> None:
        """Open the one shared HTTP client (called from the app lifespan)."""
        # Keep every connection alive: a smaller keep-alive pool would close and reopen the
        # extra connections on every push.
        limits = httpx.Limits(
            max_connections=self._concurrency, max_keepalive_connections=self._concurrency
        )
        self._http = httpx.AsyncClient(limits=limits, timeout=self.policy.timeout_s)

    async def close(self) -> None:
        """Cancel undelivered pushes and close the client."""
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    def submit(self, pushes: Sequence[Push]) -> None:
        """Deliver `pushes` one after another in a background task (their order is kept)."""
        if not pushes:
            return
        self.stats.deliveries += len(pushes)
        self.stats.pending += len(pushes)
        self._idle.clear()
        task = asyncio.get_running_loop().create_task(self._run(list(pushes)))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def wait_idle(self, timeout_s: float) -> bool:
        """Wait until nothing is pending (True) or the timeout passes (False)."""
        try:
            async with asyncio.timeout(timeout_s):
                await self._idle.wait()
        except TimeoutError:
            return False
        return True

    async def _run(self, pushes: list[Push]) -> None:
        for push in pushes:
            try:
                if not await self._deliver(push) and self._on_gave_up is not None:
                    self._on_gave_up(push)
            finally:
                self.stats.pending -= 1
                if self.stats.pending == 0:
                    self._idle.set()

    async def _deliver(self, push: Push) -> bool:
        backoff = self.policy.backoff_s if self.policy.retry else ()
        for attempt in range(len(backoff) + 1):
            if attempt:
                self.stats.retried += 1
                self.stats.waited_s += backoff[attempt - 1]
                # Sleep outside the semaphore so a failing target does not starve others.
                await asyncio.sleep(backoff[attempt - 1] * self.policy.time_scale)
            if await self._attempt(push):
                return True
        self.stats.gave_up += 1
        return False

    async def _attempt(self, push: Push) -> bool:
        if self._http is None:
            raise RuntimeError("WebhookPusher.start() was not called")
        async with self._slots:
            self.stats.sent += 1
            try:
                response = await self._http.post(push.url, content=push.body, headers=push.headers)
            except httpx.HTTPError:
                self.stats.failed += 1
                return False
        if 200 <= response.status_code < 300:
            self.stats.acked += 1
            return True
        self.stats.failed += 1
        return False
