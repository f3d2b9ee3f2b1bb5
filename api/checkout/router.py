"""/api/v1/checkout: the public direct checkout (no sign-in), rate-limited per client address."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from limits import RateLimitItem, parse

from api.checkout.errors import PaymentsUnavailable
from api.checkout.schemas import CheckoutIn, CheckoutOut
from api.checkout.service import start_checkout
from api.core.config import Settings
from api.core.db import Database
from api.core.ratelimit import RateLimits
from integrations.payments.types import Payments

router = APIRouter(prefix="/checkout", tags=["checkout"])


def _checkout_rate(settings: Settings, request: Request) -> RateLimitItem:
    item: RateLimitItem | None = getattr(request.app.state, "checkout_rate", None)
    if item is None:
        item = request.app.state.checkout_rate = parse(settings.rate_limit_checkout_per_address)
    return item


async def checkout_rate_limit(request: Request) -> None:
    """429 with Retry-After past the checkout rate of this client address."""
    limits: RateLimits | None = getattr(request.app.state, "rate_limits", None)
    if limits is None:
        return
    address = request.client.host if request.client else "unknown"
    item = _checkout_rate(request.app.state.settings, request)
    wait = await limits.retry_after_for(item, "checkout", address)
    if wait is not None:
        raise HTTPException(
            status_code=status.HTTP_429_TOO_MANY_REQUESTS,
            detail="too many checkouts from this address; retry after the time in Retry-After",
            headers={"Retry-After": str(wait)},
        )


def get_payments(request: Request) -> Payments:
    """The process's payments client (Stripe, or its simulator), made in the lifespan."""
    payments: Payments | None = getattr(request.app.state, "payments", None)
    if payments is None:
        raise PaymentsUnavailable("STRIPE_API_KEY is not configured")
    return payments


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=CheckoutOut,
    dependencies=[Depends(checkout_rate_limit)],
    responses={
        409: {"description": "out of stock, or a live offer's cap or per-buyer limit reached"},
        502: {"description": "the payment provider refused to open a session"},
        503: {"description": "the payment provider is unavailable; retry after Retry-After"},
    },
)
async def create_checkout(
    body: CheckoutIn,
    request: Request,
    payments: Annotated[Payments, Depends(get_payments)],
) -> CheckoutOut:
    """Hold the stock for CHECKOUT_EXPIRY_MINUTES and answer the Stripe Checkout URL (public)."""
    db: Database = request.app.state.db
    settings: Settings = request.app.state.settings
    return await start_checkout(
        db, payments, body, settings=settings, base_url=str(request.base_url)
    )
