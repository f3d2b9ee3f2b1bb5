"""Map 2025 two-tier names (province + ward) onto Viettel Post's post-merger (v3) ids.

VTP's createOrder/getPriceAll take numeric ids. Since 1 July 2025 VTP publishes the new provinces
and wards on `/v3/categories/listProvinceNew` and `/v3/categories/listWardsNew?provinceId=`; new
wards have their own ids, so names are matched against those lists, never against v2 ids.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from integrations.carriers.text import fold

PROVINCES_PATH = "/v3/categories/listProvinceNew"
WARDS_PATH = "/v3/categories/listWardsNew"

# UNCONFIRMED (fact sheet §4.2, §7.1): with v3 ward ids one integrator sends district 0 ("verified
# against the real API"); the documented alternative would be the per-province "NEW"
# pseudo-district id. We send 0.
NEW_ADDRESS_DISTRICT_ID = 0

_PREFIXES = ("thanh pho ", "tinh ", "phuong ", "xa ", "dac khu ", "thi tran ", "tp. ", "tp ")


@dataclass(frozen=True)
class Place:
    """One VTP master-data row: its id and display name."""

    id: int
    name: str


def strip_prefix(folded: str) -> str:
    """Drop the administrative prefix ("tỉnh", "phường", "xã", ...) from a folded name."""
    for prefix in _PREFIXES:
        if folded.startswith(prefix):
            return folded[len(prefix) :]
    return folded


def _rows(doc: Any, id_keys: Iterable[str], name_keys: Iterable[str]) -> list[Place]:
    places: list[Place] = []
    data = doc.get("data") if isinstance(doc, dict) else doc
    if not isinstance(data, list):
        return places
    id_keys, name_keys = tuple(id_keys), tuple(name_keys)
    for row in data:
        if not isinstance(row, dict):
            continue
        raw_id = next((row[k] for k in id_keys if row.get(k) is not None), None)
        name = next((row[k] for k in name_keys if row.get(k)), None)
        if raw_id is not None and isinstance(name, str):
            places.append(Place(int(raw_id), name))
    return places


def parse_provinces(doc: Any) -> list[Place]:
    """Rows of a `listProvinceNew` answer (`PROVINCE_ID`, `PROVINCE_NAME`)."""
    return _rows(doc, ("PROVINCE_ID",), ("PROVINCE_NAME",))


def parse_wards(doc: Any) -> list[Place]:
    """Rows of a `listWardsNew` answer (`WARDS_ID`, `WARDS_NAME`; singular spellings too)."""
    # The v2 list spells the keys WARDS_*; the v3 sample keys are not in the fact sheet, so both
    # spellings are read (UNCONFIRMED).
    return _rows(doc, ("WARDS_ID", "WARD_ID"), ("WARDS_NAME", "WARD_NAME"))


def find_place(places: list[Place], name: str) -> Place | None:
    """The row whose name matches; an unprefixed name matching several rows is refused (None)."""
    wanted = fold(name)
    exact = [p for p in places if fold(p.name) == wanted]
    if len(exact) == 1:
        return exact[0]
    bare = strip_prefix(wanted)
    loose = [p for p in places if strip_prefix(fold(p.name)) == bare]
    # "Tân An" may be both a phường and a xã in one province: guessing would misroute the parcel.
    return loose[0] if len(loose) == 1 else None
