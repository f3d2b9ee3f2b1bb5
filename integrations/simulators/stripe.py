"""Stripe simulator: the Checkout Session and Refund endpoints Phiên uses, a buyer page, webhooks.

Speaks Stripe's API as the official library sends it (form bodies in bracket notation, Bearer
`sk_test_…` key, `Idempotency-Key`), answers with Stripe's objects and error envelope, and pushes
events signed as Stripe signs them (`Stripe-Signature: t=…,v1=…`, each attempt signed afresh).

- `POST /v1/checkout/sessions`, `GET /v1/checkout/sessions/{id}`,
  `POST /v1/checkout/sessions/{id}/expire`, `POST /v1/refunds`, `GET /v1/refunds/{id}`.
- `GET /c/pay/{id}`: the page at the session's `url`, where a person (or a test over httpx)
  plays the buyer: pay by card, pay by bank transfer (settles later), or go back (cancel_url).
- `/_sim/…`: control for tests and demos (see `control_router`): pay, expire, settle, the
  expired-then-paid race, re-deliver, deliver in any order, faults, latency, delivered events.

What is Stripe's and what is ours: statuses, event names, the 30 min–24 h `expires_at` window,
VND being zero-decimal and the idempotency rules are Stripe's. Error `code`s for refusals Stripe
does not document precisely (expiring a session that is not open, refunding a payment that has
not settled) and the test-mode retry schedule are the simulator's own choices.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import replace

import uvicorn
from fastapi import FastAPI, Request, Response

from integrations.simulators._stripe_routes import (
    ApiGate,
    ControlError,
    api_router,
    control_router,
    page_router,
)
from integrations.simulators._stripe_state import StripeSimConfig, StripeState
from integrations.simulators._stripe_wire import json_response

__all__ = ["StripeSimConfig", "StripeState", "create_app", "run_stripe_simulator"]


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
    app.include_router(api_router(state))
    app.include_router(page_router(state))
    app.include_router(control_router(state))

    @app.exception_handler(ControlError)
    async def _http_error(_: Request, exc: ControlError) -> Response:
        return json_response({"detail": exc.detail}, exc.status)

    app.add_middleware(ApiGate, state=state)
    return app


def run_stripe_simulator(host: str, port: int, config: StripeSimConfig | None = None) -> None:
    """Serve the Stripe simulator until interrupted (`phien simulate stripe`)."""
    uvicorn.run(create_app(config), host=host, port=port, log_level="warning", access_log=False)
