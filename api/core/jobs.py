"""Every job's name, in one place.

The web side rings jobs by these names (through `PhienSession.enqueue_after_commit` or the
webhook bell) and never imports job code; `workers/settings.py` binds each name to its function
and refuses to start while a name here has no function, or a function no name.
"""

from __future__ import annotations

from enum import StrEnum


class Job(StrEnum):
    """Jobs a worker runs when rung (each is safe to run twice: arq delivers at least once)."""

    DRAIN_INBOX = "drain_inbox"
    PROCESS_CARRIER_EVENT = "process_carrier_event"
    HAND_OFF_SHIPMENT = "hand_off_shipment"
    HAND_OFF_SHIPMENTS = "hand_off_shipments"
    CANCEL_SHIPMENT = "cancel_shipment"
    FETCH_LABEL = "fetch_label"
    RECONCILE_CONNECTION = "reconcile_connection"
    REFRESH_CHANNEL_TOKEN = "refresh_channel_token"  # noqa: S105 (a job name, not a secret)
    # Direct checkout: refund a paid order at Stripe; expire an abandoned session at Stripe.
    PROCESS_STRIPE_EVENT = "process_stripe_event"
    REFUND_CHECKOUT = "refund_checkout"
    EXPIRE_CHECKOUT = "expire_checkout"
    # Crons: they run on a schedule, and may also be rung (a test, an operator, a bench).
    SWEEP_INBOX = "sweep_inbox"
    SWEEP_SHIPMENTS = "sweep_shipments"
    RECONCILE_ALL = "reconcile_all"
    REFRESH_EXPIRING_TOKENS = "refresh_expiring_tokens"
    PURGE_WEBHOOK_BODIES = "purge_webhook_bodies"
    REFRESH_LABELS = "refresh_labels"
    COMPACT_TONNAGE = "compact_tonnage"
    DROP_EMPTY_FACTS = "drop_empty_facts"
    SWEEP_CHECKOUTS = "sweep_checkouts"
