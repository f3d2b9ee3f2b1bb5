"""The Stripe simulator's HTTP side: `/v1` and its gate, the buyer's page, the `/_sim` control.

The gate plays what Stripe does before an endpoint runs: injected faults, the `sk_test_` key,
latency, and idempotency (replay, conflict, key in flight).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import html
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from integrations.simulators._stripe_state import (
    API_VERSION,
    ConfigPatch,
    DeliverIn,
    FaultPlan,
    FaultsIn,
    LatePaymentIn,
    PayIn,
    SimSession,
    StripeState,
)
from integrations.simulators._stripe_wire import (
    StripeApiError,
    decode_form,
    form_pairs,
    json_response,
    new_id,
)


def _with_stripe_headers(send: Send) -> Send:
    """Every API answer carries a `Request-Id` and the API version, as Stripe's do."""
    extra = [(b"request-id", new_id("req_").encode()), (b"stripe-version", API_VERSION.encode())]

    async def sending(message: Any) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), *extra]}
        await send(message)

    return sending


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
        await self._gate(scope, receive, _with_stripe_headers(send))

    async def _gate(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = self.state
        state.requests += 1
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
            if await state.work():
                await self.app(scope, receive, send)
            else:
                await _send(send, _reset_meanwhile())
            return
        body = await _read_body(receive)
        fingerprint = f"{scope['path']}?{sorted(form_pairs(body))!r}"
        refused = _idempotency_refusal(state, key, fingerprint)
        if refused is not None:
            await _send(send, refused)
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

        in_flight = state.in_flight
        in_flight.add(key)
        try:
            if not await state.work():
                await _send(send, _reset_meanwhile())
                return
            await self.app(scope, replay_body, capture)  # type: ignore[arg-type]
        finally:
            in_flight.discard(key)
        # Kept once the endpoint ran; a request refused by validation is not (Stripe's rule).
        if 200 <= captured["status"] < 300:
            state.idempotency[key] = (fingerprint, captured["status"], captured["body"])


def _reset_meanwhile() -> Response:
    return StripeApiError(
        500, "The simulator was reset during the request", type_="api_error"
    ).response()


def _idempotency_refusal(state: StripeState, key: str, fingerprint: str) -> Response | None:
    """The replayed answer, or Stripe's refusal of a reused or busy key; None: go ahead."""
    if key in state.in_flight:
        return StripeApiError(
            409,
            "There is currently another in-progress request using this idempotency key (that "
            "probably means you submitted twice, and the other request is still going through): "
            f"{key}. Please try again later.",
            code="idempotency_key_in_use",
        ).response()
    stored = state.idempotency.get(key)
    if stored is None:
        return None
    if stored[0] != fingerprint:
        return StripeApiError(
            400,
            "Keys for idempotent requests can only be used with the same parameters they "
            f"were first used with. Try using a key other than '{key}' if you meant to "
            "execute a different request.",
            type_="idempotency_error",
        ).response()
    return Response(
        stored[2],
        status_code=stored[1],
        media_type="application/json",
        headers={"Idempotent-Replayed": "true"},
    )


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


def api_router(state: StripeState) -> APIRouter:
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

    @router.api_route("/{rest:path}", methods=["GET", "POST", "DELETE"])
    async def unknown(rest: str, request: Request) -> Response:
        return StripeApiError(
            404,
            f"Unrecognized request URL ({request.method}: /v1/{rest}). The Phiên simulator "
            "serves only the Checkout Session and Refund endpoints.",
        ).response()

    return router


def control_router(state: StripeState) -> APIRouter:
    """`/_sim/…`: outside Stripe's protocol, for tests, benches and the demo."""
    router = APIRouter(prefix="/_sim", tags=["simulator control"])

    def found(session_id: str) -> SimSession:
        try:
            return state.session(session_id)
        except StripeApiError as exc:
            raise ControlError(404, exc.message) from None

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
        if "public_url" in req.model_fields_set:
            config.public_url = req.public_url or None
        if req.expiry_sweep_s is not None:
            config.expiry_sweep_s = req.expiry_sweep_s
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
            raise ControlError(404, f"unknown events {missing}")
        if not state.config.webhook_url:
            raise ControlError(409, "no webhook_url configured: PATCH /_sim/config first")
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


class ControlError(Exception):
    """A control request that cannot be done (answered `{"detail": …}` with its status)."""

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
    # Shown in Vietnam's time (UTC+7, no daylight saving), whatever the machine's zone.
    until = time.strftime("%H:%M %d/%m/%Y (UTC+7)", time.gmtime(obj["expires_at"] + 7 * 3600))
    body = f'<table>{rows}</table>{forms}<p class="note">Hết hạn lúc · expires at {until}</p>'
    return _page("Thanh toán đơn hàng", body)


def _success_url(obj: dict[str, Any]) -> str:
    return str(obj.get("success_url") or "").replace("{CHECKOUT_SESSION_ID}", obj["id"])


def page_router(state: StripeState) -> APIRouter:
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
