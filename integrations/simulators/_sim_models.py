"""Shared state and `/_sim` request bodies of the platform simulators (not part of any protocol)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Annotated, Literal

from pydantic import BaseModel, Field


class SimBuyerIn(BaseModel):
    """Buyer as the control API accepts it."""

    name: str = "Nguyễn Thị Hoa"
    phone: str = "0912345678"


class SimAddressIn(BaseModel):
    """Delivery address, two-tier (province → commune/ward); the district is legacy."""

    province: str = "Thành phố Hà Nội"
    commune: str = "Phường Ba Đình"
    street: str = "Số 12 phố Phan Đình Phùng"
    district: str | None = None
    postal_code: str | None = "100000"
    full_address: str | None = None  # built from the parts when omitted


class SimLineIn(BaseModel):
    """One SKU of a simulated order."""

    sku_id: str
    seller_sku: str = ""
    product_name: str = "Gạo ST25 túi 5 kg"
    sku_name: str = ""
    quantity: int = Field(default=1, ge=1, le=1000)
    unit_price: int = Field(ge=0, description="live price in VND")
    original_price: int | None = Field(default=None, ge=0)


Delivery = Literal["in_order", "reversed", "shuffled"]


class CreateOrderIn(BaseModel):
    """`POST /_sim/orders`: create an order and (by default) push its webhooks."""

    shop_id: str | None = None
    order_id: str | None = None
    lines: list[SimLineIn] = Field(min_length=1, max_length=100)
    is_cod: bool = True
    shipping_fee: int = Field(default=0, ge=0)
    buyer: SimBuyerIn = Field(default_factory=SimBuyerIn)
    address: SimAddressIn = Field(default_factory=SimAddressIn)
    status: str | None = None  # initial status, the platform's first status when omitted
    then_statuses: list[str] = Field(default_factory=list, max_length=20)
    push: bool = True
    duplicates: int = Field(default=0, ge=0, le=10)
    delivery: Delivery = "in_order"


class StatusChangeIn(BaseModel):
    """`POST /_sim/orders/{id}/status`: move an order through one or more statuses."""

    statuses: list[str] = Field(min_length=1, max_length=20)
    push: bool = True
    duplicates: int = Field(default=0, ge=0, le=10)
    delivery: Delivery = "in_order"


class RepushIn(BaseModel):
    """`POST /_sim/orders/{id}/push`: push the current status again (a platform retry)."""

    duplicates: int = Field(default=0, ge=0, le=10)


class BulkCreateIn(BaseModel):
    """`POST /_sim/bulk-orders`: many orders fast, each with random SKUs from `skus`."""

    count: int = Field(ge=1, le=100_000)
    skus: list[SimLineIn] = Field(min_length=1, max_length=200)
    shop_id: str | None = None
    max_lines: int = Field(default=2, ge=1, le=10)
    max_quantity: int = Field(default=3, ge=1, le=100)
    cod_ratio: float = Field(default=0.8, ge=0.0, le=1.0)
    status: str | None = None
    then_statuses: list[str] = Field(default_factory=list, max_length=20)
    push: bool = True
    seed: int | None = None


class ConfigPatchIn(BaseModel):
    """`PATCH /_sim/config`: change the push target and fault knobs while running."""

    webhook_url: str | None = None
    latency_ms: int | None = Field(default=None, ge=0, le=60_000)
    failure_rate: float | None = Field(default=None, ge=0.0, le=1.0)
    retry: bool | None = None
    # The platform's retry schedule in seconds (a day at most between tries), and how much
    # faster than real time the simulator runs it.
    backoff_s: list[Annotated[float, Field(ge=0, le=86_400)]] | None = Field(
        default=None, max_length=10
    )
    time_scale: float | None = Field(default=None, ge=0.0, le=1.0)


class FaultsIn(BaseModel):
    """`POST /_sim/faults`: make the next N platform API calls fail with `status_code`."""

    fail_next: int = Field(ge=0, le=10_000)
    status_code: int = Field(default=500, ge=400, le=599)


@dataclass(slots=True)
class SimLine:
    """A stored order line; prices in VND."""

    sku_id: str
    seller_sku: str
    product_name: str
    sku_name: str
    quantity: int
    unit_price: int
    original_price: int


@dataclass(slots=True)
class SimOrder:
    """An order held in simulator memory, platform-neutral; each simulator renders its wire form."""

    order_id: str
    shop_id: str
    status: str
    create_time: int
    update_time: int
    is_cod: bool
    shipping_fee: int
    buyer: SimBuyerIn
    address: SimAddressIn
    lines: list[SimLine]
    history: list[tuple[str, int]] = field(default_factory=list)

    @property
    def subtotal(self) -> int:
        """Sum of line totals at live prices."""
        return sum(line.quantity * line.unit_price for line in self.lines)

    @property
    def original_subtotal(self) -> int:
        """Sum of line totals at listing prices."""
        return sum(line.quantity * line.original_price for line in self.lines)

    @property
    def total(self) -> int:
        """What the buyer pays: items plus shipping."""
        return self.subtotal + self.shipping_fee

    @property
    def full_address(self) -> str:
        """The address as one line, as platforms show it."""
        if self.address.full_address:
            return self.address.full_address
        parts = [self.address.street, self.address.commune, self.address.district]
        return ", ".join(p for p in [*parts, self.address.province] if p)

    def move_to(self, status: str) -> int:
        """Set a new status with a strictly later update_time, and return that time."""
        # Strictly increasing per order: two changes in one second must still be ordered,
        # and Shopee's event key (shop, order, status, update_time) must stay unique.
        self.update_time = max(int(time.time()), self.update_time + 1)
        self.status = status
        self.history.append((status, self.update_time))
        return self.update_time

    def summary(self) -> dict[str, object]:
        """What the control API answers about an order."""
        return {
            "order_id": self.order_id,
            "shop_id": self.shop_id,
            "status": self.status,
            "create_time": self.create_time,
            "update_time": self.update_time,
            "is_cod": self.is_cod,
            "total_amount": self.total,
            "units": sum(line.quantity for line in self.lines),
            "history": [{"status": s, "update_time": t} for s, t in self.history],
        }


def line_from(line: SimLineIn) -> SimLine:
    """A stored line from a control-API line."""
    original = line.original_price if line.original_price is not None else line.unit_price
    return SimLine(
        sku_id=line.sku_id,
        seller_sku=line.seller_sku,
        product_name=line.product_name,
        sku_name=line.sku_name,
        quantity=line.quantity,
        unit_price=line.unit_price,
        original_price=original,
    )
