"""Where webhooks come from: the one list of inbox sources.

A source is the platform or carrier that signed (or, for GHN, addressed) the webhook; the inbox
keeps it in `inbound_events.source`, and the drain jobs and sweepers pick their rows by it.
"""

from __future__ import annotations

from api.channels.models import Platform
from api.shipments.models import CARRIERS

# Order webhooks from the shops' platforms: drained in batches, one platform call per shop.
PLATFORM_SOURCES: tuple[str, ...] = (Platform.TIKTOK_SHOP.value, Platform.SHOPEE.value)
# Parcel status pushes from the carriers: one job per event (few events, each independent).
CARRIER_SOURCES: tuple[str, ...] = CARRIERS
# Payment events (Stripe): one job per event, keyed by Stripe's event id.
PAYMENT_SOURCES: tuple[str, ...] = ("stripe",)
SOURCES: tuple[str, ...] = PLATFORM_SOURCES + CARRIER_SOURCES + PAYMENT_SOURCES
