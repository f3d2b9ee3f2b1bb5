"""Stock allocation, pure: which new orders the locked stock levels cover, all or nothing.

`reservation.py` locks the variant rows and writes what this decides in one statement; nothing
here touches the database, so the rule is tested (and mutation-tested) without one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from operator import attrgetter

from api.orders.drafts import LineDraft, OrderDraft
from api.orders.flags import add_flag
from api.orders.models import FulfilmentStatus, OrderFlag
from api.orders.status import can_move_fulfilment, move_fulfilment

_RESERVED = FulfilmentStatus.RESERVED


@dataclass
class Levels:
    """A variant's locked stock levels, as this batch moves them."""

    cooperative_id: int
    on_hand: int
    reserved: int

    @property
    def available(self) -> int:
        """Units on hand not yet reserved."""
        return self.on_hand - self.reserved


@dataclass
class Ledger:
    """The reservation movements decided, one entry per reserved line (column lists for SQL)."""

    variant_ids: list[int] = field(default_factory=list)
    cooperative_ids: list[int] = field(default_factory=list)
    quantities: list[int] = field(default_factory=list)
    on_hand_after: list[int] = field(default_factory=list)
    reserved_after: list[int] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    order_ids: list[int | None] = field(default_factory=list)

    def add(
        self, variant_id: int, levels: Levels, quantity: int, reason: str, order_id: int | None
    ) -> None:
        """Record one reserved line with the levels it left behind."""
        self.variant_ids.append(variant_id)
        self.cooperative_ids.append(levels.cooperative_id)
        self.quantities.append(quantity)
        self.on_hand_after.append(levels.on_hand)
        self.reserved_after.append(levels.reserved)
        self.reasons.append(reason)
        self.order_ids.append(order_id)


def first_short(wanted: Sequence[LineDraft], levels: dict[int, Levels]) -> LineDraft | None:
    """The first line (in variant order) the levels cannot cover, counting the order's
    earlier lines of the same variant."""
    taken: dict[int, int] = {}
    for line in wanted:
        assert line.variant_id is not None
        level = levels.get(line.variant_id)
        need = taken.get(line.variant_id, 0) + line.quantity
        if level is None or level.available < need:
            return line
        taken[line.variant_id] = need
    return None


def mapped_lines(lines: Sequence[LineDraft]) -> list[LineDraft]:
    """The lines with a variant, in variant id order (the order the rows are locked in)."""
    return sorted((ln for ln in lines if ln.variant_id is not None), key=attrgetter("variant_id"))


def allocate(
    batch: Sequence[tuple[OrderDraft, Sequence[LineDraft]]], levels: dict[int, Levels]
) -> Ledger:
    """Reserve each order's mapped lines all or nothing, first come first served.

    Sets `fulfilment_status` (reserved, or backordered with the flag and its reason) and each
    reserved line's `reserved_quantity`; moves `levels`. Orders with no mapped line, or that
    the fulfilment rule keeps from being reserved (cancelled, say), are left as they are.
    """
    ledger = Ledger()
    for order, lines in batch:
        wanted = mapped_lines(lines)
        if not wanted or not can_move_fulfilment(order.fulfilment_status, _RESERVED):
            continue
        short = first_short(wanted, levels)
        if short is not None:
            add_flag(
                order, OrderFlag.BACKORDERED,
                "not enough stock for " + (short.seller_sku or short.platform_sku_id),
            )  # fmt: skip
            move_fulfilment(order, FulfilmentStatus.BACKORDERED)
            continue
        for line in wanted:
            assert line.variant_id is not None
            level = levels[line.variant_id]
            level.reserved += line.quantity
            reason = f"order {order.platform_order_id}"
            ledger.add(line.variant_id, level, line.quantity, reason, order.id)
            line.reserved_quantity = line.quantity
        move_fulfilment(order, FulfilmentStatus.RESERVED)
    return ledger
