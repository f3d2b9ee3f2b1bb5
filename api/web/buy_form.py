"""The buy page's form: read, check and keep what the buyer typed, with messages per field.

Pure (no database, no FastAPI): the page module calls it and the tests exercise it directly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from api.cooperatives.addresses import UnknownPlace, resolve_place
from api.orders.phones import normalise_phone

Gettext = Callable[[str], str]
MAX_QUANTITY = 99
QTY_PREFIX = "qty-"
TEXT_FIELDS = {"name": 200, "phone": 32, "street": 300, "note": 500}
BUYER_FIELDS = frozenset({*TEXT_FIELDS, "province", "ward"})


def _messages(gettext: Gettext) -> dict[str, str]:
    # Each string is written out for the catalog extractor.
    return {
        "name": gettext("Please enter your name."),
        "phone": gettext("Please enter a phone number we can call, e.g. 0912 345 678."),
        "province": gettext("Please choose your province or city."),
        "ward": gettext("Please choose your commune or ward."),
        "street": gettext("Please enter the house number and street, or your hamlet."),
        "quantity": gettext("Choose a number from 0 to 99."),
        "lines": gettext("Choose at least one product."),
        "note": gettext("The note is too long."),
    }


def _refusal_texts(gettext: Gettext) -> dict[str, str]:
    return {
        "out_of_stock": gettext(
            "Sorry, there is not enough left of this product. Please choose fewer."
        ),
        "over_offer_cap": gettext("Sorry, the live offer is sold out."),
        "over_buyer_limit": gettext("That is more than one buyer may take in this live session."),
        "inactive_product": gettext("This product is no longer on sale."),
        "unknown_variant": gettext("This product is no longer on sale."),
        "payments": gettext("Card payment is not available right now. Please try again shortly."),
    }


@dataclass
class BuyForm:
    """What the buyer typed (kept on every re-render) and what is wrong with it, per field."""

    values: dict[str, str] = field(default_factory=lambda: dict.fromkeys(TEXT_FIELDS, ""))
    quantities: dict[int, str] = field(default_factory=dict)
    province_code: int | None = None
    ward_code: int | None = None
    province_name: str = ""
    ward_name: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    choosing_place: bool = False
    cancelled: bool = False

    def quantity(self, variant_id: int) -> str:
        """The quantity typed for a product ("0" when none)."""
        return self.quantities.get(variant_id, "0")

    def lines(self) -> list[tuple[int, int]]:
        """(variant id, quantity) of every product the buyer wants."""
        return [(v, int(q)) for v, q in self.quantities.items() if _whole(q) and int(q) > 0]

    def field_of(self, checkout_field: str | None) -> str:
        """The form field a checkout refusal names ("lines.0.quantity" -> "qty-<variant>")."""
        parts = (checkout_field or "").split(".")
        if parts[0] == "buyer" and len(parts) > 1 and parts[1] in BUYER_FIELDS:
            return parts[1]
        if parts[0] == "lines" and len(parts) > 1 and parts[1].isdigit():
            lines = self.lines()
            index = int(parts[1])
            if index < len(lines):
                return f"{QTY_PREFIX}{lines[index][0]}"
        return "lines"

    def add_validation_errors(self, exc: ValidationError, gettext: Gettext) -> None:
        """Put the checkout schema's complaints next to the fields they concern."""
        messages = _messages(gettext)
        for error in exc.errors():
            where = [str(part) for part in error["loc"]]
            name = next((p for p in reversed(where) if p in messages), "lines")
            self.errors.setdefault(name, messages[name])


def _whole(raw: str) -> bool:
    """ASCII digits only: str.isdigit() also says yes to "²" and "٢", which int() refuses or
    reads as another number."""
    return raw.isascii() and raw.isdigit()


def _code(raw: str) -> int | None:
    raw = raw.strip()
    return int(raw) if _whole(raw) and len(raw) < 10 else None


def _text(data: Mapping[str, Any], name: str) -> str:
    value = data.get(name, "")
    return " ".join(value.split())[: TEXT_FIELDS[name]] if isinstance(value, str) else ""


def read_form(data: Mapping[str, Any], variant_ids: Iterable[int], gettext: Gettext) -> BuyForm:
    """Read a submitted buy form; `choosing_place` when the buyer only asked for the communes."""
    messages = _messages(gettext)
    form = BuyForm(values={name: _text(data, name) for name in TEXT_FIELDS})
    form.choosing_place = data.get("action") == "places"
    for variant_id in variant_ids:
        raw = data.get(f"{QTY_PREFIX}{variant_id}", "0")
        typed = raw.strip() if isinstance(raw, str) and raw.strip() else "0"
        form.quantities[variant_id] = typed[:4]
        if not _whole(typed) or len(typed) > 4 or int(typed) > MAX_QUANTITY:
            form.errors[f"{QTY_PREFIX}{variant_id}"] = messages["quantity"]
    form.province_code = _code(str(data.get("province", "")))
    form.ward_code = _code(str(data.get("ward", "")))
    _check_place(form, messages)
    if form.choosing_place:
        form.errors.clear()
        return form
    if not form.lines() and not any(k.startswith(QTY_PREFIX) for k in form.errors):
        form.errors["lines"] = messages["lines"]
    for name in ("name", "street"):
        if not form.values[name]:
            form.errors[name] = messages[name]
    if normalise_phone(form.values["phone"]) is None:
        form.errors["phone"] = messages["phone"]
    return form


def _check_place(form: BuyForm, messages: dict[str, str]) -> None:
    """Province and commune against the official list; a commune of another province is dropped."""
    if form.province_code is None:
        form.errors["province"] = messages["province"]
        form.ward_code = None
        return
    if form.ward_code is None:
        form.errors["ward"] = messages["ward"]
    try:
        place = resolve_place(form.province_code, form.ward_code or 0)
    except UnknownPlace as unknown:
        form.errors[unknown.field] = messages[unknown.field]
        if unknown.field == "province":
            form.province_code = None
        form.ward_code = None
        return
    form.province_name, form.ward_name = place.province_name, place.ward_name


def refusal_message(refused: Exception, gettext: Gettext, field: str = "lines") -> str:
    """The buyer's words for why the checkout did not start (never the provider's English)."""
    texts = _refusal_texts(gettext)
    code = getattr(refused, "code", None)
    if not isinstance(code, str):
        return texts["payments"]
    messages = _messages(gettext)
    by_field = messages["quantity"] if field.startswith(QTY_PREFIX) else messages.get(field)
    return texts.get(code) or by_field or messages["lines"]
