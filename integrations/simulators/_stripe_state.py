"""The Stripe simulator's state: sessions, payments, refunds, events, and Stripe's rules on them."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import functools
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

import httpx
import orjson
from pydantic import BaseModel, Field

from integrations.simulators._stripe_wire import (
    SignedHeaders,
    StripeApiError,
    as_int,
    new_id,
)
from integrations.simulators._webhook_pusher import Push, PushPolicy, WebhookPusher

# The API version the events claim (what stripe 16.1.0 pins).
API_VERSION = "2026-10-28.endive"
# Stripe: a test-mode endpoint is retried "three times over a few hours" (§5.2); the exact
# spacing is not documented, so this one is the simulator's.
STRIPE_TEST_RETRIES_S: tuple[float, ...] = (300.0, 3600.0, 3 * 3600.0)
MIN_EXPIRY_S = 30 * 60
MAX_EXPIRY_S = 24 * 3600
SESSION_PARAMS = frozenset(
    {
        "mode",
        "line_items",
        "client_reference_id",
        "success_url",
        "cancel_url",
        "expires_at",
        "metadata",
        "customer_email",
        "locale",
        "payment_method_types",
        "payment_intent_data",
        "expand",
    }
)
REFUND_PARAMS = frozenset({"payment_intent", "amount", "reason", "metadata", "expand"})
REFUND_REASONS = frozenset({"duplicate", "fraudulent", "requested_by_customer"})


@dataclass
class StripeSimConfig:
    """Keys, webhook endpoint and knobs; every field but the keys can change at run time."""

    # Well-known simulator credentials, never real ones: the simulator only listens on loopback.
    api_key: str = "sk_test_phien_simulator_4f6c2a"
    webhook_secret: str = field(default="whsec_phien_simulator_9b1e7d", repr=False)
    webhook_url: str | None = None
    # Where buyers' browsers reach this simulator (its session `url`s); None: as the API was called.
    public_url: str | None = None
    # Events are pushed as they happen; False keeps them for `/_sim/events/deliver` (any order).
    auto_deliver: bool = True
    latency_ms: float = 0.0
    push_retry: bool = True
    push_backoff_s: tuple[float, ...] = STRIPE_TEST_RETRIES_S
    push_time_scale: float = 1.0
    push_timeout_s: float = 10.0
    # How often open sessions past their `expires_at` are expired (and announced).
    expiry_sweep_s: float = 1.0
    # A bank transfer settles this long after the buyer pays; None: only via /_sim/…/settle.
    async_settle_s: float | None = 5.0


class ConfigPatch(BaseModel):
    """`PATCH /_sim/config`: the fields to change."""

    webhook_url: str | None = None
    auto_deliver: bool | None = None
    latency_ms: float | None = Field(default=None, ge=0, le=60_000)
    push_retry: bool | None = None
    push_backoff_s: list[float] | None = None
    push_time_scale: float | None = Field(default=None, ge=0, le=1)
    async_settle_s: float | None = Field(default=None, ge=0)
    manual_settle: bool | None = None  # True: bank transfers wait for /settle
    public_url: str | None = None
    expiry_sweep_s: float | None = Field(default=None, gt=0, le=3600)


class FaultsIn(BaseModel):
    """`POST /_sim/faults`: the next `count` API requests fail (never `/_sim` or the page)."""

    count: int = Field(default=1, ge=0, le=1000)
    mode: Literal["status", "drop"] = "status"
    status_code: int = Field(default=500, ge=400, le=599)


class PayIn(BaseModel):
    """How the buyer pays."""

    method: Literal["card", "bank_transfer"] = "card"
    # For a bank transfer: how it settles when it does.
    outcome: Literal["succeeded", "failed"] = "succeeded"


class LatePaymentIn(BaseModel):
    """The race: the session expires, and its payment completes anyway."""

    # Which event reaches the endpoint first.
    order: Literal["expired_first", "completed_first"] = "expired_first"


class DeliverIn(BaseModel):
    """Re-deliver events (as one sequence, in the order given)."""

    event_ids: list[str]
    copies: int = Field(default=1, ge=1, le=20)
    sign_offset_s: int = 0  # e.g. -600: a stale signature
    forged: bool = False  # signed with a wrong secret


@dataclass
class Delivery:
    """One HTTP attempt to deliver an event."""

    event_id: str
    type: str
    status_code: int | None
    error: str | None
    at: float


@dataclass
class SimSession:
    """A Checkout Session: the object Stripe returns, plus what only the page needs."""

    obj: dict[str, Any]
    lines: list[dict[str, Any]]
    settle_task: asyncio.Task[None] | None = None


@dataclass
class SimPaymentIntent:
    """A payment: amount, refunds so far, and the session that took it."""

    id: str
    charge_id: str
    amount: int
    session_id: str
    status: str
    refunded: int = 0


@dataclass
class FaultPlan:
    """Injected failures of the next API requests."""

    count: int = 0
    mode: str = "status"
    status_code: int = 500


class StripeState:
    """Everything the simulator holds; `reset` forgets it and restores the startup config."""

    def __init__(self, config: StripeSimConfig) -> None:
        self.initial_config = replace(config)
        self.config = config
        self.pusher = self._new_pusher(config)
        self.reset()

    def _new_pusher(self, config: StripeSimConfig) -> WebhookPusher:
        pusher = WebhookPusher(self._policy(config))
        pusher._attempt = functools.partial(self._attempt, pusher)  # type: ignore[method-assign]
        return pusher

    async def restart(self) -> None:
        """`reset`, and drop every delivery in flight: a new test owes the old ones nothing."""
        old, self.pusher = self.pusher, self._new_pusher(self.initial_config)
        await old.close()
        await self.pusher.start()
        self.reset()

    @staticmethod
    def _policy(config: StripeSimConfig) -> PushPolicy:
        return PushPolicy(
            retry=config.push_retry,
            backoff_s=config.push_backoff_s,
            timeout_s=config.push_timeout_s,
            time_scale=config.push_time_scale,
        )

    def reset(self) -> None:
        """Forget sessions, payments, refunds, events and keys; restore the startup config."""
        for session in getattr(self, "sessions", {}).values():
            if session.settle_task is not None:
                session.settle_task.cancel()
        self.generation = getattr(self, "generation", 0) + 1
        self.config = replace(self.initial_config)
        self.pusher.policy = self._policy(self.config)
        self.sessions: dict[str, SimSession] = {}
        self.intents: dict[str, SimPaymentIntent] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.events: dict[str, dict[str, Any]] = {}
        self.deliveries: list[Delivery] = []
        self.idempotency: dict[str, tuple[str, int, bytes]] = {}
        self.in_flight: set[str] = set()
        self.faults = FaultPlan()
        self.requests = 0

    # -- events --------------------------------------------------------------------------

    def emit(self, type_: str, obj: dict[str, Any]) -> dict[str, Any]:
        """Record an event carrying a snapshot of `obj`; push it unless delivery is held."""
        event = self.new_event(type_, obj)
        if self.config.auto_deliver:
            self.deliver([event["id"]])
        return event

    def new_event(self, type_: str, obj: dict[str, Any]) -> dict[str, Any]:
        """Record an event without sending it."""
        event: dict[str, Any] = {
            "id": new_id("evt_"),
            "object": "event",
            "api_version": API_VERSION,
            "created": int(time.time()),
            "data": {"object": copy.deepcopy(obj)},
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "type": type_,
        }
        self.events[event["id"]] = event
        return event

    def deliver(
        self,
        event_ids: list[str],
        *,
        copies: int = 1,
        sign_offset_s: int = 0,
        forged: bool = False,
    ) -> list[Push]:
        """Push these events, one after another, `copies` times (each copy its own sequence)."""
        url = self.config.webhook_url
        if not url:
            return []
        pushes = []
        for event_id in event_ids:
            event = self.events[event_id]
            body = _event_bytes(event)
            headers = SignedHeaders(
                lambda: self.config.webhook_secret, body, offset_s=sign_offset_s, forged=forged
            )
            pushes.append(Push(url, body, headers, label=f"{event_id} {event['type']}"))
        for _ in range(copies):
            self.pusher.submit(pushes)
        return pushes

    async def _attempt(self, pusher: WebhookPusher, push: Push) -> bool:
        """One HTTP attempt of the pusher, recorded for `/_sim/events`."""
        event_id, _, type_ = push.label.partition(" ")
        http = pusher._http
        if http is None:
            raise RuntimeError("the pusher was not started")
        async with pusher._slots:
            pusher.stats.sent += 1
            try:
                response = await http.post(push.url, content=push.body, headers=push.headers)
            except httpx.HTTPError as exc:
                pusher.stats.failed += 1
                self.deliveries.append(
                    Delivery(event_id, type_, None, type(exc).__name__, time.time())
                )
                return False
        self.deliveries.append(Delivery(event_id, type_, response.status_code, None, time.time()))
        if 200 <= response.status_code < 300:
            pusher.stats.acked += 1
            return True
        pusher.stats.failed += 1
        return False

    # -- sessions ------------------------------------------------------------------------

    def session(self, session_id: str, *, param: str = "session") -> SimSession:
        """The session, or Stripe's `resource_missing`."""
        found = self.sessions.get(session_id)
        if found is None:
            raise StripeApiError(
                404,
                f"No such checkout.session: '{session_id}'",
                code="resource_missing",
                param=param,
            )
        return found

    def create_session(self, params: dict[str, Any], base_url: str) -> dict[str, Any]:
        """Validate a create request as Stripe does and store the new open session."""
        _refuse_unknown(params, SESSION_PARAMS)
        mode = params.get("mode")
        if not mode:
            raise StripeApiError(
                400, "Missing required param: mode.", code="parameter_missing", param="mode"
            )
        if mode != "payment":
            raise StripeApiError(
                400,
                f"The simulator supports mode=payment only, not {mode!r}.",
                code="parameter_invalid_enum",
                param="mode",
            )
        for name in ("success_url", "cancel_url"):
            url = params.get(name)
            if name == "success_url" and not url:
                raise StripeApiError(
                    400, f"Missing required param: {name}.", code="parameter_missing", param=name
                )
            if url and not str(url).startswith(("http://", "https://")):
                raise StripeApiError(400, "Not a valid URL", code="url_invalid", param=name)
        lines = _lines(params.get("line_items"))
        now = int(time.time())
        expires_at = as_int(params, "expires_at") or now + MAX_EXPIRY_S
        if not now + MIN_EXPIRY_S <= expires_at <= now + MAX_EXPIRY_S:
            raise StripeApiError(
                400,
                "The `expires_at` timestamp must be between 30 minutes and 24 hours from "
                "Checkout Session creation.",
                code="parameter_invalid_integer",
                param="expires_at",
            )
        metadata = _metadata(params.get("metadata"))
        reference = params.get("client_reference_id")
        if reference is not None and not 1 <= len(str(reference)) <= 200:
            raise StripeApiError(
                400,
                "client_reference_id must be between 1 and 200 characters.",
                code="parameter_invalid_string",
                param="client_reference_id",
            )
        total = sum(line["amount_total"] for line in lines)
        session_id = new_id("cs_test_")
        obj = {
            "id": session_id,
            "object": "checkout.session",
            "amount_subtotal": total,
            "amount_total": total,
            "cancel_url": params.get("cancel_url"),
            "client_reference_id": reference,
            "created": now,
            "currency": "vnd",
            "customer": None,
            "customer_details": None,
            "customer_email": params.get("customer_email"),
            "expires_at": expires_at,
            "livemode": False,
            "locale": params.get("locale"),
            "metadata": metadata,
            "mode": "payment",
            "payment_intent": None,
            "payment_method_types": ["card", "customer_balance"],
            "payment_status": "unpaid",
            "status": "open",
            "success_url": params.get("success_url"),
            "ui_mode": "hosted",
            "url": f"{base_url.rstrip('/')}/c/pay/{session_id}",
        }
        self.sessions[session_id] = SimSession(obj, lines)
        return obj

    def expire(self, session: SimSession) -> dict[str, Any]:
        """Expire an open session and announce it (Stripe refuses any other status)."""
        obj = session.obj
        if obj["status"] != "open":
            raise StripeApiError(
                400,
                'Only Checkout Sessions with a status in ["open"] can be expired. This Checkout '
                f'Session has a status of "{obj["status"]}".',
                code="checkout_session_not_open",
            )
        obj["status"] = "expired"
        obj["url"] = None
        self.emit("checkout.session.expired", obj)
        return obj

    def sweep_expired(self) -> int:
        """Expire every open session past its `expires_at`; how many."""
        now = time.time()
        due = [s for s in self.sessions.values() if s.obj["status"] == "open"]
        due = [s for s in due if s.obj["expires_at"] <= now]
        for session in due:
            self.expire(session)
        return len(due)

    def pay(self, session: SimSession, how: PayIn, *, late: bool = False) -> dict[str, Any]:
        """The buyer pays: the session completes (paid by card; unpaid until a transfer settles)."""
        obj = session.obj
        if obj["status"] != "open" and not late:
            raise StripeApiError(
                400,
                f'This Checkout Session is no longer active (status "{obj["status"]}").',
                code="checkout_session_not_open",
            )
        intent = SimPaymentIntent(
            id=new_id("pi_"),
            charge_id=new_id("ch_"),
            amount=int(obj["amount_total"]),
            session_id=obj["id"],
            status="succeeded" if how.method == "card" else "processing",
        )
        self.intents[intent.id] = intent
        obj["status"] = "complete"
        obj["url"] = None
        obj["payment_intent"] = intent.id
        obj["payment_status"] = "paid" if how.method == "card" else "unpaid"
        obj["customer_details"] = {"email": None, "name": "Người mua mô phỏng", "phone": None}
        if how.method == "bank_transfer" and self.config.async_settle_s is not None and not late:
            session.settle_task = asyncio.get_running_loop().create_task(
                self._settle_later(session, how.outcome, self.config.async_settle_s)
            )
        return obj

    async def _settle_later(self, session: SimSession, outcome: str, after_s: float) -> None:
        await asyncio.sleep(after_s)
        session.settle_task = None
        with contextlib.suppress(StripeApiError):
            self.settle(session, outcome == "succeeded")

    def settle(self, session: SimSession, succeeded: bool) -> dict[str, Any]:
        """A bank transfer settles (or fails): `checkout.session.async_payment_*`."""
        obj = session.obj
        intent = self.intents.get(str(obj.get("payment_intent")))
        if obj["status"] != "complete" or intent is None or intent.status != "processing":
            raise StripeApiError(
                400, "No payment waiting to settle on this session.", code="nothing_to_settle"
            )
        if session.settle_task is not None:
            session.settle_task.cancel()
            session.settle_task = None
        if succeeded:
            intent.status = "succeeded"
            obj["payment_status"] = "paid"
            self.emit("checkout.session.async_payment_succeeded", obj)
        else:
            intent.status = "requires_payment_method"
            self.emit("checkout.session.async_payment_failed", obj)
        return obj

    # -- refunds -------------------------------------------------------------------------

    def create_refund(self, params: dict[str, Any]) -> dict[str, Any]:
        """Refund part or the rest of a succeeded payment; never more than is left."""
        _refuse_unknown(params, REFUND_PARAMS)
        intent_id = params.get("payment_intent")
        if not intent_id:
            raise StripeApiError(
                400,
                "One of the following params should be provided for this request: "
                "payment_intent or charge.",
                code="parameter_missing",
                param="payment_intent",
            )
        intent = self.intents.get(str(intent_id))
        if intent is None:
            raise StripeApiError(
                400,
                f"No such payment_intent: '{intent_id}'",
                code="resource_missing",
                param="payment_intent",
            )
        reason = params.get("reason")
        if reason is not None and reason not in REFUND_REASONS:
            raise StripeApiError(
                400,
                f"Invalid reason: must be one of {', '.join(sorted(REFUND_REASONS))}",
                code="parameter_invalid_enum",
                param="reason",
            )
        if intent.status != "succeeded":
            raise StripeApiError(
                400,
                f"This PaymentIntent ({intent.id}) does not have a successful charge to refund.",
                code="charge_not_refundable",
                param="payment_intent",
            )
        left = intent.amount - intent.refunded
        if left <= 0:
            raise StripeApiError(
                400,
                f"Charge {intent.charge_id} has already been refunded.",
                code="charge_already_refunded",
            )
        amount = as_int(params, "amount")
        amount = left if amount is None else amount
        if amount <= 0:
            raise StripeApiError(
                400,
                "Invalid positive integer",
                code="parameter_invalid_integer",
                param="amount",
            )
        if amount > left:
            raise StripeApiError(
                400,
                f"Refund amount (₫{amount:,}) is greater than unrefunded amount on charge "
                f"(₫{left:,})",
                code="amount_too_large",
                param="amount",
            )
        intent.refunded += amount
        refund: dict[str, Any] = {
            "id": new_id("re_"),
            "object": "refund",
            "amount": amount,
            "charge": intent.charge_id,
            "created": int(time.time()),
            "currency": "vnd",
            "metadata": _metadata(params.get("metadata")),
            "payment_intent": intent.id,
            "reason": reason,
            "status": "succeeded",
        }
        self.refunds[refund["id"]] = refund
        self.emit("refund.created", refund)
        self.emit("charge.refunded", self._charge(intent))
        return refund

    @staticmethod
    def _charge(intent: SimPaymentIntent) -> dict[str, Any]:
        return {
            "id": intent.charge_id,
            "object": "charge",
            "amount": intent.amount,
            "amount_captured": intent.amount,
            "amount_refunded": intent.refunded,
            "currency": "vnd",
            "livemode": False,
            "paid": True,
            "payment_intent": intent.id,
            "refunded": intent.refunded >= intent.amount,
            "status": "succeeded",
        }

    def refund(self, refund_id: str) -> dict[str, Any]:
        """A stored refund, or `resource_missing`."""
        found = self.refunds.get(refund_id)
        if found is None:
            raise StripeApiError(
                404, f"No such refund: '{refund_id}'", code="resource_missing", param="id"
            )
        return found

    async def work(self) -> bool:
        """The configured time an API request takes (an async sleep: others go on meanwhile).

        False when the simulator was reset meanwhile: the request belongs to a forgotten world
        (a client that timed out in the last test) and must not write into the new one.
        """
        generation = self.generation
        if self.config.latency_ms > 0:
            await asyncio.sleep(self.config.latency_ms / 1000)
        return generation == self.generation

    def view(self) -> dict[str, Any]:
        """The run-time config as `/_sim/config` shows it (no secrets)."""
        shown = asdict(self.config)
        shown.pop("webhook_secret")
        shown.pop("api_key")
        return shown


def _refuse_unknown(params: dict[str, Any], known: frozenset[str]) -> None:
    """Stripe's answer to a parameter it does not take (the first, by name)."""
    unknown = sorted(set(params) - known)
    if unknown:
        raise StripeApiError(
            400,
            f"Received unknown parameter: {unknown[0]}",
            code="parameter_unknown",
            param=unknown[0],
        )


def _event_bytes(event: dict[str, Any]) -> bytes:
    # Stripe's bodies are pretty-printed JSON; the signature covers exactly these bytes.
    return orjson.dumps(event, option=orjson.OPT_INDENT_2)


def _lines(raw: Any) -> list[dict[str, Any]]:
    if not raw:
        raise StripeApiError(
            400,
            "You must specify `line_items` in `payment` mode.",
            code="parameter_missing",
            param="line_items",
        )
    if not isinstance(raw, list):
        raise StripeApiError(400, "Invalid array", code="parameter_invalid", param="line_items")
    lines = []
    for i, item in enumerate(raw):
        where = f"line_items[{i}]"
        if not isinstance(item, dict):
            raise StripeApiError(400, "Invalid object", code="parameter_invalid", param=where)
        if "price" in item:
            raise StripeApiError(
                400,
                "The simulator knows no Prices: use price_data.",
                code="resource_missing",
                param=f"{where}[price]",
            )
        price = item.get("price_data")
        if not isinstance(price, dict):
            raise StripeApiError(
                400,
                f"Missing required param: {where}[price_data].",
                code="parameter_missing",
                param=f"{where}[price_data]",
            )
        currency = str(price.get("currency", "")).lower()
        if currency != "vnd":
            raise StripeApiError(
                400,
                f"The simulator takes VND only, not {currency!r}.",
                code="parameter_invalid_enum",
                param=f"{where}[price_data][currency]",
            )
        unit = as_int(price, "unit_amount", required=True)
        quantity = as_int(item, "quantity", required=True)
        assert unit is not None
        assert quantity is not None
        if unit < 0 or quantity < 1:
            raise StripeApiError(
                400,
                "Invalid positive integer",
                code="parameter_invalid_integer",
                param=f"{where}[{'quantity' if quantity < 1 else 'price_data][unit_amount'}]",
            )
        product = price.get("product_data")
        name = product.get("name") if isinstance(product, dict) else None
        if not name:
            raise StripeApiError(
                400,
                f"Missing required param: {where}[price_data][product_data][name].",
                code="parameter_missing",
                param=f"{where}[price_data][product_data][name]",
            )
        lines.append(
            {"name": str(name), "unit_amount": unit, "quantity": quantity,
             "amount_total": unit * quantity}
        )  # fmt: skip
    return lines


def _metadata(raw: Any) -> dict[str, str]:
    if raw in (None, ""):
        return {}
    if not isinstance(raw, dict):
        raise StripeApiError(400, "Invalid object", code="parameter_invalid", param="metadata")
    if len(raw) > 50:
        raise StripeApiError(
            400, "Metadata can have at most 50 keys.", code="parameter_invalid", param="metadata"
        )
    for key, value in raw.items():
        if len(key) > 40 or len(str(value)) > 500:
            raise StripeApiError(
                400,
                "Metadata keys are at most 40 characters and values at most 500.",
                code="parameter_invalid",
                param=f"metadata[{key}]",
            )
    return {str(k): str(v) for k, v in raw.items() if v != ""}
