"""What both platform simulators share: order store, fault injection and the `/_sim` endpoints."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from fastapi import APIRouter, HTTPException, Response

from integrations.simulators._sim_models import (
    BulkCreateIn,
    ConfigPatchIn,
    CreateOrderIn,
    Delivery,
    FaultsIn,
    RepushIn,
    SimLineIn,
    SimOrder,
    StatusChangeIn,
    line_from,
)
from integrations.simulators._webhook_pusher import Push, WebhookPusher


class SimPlatform(Protocol):
    """The platform-specific half of a simulator: ids, vocabulary, wire format of pushes."""

    name: str
    statuses: frozenset[str]
    initial_status: str

    def default_shop_id(self) -> str:
        """The shop used when a control request names none."""
        ...

    def has_shop(self, shop_id: str) -> bool:
        """Whether the simulator knows this shop."""
        ...

    def new_order_id(self, seq: int) -> str:
        """A fresh order id in the platform's format."""
        ...

    def build_push(self, order: SimOrder, url: str) -> Push:
        """The signed webhook announcing the order's current status."""
        ...

    def error_response(self, status_code: int) -> Response:
        """The platform's error envelope for an injected failure."""
        ...


@dataclass(slots=True)
class Faults:
    """Latency and failures injected into the platform API (never into `/_sim`)."""

    latency_s: float = 0.0
    failure_rate: float = 0.0
    fail_next: int = 0
    fail_status: int = 500

    async def apply(self, rng: random.Random) -> int | None:
        """Wait the configured latency; return an HTTP status to fail with, or None."""
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        if self.fail_next > 0:
            self.fail_next -= 1
            return self.fail_status
        if self.failure_rate and rng.random() < self.failure_rate:
            return 500
        return None


class SimCore:
    """Orders in memory plus the pusher; the platform apps read and change orders through it."""

    def __init__(
        self,
        platform: SimPlatform,
        pusher: WebhookPusher,
        faults: Faults,
        webhook_url: str | None,
        seed: int,
    ) -> None:
        self.platform = platform
        self.pusher = pusher
        self.faults = faults
        self.webhook_url = webhook_url
        self.orders: dict[str, SimOrder] = {}
        self.rng = random.Random(seed)  # deterministic runs for tests and benchmarks
        self._seq = 0

    async def inject_fault(self) -> Response | None:
        """Apply configured latency and failures to one platform API request."""
        status_code = await self.faults.apply(self.rng)
        return None if status_code is None else self.platform.error_response(status_code)

    def create_order(self, req: CreateOrderIn) -> SimOrder:
        """Store a new order from a control request (no push yet)."""
        shop_id = req.shop_id or self.platform.default_shop_id()
        if not self.platform.has_shop(shop_id):
            raise HTTPException(404, f"unknown shop {shop_id}")
        self._seq += 1
        order_id = req.order_id or self.platform.new_order_id(self._seq)
        if order_id in self.orders:
            raise HTTPException(409, f"order {order_id} exists")
        status = self._checked(req.status or self.platform.initial_status)
        now = int(time.time())
        order = SimOrder(
            order_id=order_id,
            shop_id=shop_id,
            status=status,
            create_time=now,
            update_time=now,
            is_cod=req.is_cod,
            shipping_fee=req.shipping_fee,
            buyer=req.buyer,
            address=req.address,
            lines=[line_from(line) for line in req.lines],
            history=[(status, now)],
        )
        self.orders[order_id] = order
        return order

    def advance(self, order: SimOrder, statuses: Sequence[str], *, push: bool) -> list[Push]:
        """Apply statuses in turn; with `push`, build the webhook each change produces."""
        checked = [self._checked(status) for status in statuses]
        if push:
            self.require_webhook_url()
        pushes = []
        for status in checked:
            order.move_to(status)
            if push:
                pushes.append(self.current_push(order))
        return pushes

    def require_webhook_url(self) -> str:
        """The push target, or a 409 telling the caller to configure one."""
        if not self.webhook_url:
            raise HTTPException(409, "no webhook_url configured: PATCH /_sim/config first")
        return self.webhook_url

    def current_push(self, order: SimOrder) -> Push:
        """The push for the order's current status (nothing is sent here)."""
        return self.platform.build_push(order, self.require_webhook_url())

    def create_and_push(self, req: CreateOrderIn) -> tuple[SimOrder, list[Push]]:
        """Create an order, walk it through `then_statuses`, and send the resulting pushes."""
        if req.push:
            self.require_webhook_url()
        order = self.create_order(req)
        pushes = [self.current_push(order)] if req.push else []
        pushes += self.advance(order, req.then_statuses, push=req.push)
        return order, self.deliver(pushes, req.delivery, req.duplicates)

    def deliver(self, pushes: list[Push], delivery: Delivery, duplicates: int) -> list[Push]:
        """Send pushes in the requested order; each duplicate copy runs as its own sequence."""
        ordered = list(pushes)
        if delivery == "reversed":
            ordered.reverse()
        elif delivery == "shuffled":
            self.rng.shuffle(ordered)
        for _ in range(1 + duplicates):
            self.pusher.submit(ordered)
        return ordered

    def order(self, order_id: str) -> SimOrder:
        """The order with this id, or a 404 for the control API."""
        try:
            return self.orders[order_id]
        except KeyError:
            raise HTTPException(404, f"unknown order {order_id}") from None

    def _checked(self, status: str) -> str:
        if status not in self.platform.statuses:
            raise HTTPException(422, f"{status!r} is not a {self.platform.name} order status")
        return status

    def stats(self) -> dict[str, object]:
        """Counters for `/_sim/stats`."""
        return {
            "platform": self.platform.name,
            "orders": len(self.orders),
            "webhooks": self.pusher.stats.as_dict(),
        }


def build_control_router(core: SimCore) -> APIRouter:
    """The `/_sim/...` endpoints: clearly outside the platform protocol, for tests and demos."""
    router = APIRouter(prefix="/_sim", tags=["simulator control"])

    @router.post("/orders", status_code=201)
    async def create_order(req: CreateOrderIn) -> dict[str, object]:
        order, delivered = core.create_and_push(req)
        return {**order.summary(), "pushed": [push.label for push in delivered]}

    @router.get("/orders/{order_id}")
    async def get_order(order_id: str) -> dict[str, object]:
        return core.order(order_id).summary()

    @router.post("/orders/{order_id}/status")
    async def change_status(order_id: str, req: StatusChangeIn) -> dict[str, object]:
        order = core.order(order_id)
        pushes = core.advance(order, req.statuses, push=req.push)
        delivered = core.deliver(pushes, req.delivery, req.duplicates)
        return {**order.summary(), "pushed": [push.label for push in delivered]}

    @router.post("/orders/{order_id}/push")
    async def repush(order_id: str, req: RepushIn) -> dict[str, object]:
        order = core.order(order_id)
        delivered = core.deliver([core.current_push(order)], "in_order", req.duplicates)
        return {**order.summary(), "pushed": [push.label for push in delivered]}

    @router.post("/bulk-orders", status_code=201)
    async def bulk_create(req: BulkCreateIn) -> dict[str, object]:
        order_ids = [_bulk_one(core, req) for _ in range(req.count)]
        return {"count": len(order_ids), "order_ids": order_ids}

    @router.get("/stats")
    async def stats() -> dict[str, object]:
        return core.stats()

    @router.post("/drain")
    async def drain(timeout_s: float = 10.0) -> dict[str, object]:
        idle = await core.pusher.wait_idle(min(max(timeout_s, 0.0), 120.0))
        return {"idle": idle, **core.stats()}

    @router.patch("/config")
    async def patch_config(req: ConfigPatchIn) -> dict[str, object]:
        _apply_config(core, req)
        return _config_view(core)

    @router.get("/config")
    async def get_config() -> dict[str, object]:
        return _config_view(core)

    @router.post("/faults")
    async def set_faults(req: FaultsIn) -> dict[str, object]:
        core.faults.fail_next, core.faults.fail_status = req.fail_next, req.status_code
        return {"fail_next": req.fail_next, "status_code": req.status_code}

    return router


def _bulk_one(core: SimCore, req: BulkCreateIn) -> str:
    rng = core.rng if req.seed is None else random.Random(req.seed + len(core.orders))
    picked = rng.sample(req.skus, k=min(len(req.skus), rng.randint(1, req.max_lines)))
    lines = [
        SimLineIn(**{**sku.model_dump(), "quantity": rng.randint(1, req.max_quantity)})
        for sku in picked
    ]
    create = CreateOrderIn(
        shop_id=req.shop_id,
        lines=lines,
        is_cod=rng.random() < req.cod_ratio,
        status=req.status,
        then_statuses=req.then_statuses,
        push=req.push,
    )
    order, _ = core.create_and_push(create)
    return order.order_id


def _apply_config(core: SimCore, req: ConfigPatchIn) -> None:
    if req.webhook_url is not None:
        core.webhook_url = req.webhook_url or None
    if req.latency_ms is not None:
        core.faults.latency_s = req.latency_ms / 1000
    if req.failure_rate is not None:
        core.faults.failure_rate = req.failure_rate
    if req.retry is not None:
        core.pusher.policy.retry = req.retry
    if req.backoff_s is not None:
        core.pusher.policy.backoff_s = tuple(req.backoff_s)
    if req.time_scale is not None:
        core.pusher.policy.time_scale = req.time_scale


def _config_view(core: SimCore) -> dict[str, object]:
    return {
        "webhook_url": core.webhook_url,
        "latency_ms": round(core.faults.latency_s * 1000),
        "failure_rate": core.faults.failure_rate,
        "retry": core.pusher.policy.retry,
        "backoff_s": list(core.pusher.policy.backoff_s),
        "time_scale": core.pusher.policy.time_scale,
    }
