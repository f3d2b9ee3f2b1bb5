"""Import every table model so the metadata (and Alembic) sees the whole schema."""

from api.accounts.models import ApiToken, User
from api.catalogue.models import Product, StockMovement, Variant
from api.channels.models import ChannelConnection, SkuMapping, UsedOAuthState
from api.checkout.models import Checkout
from api.cooperatives.models import Cooperative
from api.core.db import metadata
from api.live_sessions.models import LiveOffer, LiveSession
from api.orders.models import Order, OrderEvent, OrderLine
from api.reports.models import (
    TonnageContribution,
    TonnageDelta,
    TonnageFact,
    TonnageMonthFact,
    TonnageWeekFact,
)
from api.shipments.models import Shipment, ShipmentEvent
from api.web.models import WebSession
from api.webhooks.models import InboundEvent

__all__ = [
    "ApiToken",
    "ChannelConnection",
    "Checkout",
    "Cooperative",
    "InboundEvent",
    "LiveOffer",
    "LiveSession",
    "Order",
    "OrderEvent",
    "OrderLine",
    "Product",
    "Shipment",
    "ShipmentEvent",
    "SkuMapping",
    "StockMovement",
    "TonnageContribution",
    "TonnageDelta",
    "TonnageFact",
    "TonnageMonthFact",
    "TonnageWeekFact",
    "UsedOAuthState",
    "User",
    "Variant",
    "WebSession",
    "metadata",
]
