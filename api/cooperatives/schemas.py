"""Request and response bodies for cooperatives."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from api.core.schemas import Input, Output

PHONE_PATTERN = r"^(\+84|0)\d{9,10}$"
# Carriers a cooperative's parcels can go with (the shipments table accepts the same).
CarrierName = Literal["viettel_post", "ghn"]


class CollectionPoint(Input):
    """Province and commune/ward by name or official code; street free text."""

    province: str | int = Field(description="Province name (any case/diacritics) or code")
    ward: str | int = Field(description="Commune/ward name or code, inside that province")
    street: str = Field(min_length=1, max_length=255)
    legacy_district: str | None = Field(default=None, max_length=100)


class CooperativeCreate(Input):
    """A new cooperative."""

    name: str = Field(min_length=1, max_length=200)
    phone: str = Field(pattern=PHONE_PATTERN)
    address: CollectionPoint


class CooperativeUpdate(Input):
    """Fields a coop admin may change; omitted fields stay as they are."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    phone: str | None = Field(default=None, pattern=PHONE_PATTERN)
    address: CollectionPoint | None = None
    carrier: CarrierName | None = Field(
        default=None, description="Who collects new parcels: viettel_post or ghn"
    )


class CooperativeRead(Output):
    """A cooperative with its resolved collection point."""

    id: int
    name: str
    phone: str
    province_code: int
    province_name: str
    ward_code: int
    ward_name: str
    street: str
    legacy_district: str | None
    carrier: str
    created_at: datetime
    updated_at: datetime
