"""Stripe simulator: the Checkout Session and Refund endpoints Phiên uses, a buyer page, webhooks.

Speaks Stripe's API as the official library sends it (form bodies in bracket notation, Bearer
`sk_test_…` key, `Idempotency-Key`), answers with Stripe's objects and error envelope, and pushes
events signed as Stripe signs them (`Stripe-Signature: t=…,v1=…`, each attempt signed afresh).

- `POST /v1/checkout/sessions`, `GET /v1/checkout/sessions/{id}`,
  `POST /v1/checkout/sessions/{id}/expire`, `POST /v1/refunds`, `GET /v1/refunds/{id}`.
- `GET /c/pay/{id}`: the page at the session's `url`, where a person (or a test over httpx)
  plays the buyer: pay by card, pay by bank transfer (settles later), or go back (cancel_url).
- `/_sim/…`: control for tests and demos (see `_control_router`): pay, expire, settle, the
  expired-then-paid race, re-deliver, deliver in any order, faults, latency, delivered events.

What is Stripe's and what is ours: statuses, event names, the 30 min–24 h `expires_at` window,
VND being zero-decimal and the idempotency rules are Stripe's. Error `code`s for refusals Stripe
does not document precisely (expiring a session that is not open, refunding a payment that has
not settled) and the test-mode retry schedule are the simulator's own choices.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import copy
import functools
import html
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

import httpx
import uvicorn
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field
from starlette.types import ASGIApp, Receive, Scope, Send

from integrations.simulators._stripe_wire import (
    SignedHeaders,
    StripeApiError,
    as_int,
    decode_form,
    form_pairs,
    json_response,
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
        self.config = replace(self.initial_config)
        self.pusher.policy = self._policy(self.config)
        self.sessions: dict[str, SimSession] = {}
        self.intents: dict[str, SimPaymentIntent] = {}
        self.refunds: dict[str, dict[str, Any]] = {}
        self.events: dict[str, dict[str, Any]] = {}
        self.deliveries: list[Delivery] = []
        self.idempotency: dict[str, tuple[str, int, bytes]] = {}
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
        unknown = sorted(set(params) - SESSION_PARAMS)
        if unknown:
            raise StripeApiError(
                400,
                f"Received unknown parameter: {unknown[0]}",
                code="parameter_unknown",
                param=unknown[0],
            )
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
        unknown = sorted(set(params) - REFUND_PARAMS)
        if unknown:
            raise StripeApiError(
                400,
                f"Received unknown parameter: {unknown[0]}",
                code="parameter_unknown",
                param=unknown[0],
            )
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

    def view(self) -> dict[str, Any]:
        """The run-time config as `/_sim/config` shows it (no secrets)."""
        shown = asdict(self.config)
        shown.pop("webhook_secret")
        shown.pop("api_key")
        return shown


def _event_bytes(event: dict[str, Any]) -> bytes:
    # Stripe's bodies are pretty-printed JSON; the signature covers exactly these bytes.
    import orjson

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


def _masked(key: str) -> str:
    return f"{key[:8]}****{key[-4:]}" if len(key) > 12 else "****"


class ApiGate:
    """ASGI middleware for `/v1`: latency, injected faults, auth, idempotency replay."""

    def __init__(self, app: ASGIApp, state: StripeState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        state = self.state
        state.requests += 1
        if state.config.latency_ms > 0:
            await asyncio.sleep(state.config.latency_ms / 1000)
        faults = state.faults
        if faults.count > 0:
            faults.count -= 1
            if faults.mode == "drop" and _drop_connection(receive):
                # Let the server see the connection gone, so it does not answer 500 instead.
                for _ in range(3):
                    await asyncio.sleep(0)
                return
            await _send(send, StripeApiError(
                faults.status_code, "An unknown error occurred", type_="api_error"
            ).response())  # fmt: skip
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        denied = _auth_error(headers.get("authorization"), state.config.api_key)
        if denied is not None:
            await _send(send, denied.response())
            return
        key = headers.get("idempotency-key")
        if scope["method"] != "POST" or not key:
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        fingerprint = f"{scope['path']}?{sorted(form_pairs(body))!r}"
        stored = state.idempotency.get(key)
        if stored is not None:
            if stored[0] != fingerprint:
                error = StripeApiError(
                    400,
                    "Keys for idempotent requests can only be used with the same parameters they "
                    f"were first used with. Try using a key other than '{key}' if you meant to "
                    "execute a different request.",
                    type_="idempotency_error",
                )
                await _send(send, error.response())
                return
            replay = Response(
                stored[2],
                status_code=stored[1],
                media_type="application/json",
                headers={"Idempotent-Replayed": "true"},
            )
            await _send(send, replay)
            return
        captured: dict[str, Any] = {"status": 0, "body": b""}

        async def replay_body() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                captured["status"] = message["status"]
            elif message["type"] == "http.response.body":
                captured["body"] += message.get("body", b"")
            await send(message)

        await self.app(scope, replay_body, capture)  # type: ignore[arg-type]
        # Stripe keeps the result once the endpoint ran; a refusal before that is not kept.
        if 200 <= captured["status"] < 300:
            state.idempotency[key] = (fingerprint, captured["status"], captured["body"])


def _auth_error(authorization: str | None, api_key: str) -> StripeApiError | None:
    if not authorization:
        return StripeApiError(
            401,
            "You did not provide an API key. You need to provide your API key in the "
            "Authorization header, using Bearer auth "
            "(e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
        )
    scheme, _, given = authorization.partition(" ")
    if scheme.lower() == "basic":  # `curl -u sk_test_…:` as Stripe's docs show
        with contextlib.suppress(ValueError):
            given = base64.b64decode(given).decode().partition(":")[0]
    elif scheme.lower() != "bearer":
        given = ""
    if not given.startswith("sk_test_") or given != api_key:
        return StripeApiError(
            401, f"Invalid API Key provided: {_masked(given)}", code="api_key_invalid"
        )
    return None


def _drop_connection(receive: Receive) -> bool:
    """Close the client's connection without an answer (uvicorn's cycle holds the transport)."""
    cycle = getattr(receive, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        return False
    transport.close()
    return True


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _send(send: Send, response: Response) -> None:
    await response({"type": "http"}, _no_receive, send)


async def _no_receive() -> dict[str, Any]:
    return {"type": "http.disconnect"}


Handler = Callable[[], Awaitable[Any]]


async def _api(call: Callable[[], Any]) -> Response:
    try:
        return json_response(call())
    except StripeApiError as exc:
        return exc.response()


async def _params(request: Request) -> dict[str, Any]:
    try:
        return decode_form(form_pairs(await request.body()))
    except StripeApiError:
        raise
    except Exception:
        raise StripeApiError(400, "Invalid request body") from None


def _api_router(state: StripeState) -> APIRouter:
    router = APIRouter(prefix="/v1", include_in_schema=False)

    @router.post("/checkout/sessions")
    async def create_session(request: Request) -> Response:
        try:
            params = await _params(request)
        except StripeApiError as exc:
            return exc.response()
        base = state.config.public_url or str(request.base_url)
        return await _api(lambda: state.create_session(params, base))

    @router.get("/checkout/sessions/{session_id}")
    async def retrieve_session(session_id: str) -> Response:
        return await _api(lambda: state.session(session_id).obj)

    @router.post("/checkout/sessions/{session_id}/expire")
    async def expire_session(session_id: str) -> Response:
        return await _api(lambda: state.expire(state.session(session_id)))

    @router.post("/refunds")
    async def create_refund(request: Request) -> Response:
        try:
            params = await _params(request)
        except StripeApiError as exc:
            return exc.response()
        return await _api(lambda: state.create_refund(params))

    @router.get("/refunds/{refund_id}")
    async def retrieve_refund(refund_id: str) -> Response:
        return await _api(lambda: state.refund(refund_id))

    return router


def _control_router(state: StripeState) -> APIRouter:
    """`/_sim/…`: outside Stripe's protocol, for tests, benches and the demo."""
    router = APIRouter(prefix="/_sim", tags=["simulator control"])

    def found(session_id: str) -> SimSession:
        try:
            return state.session(session_id)
        except StripeApiError as exc:
            raise _Http(404, exc.message) from None

    @router.get("/config")
    async def get_config() -> dict[str, Any]:
        return state.view()

    @router.patch("/config")
    async def patch_config(req: ConfigPatch) -> dict[str, Any]:
        config = state.config
        if "webhook_url" in req.model_fields_set:
            config.webhook_url = req.webhook_url or None
        if req.auto_deliver is not None:
            config.auto_deliver = req.auto_deliver
        if req.latency_ms is not None:
            config.latency_ms = req.latency_ms
        if req.push_retry is not None:
            config.push_retry = state.pusher.policy.retry = req.push_retry
        if req.push_backoff_s is not None:
            config.push_backoff_s = state.pusher.policy.backoff_s = tuple(req.push_backoff_s)
        if req.push_time_scale is not None:
            config.push_time_scale = state.pusher.policy.time_scale = req.push_time_scale
        if req.async_settle_s is not None:
            config.async_settle_s = req.async_settle_s
        if req.manual_settle:
            config.async_settle_s = None
        return state.view()

    @router.post("/reset")
    async def reset() -> dict[str, Any]:
        await state.restart()
        return state.view()

    @router.post("/faults")
    async def faults(req: FaultsIn) -> dict[str, Any]:
        state.faults = FaultPlan(req.count, req.mode, req.status_code)
        return {"count": req.count, "mode": req.mode, "status_code": req.status_code}

    @router.get("/checkout/sessions")
    async def sessions() -> list[dict[str, Any]]:
        return [s.obj for s in state.sessions.values()]

    @router.post("/checkout/sessions/{session_id}/pay")
    async def pay(session_id: str, req: PayIn) -> Response:
        return await _api(lambda: _paid(state, found(session_id), req))

    @router.post("/checkout/sessions/{session_id}/settle")
    async def settle(session_id: str, succeeded: bool = True) -> Response:
        return await _api(lambda: state.settle(found(session_id), succeeded))

    @router.post("/checkout/sessions/{session_id}/expire")
    async def expire(session_id: str) -> Response:
        return await _api(lambda: state.expire(found(session_id)))

    @router.post("/checkout/sessions/{session_id}/late_payment")
    async def late_payment(session_id: str, req: LatePaymentIn) -> Response:
        return await _api(lambda: _late_payment(state, found(session_id), req))

    @router.post("/sweep")
    async def sweep() -> dict[str, int]:
        return {"expired": state.sweep_expired()}

    @router.get("/events")
    async def events(type: str | None = None) -> list[dict[str, Any]]:
        chosen = [e for e in state.events.values() if type is None or e["type"] == type]
        return [
            {
                **e,
                "deliveries": [
                    {"status_code": d.status_code, "error": d.error, "at": d.at}
                    for d in state.deliveries
                    if d.event_id == e["id"]
                ],
            }
            for e in chosen
        ]

    @router.get("/deliveries")
    async def deliveries() -> list[dict[str, Any]]:
        return [asdict(d) for d in state.deliveries]

    @router.post("/events/deliver")
    async def deliver(req: DeliverIn) -> dict[str, Any]:
        missing = [i for i in req.event_ids if i not in state.events]
        if missing:
            raise _Http(404, f"unknown events {missing}")
        if not state.config.webhook_url:
            raise _Http(409, "no webhook_url configured: PATCH /_sim/config first")
        pushes = state.deliver(
            req.event_ids, copies=req.copies, sign_offset_s=req.sign_offset_s, forged=req.forged
        )
        return {"delivered": [p.label for p in pushes], "copies": req.copies}

    @router.post("/drain")
    async def drain(timeout_s: float = 10.0) -> dict[str, Any]:
        idle = await state.pusher.wait_idle(min(max(timeout_s, 0.0), 120.0))
        return {"idle": idle, **state.pusher.stats.as_dict()}

    @router.get("/stats")
    async def stats() -> dict[str, Any]:
        return {
            "requests": state.requests,
            "sessions": len(state.sessions),
            "refunds": len(state.refunds),
            "events": len(state.events),
            "webhooks": state.pusher.stats.as_dict(),
        }

    return router


class _Http(Exception):
    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def _paid(state: StripeState, session: SimSession, how: PayIn) -> dict[str, Any]:
    obj = state.pay(session, how)
    state.emit("checkout.session.completed", obj)
    return obj


def _late_payment(state: StripeState, session: SimSession, req: LatePaymentIn) -> dict[str, Any]:
    """Expire the session (if open), then complete it paid anyway; events in the order asked."""
    if session.obj["status"] == "complete":
        raise StripeApiError(400, "the session is complete: nothing to pay late")
    fresh = session.obj["status"] == "open"
    if fresh:
        session.obj["status"] = "expired"
        session.obj["url"] = None
        expired_id = state.new_event("checkout.session.expired", session.obj)["id"]
    else:
        expired_id = _expired_event_id(state, session.obj["id"])
    obj = state.pay(session, PayIn(method="card"), late=True)
    completed = state.new_event("checkout.session.completed", obj)
    ids = [expired_id, completed["id"]]
    if req.order == "completed_first":
        ids.reverse()
    if state.config.auto_deliver:
        # An expired event sent when the session expired is not sent again here.
        state.deliver(ids if fresh else [completed["id"]])
    return obj


def _expired_event_id(state: StripeState, session_id: str) -> str:
    for event in state.events.values():
        expired = event["type"] == "checkout.session.expired"
        if expired and event["data"]["object"]["id"] == session_id:
            return str(event["id"])
    raise StripeApiError(400, "the session never expired")


# -- the buyer's page -------------------------------------------------------------------------

_PAGE = """<!doctype html>
<html lang="vi"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Thanh toán (Stripe mô phỏng)</title>
<style>
body{{font:16px/1.4 system-ui,sans-serif;margin:0;background:#f6f9fc;color:#1a1f36}}
main{{max-width:420px;margin:0 auto;padding:16px}}
h1{{font-size:20px;margin:8px 0 16px}}
table{{width:100%;border-collapse:collapse;margin-bottom:12px}}
td{{padding:6px 0;border-bottom:1px solid #e3e8ee;vertical-align:top}}
td.n{{text-align:right;white-space:nowrap;padding-left:8px}}
.total{{font-weight:700;font-size:18px}}
button{{display:block;width:100%;padding:14px;margin:10px 0;font-size:16px;border-radius:6px;
border:1px solid #635bff;background:#635bff;color:#fff}}
button.alt{{background:#fff;color:#635bff}}
.note{{color:#697386;font-size:13px}}
</style></head>
<body><main>
<p class="note">Trang thanh toán mô phỏng, không phải Stripe thật · Simulated Stripe Checkout</p>
<h1>{title}</h1>
{body}
</main></body></html>
"""


def _vnd(amount: int) -> str:
    return f"{amount:,}".replace(",", ".") + " ₫"


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(_PAGE.format(title=html.escape(title), body=body), status_code=status)


def _checkout_page(session: SimSession) -> HTMLResponse:
    obj = session.obj
    sid = html.escape(obj["id"])
    if obj["status"] == "expired":
        return _page(
            "Phiên thanh toán đã hết hạn", "<p>This Checkout Session is no longer active.</p>"
        )
    if obj["status"] == "complete":
        link = html.escape(_success_url(obj))
        return _page(
            "Đã thanh toán", f'<p>Đơn đã được thanh toán.</p><p><a href="{link}">Tiếp tục</a></p>'
        )
    rows = "".join(
        f"<tr><td>{html.escape(line['name'])} × {line['quantity']}</td>"
        f'<td class="n">{_vnd(line["amount_total"])}</td></tr>'
        for line in session.lines
    )
    total = _vnd(obj["amount_total"])
    rows += f'<tr class="total"><td>Tổng cộng</td><td class="n">{total}</td></tr>'
    buttons = [
        ("card", "", "pay-card", "", "Thanh toán bằng thẻ · Pay"),
        ("bank_transfer", "succeeded", "pay-transfer", "alt",
         "Chuyển khoản (xác nhận sau) · Pay (bank transfer, async)"),
        ("bank_transfer", "failed", "pay-transfer-fails", "alt",
         "Chuyển khoản thất bại · Bank transfer that fails"),
    ]  # fmt: skip
    forms = "".join(
        f'<form method="post" action="/c/pay/{sid}/pay">'
        f'<input type="hidden" name="method" value="{method}">'
        + (f'<input type="hidden" name="outcome" value="{outcome}">' if outcome else "")
        + f'<button type="submit" id="{ident}" class="{css}">{label}</button></form>'
        for method, outcome, ident, css, label in buttons
    )
    forms += (
        f'<form method="post" action="/c/pay/{sid}/abandon">'
        '<button type="submit" class="alt" id="abandon">Quay lại · Abandon</button></form>'
    )
    until = time.strftime("%H:%M %d/%m/%Y", time.localtime(obj["expires_at"]))
    body = f'<table>{rows}</table>{forms}<p class="note">Hết hạn lúc · expires at {until}</p>'
    return _page("Thanh toán đơn hàng", body)


def _success_url(obj: dict[str, Any]) -> str:
    return str(obj.get("success_url") or "").replace("{CHECKOUT_SESSION_ID}", obj["id"])


def _page_router(state: StripeState) -> APIRouter:
    router = APIRouter(prefix="/c/pay", include_in_schema=False)

    @router.get("/{session_id}")
    async def page(session_id: str) -> Response:
        session = state.sessions.get(session_id)
        if session is None:
            return _page("Không tìm thấy", "<p>Something went wrong.</p>", 404)
        return _checkout_page(session)

    @router.post("/{session_id}/pay")
    async def pay(session_id: str, request: Request) -> Response:
        session = state.sessions.get(session_id)
        if session is None:
            return _page("Không tìm thấy", "<p>Something went wrong.</p>", 404)
        form = dict(form_pairs(await request.body()))
        try:
            how = PayIn.model_validate(form)
            obj = _paid(state, session, how)
        except StripeApiError:
            return _checkout_page(session)
        except ValueError:
            return _page("Yêu cầu không hợp lệ", "<p>Bad request.</p>", 400)
        return RedirectResponse(_success_url(obj), status_code=303)

    @router.post("/{session_id}/abandon")
    async def abandon(session_id: str) -> Response:
        # As on Stripe, going back leaves the session open until it expires.
        session = state.sessions.get(session_id)
        if session is None:
            return _page("Không tìm thấy", "<p>Something went wrong.</p>", 404)
        cancel = session.obj.get("cancel_url")
        if not cancel:
            return _checkout_page(session)
        return RedirectResponse(str(cancel), status_code=303)

    return router


async def _sweep_forever(state: StripeState) -> None:
    while True:
        await asyncio.sleep(max(state.config.expiry_sweep_s, 0.05))
        state.sweep_expired()


def create_app(config: StripeSimConfig | None = None) -> FastAPI:
    """A FastAPI app that plays Stripe's API, Checkout page and webhooks."""
    state = StripeState(replace(config) if config is not None else StripeSimConfig())

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await state.pusher.start()
        sweeper = asyncio.get_running_loop().create_task(_sweep_forever(state))
        try:
            yield
        finally:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
            state.reset()
            await state.pusher.close()

    app = FastAPI(title="Stripe simulator", lifespan=lifespan)
    app.state.sim = state
    app.include_router(_api_router(state))
    app.include_router(_page_router(state))
    app.include_router(_control_router(state))

    @app.exception_handler(_Http)
    async def _http_error(_: Request, exc: _Http) -> Response:
        return json_response({"detail": exc.detail}, exc.status)

    app.add_middleware(ApiGate, state=state)
    return app


def run_stripe_simulator(host: str, port: int, config: StripeSimConfig | None = None) -> None:
    """Serve the Stripe simulator until interrupted (`phien simulate stripe`)."""
    uvicorn.run(create_app(config), host=host, port=port, log_level="warning", access_log=False)
