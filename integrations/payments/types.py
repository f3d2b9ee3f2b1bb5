"""Provider-neutral shapes of the payment calls the product makes (the Stripe client fills them)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class CheckoutLine:
    """One line the buyer pays for; VND is zero-decimal, so `unit_amount_vnd` is whole dong."""

    name: str
    unit_amount_vnd: int
    quantity: int


@dataclass(frozen=True)
class CheckoutSession:
    """A Checkout Session as the provider reports it."""

    id: str
    url: str | None
    status: str  # "open" | "complete" | "expired"
    payment_status: str  # "paid" | "unpaid" | "no_payment_required"
    amount_total_vnd: int | None
    payment_intent: str | None
    client_reference_id: str | None
    expires_at: int  # unix seconds
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Refund:
    """A refund as the provider reports it."""

    id: str
    status: str  # "pending" | "succeeded" | "failed" | "canceled" | "requires_action"
    amount_vnd: int
    payment_intent: str | None


@dataclass(frozen=True)
class PaymentEvent:
    """A verified webhook event: id (for the inbox's dedup), type, and the object it carries."""

    id: str
    type: str
    created: int
    livemode: bool
    object: dict[str, Any]


class PaymentError(Exception):
    """The provider refused a request for good (4xx other than 429): do not retry as-is."""

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


class PaymentUnavailable(Exception):
    """Network error, timeout, 429 or 5xx: safe to retry with the same idempotency key."""


class SignatureInvalid(ValueError):
    """A webhook whose signature does not verify, or whose timestamp is outside the tolerance."""


class Payments(Protocol):
    """What the product asks of a payment provider."""

    async def create_checkout_session(
        self,
        *,
        lines: list[CheckoutLine],
        client_reference_id: str,
        success_url: str,
        cancel_url: str,
        expires_at: int,
        metadata: dict[str, str],
        idempotency_key: str,
    ) -> CheckoutSession: ...

    async def retrieve_checkout_session(self, session_id: str) -> CheckoutSession: ...

    async def expire_checkout_session(
        self, session_id: str, *, idempotency_key: str
    ) -> CheckoutSession: ...

    async def create_refund(
        self, *, payment_intent: str, amount_vnd: int | None, reason: str, idempotency_key: str
    ) -> Refund: ...

    async def aclose(self) -> None: ...
