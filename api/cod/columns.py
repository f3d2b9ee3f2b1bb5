"""The statement columns we accept, per carrier, as header names folded for comparison.

Neither carrier's payout-statement layout is in our reference (shared/reference/carriers.md
documents their APIs and webhooks only). So: the English names are the carriers' own API field
names for the same value (confirmed as API fields, not as statement headers), the Vietnamese
ones are what a statement exported from their portals is assumed to say. UNCONFIRMED: every
header below as a statement column; both variants are accepted. docs/cod-statements.md.
"""

from __future__ import annotations

import re
from enum import StrEnum

from api.core.text import fold


class Field(StrEnum):
    """A value we read from a statement row."""

    WAYBILL = "waybill"
    COLLECTED = "collected"
    FEE = "fee"
    PAID = "paid"
    PAID_AT = "paid_at"


REQUIRED = (Field.WAYBILL, Field.COLLECTED)

_COMMON: dict[Field, tuple[str, ...]] = {
    Field.WAYBILL: ("mã vận đơn", "số vận đơn", "mã vđ", "waybill", "tracking number"),
    Field.COLLECTED: (
        "tiền thu hộ", "số tiền thu hộ", "tiền cod", "thu hộ", "cod", "cod amount",
        "amount collected",
    ),
    Field.FEE: ("phí thu hộ", "phí cod", "tổng phí", "tổng cước", "cước phí", "phí", "fee"),
    Field.PAID: (
        "thực nhận", "tiền thực nhận", "số tiền thanh toán", "tiền trả shop",
        "tiền chuyển khoản", "amount paid", "paid amount", "payout",
    ),
    Field.PAID_AT: (
        "ngày thanh toán", "ngày đối soát", "ngày chuyển tiền", "ngày chuyển khoản",
        "paid date", "payment date", "paid at",
    ),
}  # fmt: skip

# The carriers' API field names for the same values (reference §1.5/§1.7 for Viettel Post,
# §2.3/§2.4 for GHN).
_CARRIER: dict[str, dict[Field, tuple[str, ...]]] = {
    "viettel_post": {
        Field.WAYBILL: ("ORDER_NUMBER",),
        Field.COLLECTED: ("MONEY_COLLECTION",),
        Field.FEE: ("MONEY_FEECOD", "MONEY_TOTAL"),
        Field.PAID: (),
        Field.PAID_AT: (),
    },
    "ghn": {
        Field.WAYBILL: ("order_code", "OrderCode", "mã đơn ghn"),
        Field.COLLECTED: ("cod_amount", "CODAmount"),
        Field.FEE: ("CODFee", "cod_fee", "TotalFee", "total_fee"),
        Field.PAID: (),
        Field.PAID_AT: ("CODTransferDate", "cod_transfer_date", "ngày chuyển cod"),
    },
}

# Above the table: "Mã bảng kê: BK-2026-11-001", "Ngày đối soát: 28/11/2026".
STATEMENT_REF_LABELS = ("mã bảng kê", "số bảng kê", "mã đối soát", "statement ref", "statement no")
STATEMENT_DATE_LABELS = ("ngày bảng kê", "ngày đối soát", "ngày lập", "statement date")

_UNIT = re.compile(r"\([^)]*\)")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def header_key(name: object) -> str:
    """A header cell as compared: folded, a "(VNĐ)" unit dropped, letters and digits only.

    "Tiền thu hộ (VNĐ)", "TIEN_THU_HO" and "tien thu ho" are one key; so are "CODAmount" and
    "cod_amount".
    """
    key = _NOT_ALNUM.sub("", _UNIT.sub(" ", fold(str(name or ""))))
    if key.endswith("vnd") and len(key) > 3:
        key = key[:-3]
    return key


def aliases(carrier: str) -> dict[Field, frozenset[str]]:
    """Every accepted header (as `header_key` spells it) per field, for this carrier."""
    found: dict[Field, frozenset[str]] = {}
    extra = _CARRIER[carrier]
    for name, common in _COMMON.items():
        found[name] = frozenset(header_key(a) for a in (*common, *extra[name]))
    return found


def table_columns(carrier: str) -> dict[Field, tuple[str, ...]]:
    """The headers accepted per field, as written (for the documentation and error messages)."""
    extra = _CARRIER[carrier]
    return {name: (*common, *extra[name]) for name, common in _COMMON.items()}
