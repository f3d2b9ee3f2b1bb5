"""Direct checkout jobs: Stripe events from the inbox, refunds, and expiring abandoned sessions.

Stripe is only ever called here with no transaction open, each call with an idempotency key
(`refund-{order}`, `expire-{order}`), so a job that runs twice asks Stripe once in effect.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from arq import Retry
from sqlalchemy import select
from sqlmodel import col

from api.checkout.events import SessionEvent, UnknownSession, apply_session_event
from api.checkout.expiry import due_checkouts, release_expired
from api.checkout.lifecycle import lock_by_session, mark_paid
from api.checkout.models import Checkout
from api.checkout.refunds import (
    REFUND_EVENTS,
    apply_refund_event,
    record_refund,
    record_refund_refused,
    refund_to_send,
)
from api.core.db import PhienSession
from api.webhooks.models import InboundEvent
from integrations.payments.types import (
    CheckoutSession,
    PaymentError,
    Payments,
    PaymentUnavailable,
)
from workers.jobs.attempts import park, record_done, record_failure, retry_delay, take_open

log = logging.getLogger(__name__)


def payments_of(ctx: dict[str, Any]) -> Payments:
    """The worker's payments client, made at startup (see workers/context.py)."""
    payments: Payments | None = ctx.get("payments")
    if payments is None:
        # Not configured (no STRIPE_API_KEY): waited out like an outage, with backoff.
        raise PaymentUnavailable("no payments client: STRIPE_API_KEY is not configured")
    return payments


def _parsed(raw: bytes) -> tuple[str, dict[str, Any]] | None:
    """(type, data.object) of a stored event (verified at the door, parsed again here)."""
    try:
        event = json.loads(raw)
        obj = event["data"]["object"]
        kind = event["type"]
    except (ValueError, KeyError, TypeError):
        return None
    if not isinstance(obj, dict) or not isinstance(kind, str):
        return None
    return kind, obj


async def _apply(session: PhienSession, raw: bytes) -> str:
    parsed = _parsed(raw)
    if parsed is None:
        return "unparseable"
    kind, obj = parsed
    if kind in REFUND_EVENTS:
        return await apply_refund_event(session, obj)
    return await apply_session_event(session, SessionEvent.of(kind, obj))


async def _failed(ctx: dict[str, Any], event_id: int, error: str) -> float | None:
    async with ctx["db"].session() as session:
        event = await session.get(InboundEvent, event_id, with_for_update=True)
        if event is None:
            return None
        record_failure(event, error)
        await session.commit()
        return None if event.parked_at is not None else retry_delay(event.attempts)


async def process_stripe_event(ctx: dict[str, Any], event_id: int) -> str:
    """Apply one stored Stripe event to its direct order; return the outcome."""
    async with ctx["db"].session() as session:
        event = await take_open(session, event_id)
        if event is None:
            return "skipped"
        try:
            outcome = await _apply(session, event.raw_body)
            record_done(event, outcome)
        except UnknownSession as exc:
            park(event, str(exc))
            outcome = "unknown_session"
        except Exception as exc:
            await session.rollback()
            log.exception("stripe event not applied", extra={"event_id": event_id})
            delay = await _failed(ctx, event_id, f"{type(exc).__name__}: {exc}")
            if delay is None:
                return "failed"
            raise Retry(defer=delay) from exc
        await session.commit()
    log.info("stripe event handled", extra={"event_id": event_id, "outcome": outcome})
    return outcome


def _backoff(ctx: dict[str, Any]) -> float:
    return retry_delay(int(ctx.get("job_try", 1)))


async def refund_checkout(ctx: dict[str, Any], order_id: int) -> str:
    """Refund a paid direct order at Stripe (once: state guard + idempotency key)."""
    async with ctx["db"].session() as session:
        call = await refund_to_send(session, order_id)
        await session.commit()
    if call is None:
        return "nothing_to_do"
    try:
        refund = await payments_of(ctx).create_refund(
            payment_intent=call.payment_intent,
            amount_vnd=None,
            reason="requested_by_customer",
            idempotency_key=call.idempotency_key,
        )
    except PaymentUnavailable as exc:
        raise Retry(defer=_backoff(ctx)) from exc
    except PaymentError as exc:
        log.warning("stripe refused a refund", extra={"order_id": order_id, "code": exc.code})
        async with ctx["db"].session() as session:
            await record_refund_refused(session, order_id, str(exc))
            await session.commit()
        return "refused"
    async with ctx["db"].session() as session:
        outcome = await record_refund(session, order_id, refund)
        await session.commit()
    log.info("direct order refunded", extra={"order_id": order_id, "outcome": outcome})
    return outcome


async def _session_id(ctx: dict[str, Any], order_id: int) -> str | None:
    async with ctx["db"].session() as session:
        found = await session.execute(
            select(col(Checkout.stripe_session_id)).where(col(Checkout.order_id) == order_id)
        )
        session_id: str | None = found.scalar_one_or_none()
        return session_id


async def _expire_at_stripe(
    ctx: dict[str, Any], order_id: int, session_id: str
) -> CheckoutSession | None:
    """Expire the session at Stripe; Stripe's view of it after (None if it did not answer)."""
    try:
        payments = payments_of(ctx)
        return await payments.expire_checkout_session(
            session_id, idempotency_key=f"expire-{order_id}"
        )
    except PaymentError:
        # Not open any more (expired already, or completed): ask what it is.
        try:
            return await payments.retrieve_checkout_session(session_id)
        except (PaymentError, PaymentUnavailable):
            return None
    except PaymentUnavailable:
        return None


async def expire_checkout(ctx: dict[str, Any], order_id: int) -> str:
    """Expire a released order's session at Stripe, so it can no longer be paid."""
    session_id = await _session_id(ctx, order_id)
    if session_id is None:
        return "no_session"
    seen = await _expire_at_stripe(ctx, order_id, session_id)
    return "unknown" if seen is None else seen.status


async def _settle_due(ctx: dict[str, Any], order_id: int, session_id: str | None) -> str:
    seen = None if session_id is None else await _expire_at_stripe(ctx, order_id, session_id)
    async with ctx["db"].session() as session:
        if seen is not None and session_id is not None and seen.payment_status == "paid":
            # Paid at the last moment (its webhook still on the way): it is a sale.
            found = await lock_by_session(session, session_id)
            outcome = "paid"
            if found is not None:
                checkout, order = found
                outcome = await mark_paid(
                    session, checkout, order, seen.payment_intent, source="checkout_sweeper"
                )
        else:
            released = await release_expired(session, order_id, "reservation expired")
            outcome = "released" if released else "not_held"
        await session.commit()
    return outcome


async def sweep_checkouts(ctx: dict[str, Any]) -> int:
    """Release reservations past their expiry whose session was never paid."""
    async with ctx["db"].session() as session:
        due = await due_checkouts(session)
    for item in due:
        try:
            outcome = await _settle_due(ctx, item.order_id, item.stripe_session_id)
        except Exception:
            log.exception("expired checkout not settled", extra={"order_id": item.order_id})
            continue
        log.info("expired checkout", extra={"order_id": item.order_id, "outcome": outcome})
    return len(due)
