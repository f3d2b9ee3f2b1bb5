"""Viettel Post ORDER_STATUS codes and REASON_CODEs mapped onto the normalised status set."""

from __future__ import annotations

from integrations.carriers.base import ShipmentStatus as S
from integrations.carriers.base import StatusInfo

# Every code in the fact sheet §1.8. Where the sheet's proposed target (karrio names) has no
# equivalent in our set, the choice is explained inline.
STATUS_CODES: dict[int, StatusInfo] = {
    -100: StatusInfo(S.PENDING, "new order, not yet approved"),
    # Drop-offs at a post office or collection point mean the goods left our hands: that is
    # exactly our handed_off (the sheet proposes pending, which has no such nuance).
    -108: StatusInfo(S.HANDED_OFF, "dropped off at a post office"),
    -109: StatusInfo(S.HANDED_OFF, "dropped at a collection point or convenience store"),
    -110: StatusInfo(S.HANDED_OFF, "being handed over via a post office"),
    100: StatusInfo(S.PENDING, "received from the partner, VTP is processing"),
    101: StatusInfo(S.CANCELLED, "Viettel Post refused the order"),
    102: StatusInfo(S.PENDING, "waiting for processing"),
    103: StatusInfo(S.PENDING, "assigned to a post office"),
    104: StatusInfo(S.PENDING, "postman assigned to pick up"),
    105: StatusInfo(S.PICKED_UP, "postman picked up the parcel"),
    # on_hold has no equivalent; the parcel has not moved yet, so it stays pending with the reason.
    106: StatusInfo(S.PENDING, "partner asked to take the goods back (on hold)"),
    107: StatusInfo(S.CANCELLED, "cancelled by the partner via API"),
    # 200 is the moment VTP books revenue and edits/cancels stop: the goods are in its hands.
    200: StatusInfo(S.PICKED_UP, "received at the origin office"),
    201: StatusInfo(S.CANCELLED, "waybill entry cancelled"),
    202: StatusInfo(S.IN_TRANSIT, "waybill edited"),
    300: StatusInfo(S.IN_TRANSIT, "outbound from a hub"),
    301: StatusInfo(S.IN_TRANSIT, "outbound from a hub: dispatch list closed"),
    302: StatusInfo(S.IN_TRANSIT, "outbound from a hub: bag closed"),
    303: StatusInfo(S.IN_TRANSIT, "outbound from a hub: truck closed"),
    320: StatusInfo(S.IN_TRANSIT, "in transit (code 320, meaning unconfirmed)"),
    400: StatusInfo(S.IN_TRANSIT, "inbound at a hub"),
    401: StatusInfo(S.IN_TRANSIT, "inbound at a hub: list received"),
    402: StatusInfo(S.IN_TRANSIT, "inbound at a hub: bag received"),
    403: StatusInfo(S.IN_TRANSIT, "inbound at a hub: truck received"),
    500: StatusInfo(S.OUT_FOR_DELIVERY, "postman assigned to deliver"),
    501: StatusInfo(S.DELIVERED, "delivered"),
    502: StatusInfo(S.RETURNING, "being returned to the origin office"),
    503: StatusInfo(S.CANCELLED, "cancelled at the customer's request"),
    504: StatusInfo(S.RETURNED, "returned to the sender"),
    505: StatusInfo(S.DELIVERY_FAILED, "delivery failed, return requested (needs action)"),
    506: StatusInfo(S.DELIVERY_FAILED, "delivery failed: not home, no answer or rescheduled"),
    # ready_for_pickup has no equivalent: the attempt failed and the buyer will collect it.
    507: StatusInfo(S.DELIVERY_FAILED, "buyer will collect at the post office"),
    508: StatusInfo(S.OUT_FOR_DELIVERY, "redelivery requested by the unit"),
    509: StatusInfo(S.IN_TRANSIT, "forwarded to another post office"),
    510: StatusInfo(S.IN_TRANSIT, "delivery assignment cancelled"),
    515: StatusInfo(S.RETURNING, "delivering office approved the return"),
    550: StatusInfo(S.OUT_FOR_DELIVERY, "redelivery requested by the customer"),
    570: StatusInfo(S.OUT_FOR_DELIVERY, "delivering (code 570, meaning unconfirmed)"),
}

# VTP-DOC: no events follow these codes.
VTP_TERMINAL_CODES = frozenset({101, 107, 201, 501, 503, 504})

REASON_CODES: dict[int, str] = {
    20: "refused: colour",
    21: "refused: size",
    22: "refused: style",
    23: "refused: poor quality",
    24: "refused: not allowed to inspect",
    25: "refused: quantity",
    26: "refused: wrong COD amount",
    27: "refused: bad phone number",
    30: "refused: no longer wants it",
    31: "refused: did not order",
    32: "refused: wrong address",
    35: "receiver rescheduled",
    36: "receiver unreachable",
    37: "postman rescheduled",
    38: "receiver will collect at the office",
    43: "sender requested return",
    46: "repeated failures: rescheduled",
    47: "repeated failures: unreachable",
}


def map_status(code: int) -> StatusInfo:
    """Normalise one ORDER_STATUS; unknown codes fall back by hundreds so they never jump ahead."""
    known = STATUS_CODES.get(code)
    if known is not None:
        return known
    # An unlisted code must not finish a parcel: stay in the non-terminal status of its band.
    if code < 200:
        return StatusInfo(S.PENDING, f"unknown Viettel Post status {code}")
    if code < 500:
        return StatusInfo(S.IN_TRANSIT, f"unknown Viettel Post status {code}")
    return StatusInfo(S.OUT_FOR_DELIVERY, f"unknown Viettel Post status {code}")


def describe_reason(reason_code: int | None) -> str | None:
    """Text for a REASON_CODE, or None when absent or unknown."""
    if reason_code is None:
        return None
    return REASON_CODES.get(reason_code)
