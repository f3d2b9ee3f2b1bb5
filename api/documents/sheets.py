"""What the batch documents are drawn from: plain, read-only data, no database and no FastAPI.

`api/batches` loads a `BatchSheet` from PostgreSQL; `api/documents` turns it into a pick list,
packing slips, labels and the handover manifest. Parcels arrive as an iterable so a long batch
can be streamed from the database into the document, page by page, rather than held twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class Party:
    """A sender or receiver as the carrier needs them on a label."""

    name: str
    phone: str
    # Street first, then commune/ward, then province (2025 two-tier address).
    address_lines: tuple[str, ...]


@dataclass(frozen=True)
class ParcelLine:
    """One order line inside a parcel."""

    sku: str
    name: str
    quantity: int
    weight_g: int  # for the whole line (quantity x unit net weight)


@dataclass(frozen=True)
class Parcel:
    """One shipment of the batch: a packing slip and a label."""

    shipment_id: int
    order_reference: str  # our reference (what a person may scan instead of the waybill)
    platform_order_id: str
    waybill: str
    sort_code: str | None
    carrier: str
    service_code: str | None
    sender: Party
    receiver: Party
    weight_g: int
    cod_vnd: int
    lines: tuple[ParcelLine, ...]
    note: str
    packed_at: datetime | None


@dataclass(frozen=True)
class PickLine:
    """How much of one variant to fetch from the store for the whole batch."""

    sku: str
    name: str
    quantity: int
    weight_g: int  # total for the quantity
    location: str  # where it is kept ("" when unknown); the pick list is sorted by it, then name


@dataclass(frozen=True)
class BatchTotals:
    """The figures the driver signs for."""

    parcels: int
    packed: int
    weight_g: int
    cod_vnd: int


@dataclass(frozen=True)
class BatchSheet:
    """Everything the documents of one batch show."""

    batch_id: int
    cooperative_name: str
    collection_point: Party
    carrier: str
    carrier_name: str  # as printed: "Viettel Post", "GHN"
    pickup_date: date
    window: str  # "08:00–11:00"
    status: str
    pick_lines: tuple[PickLine, ...]
    totals: BatchTotals
    parcels: Iterable[Parcel]  # may be a one-shot iterator: read it once
    printed_at: datetime
