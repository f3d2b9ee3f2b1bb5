"""Every carrier status the fact sheet lists maps onto the normalised set."""

from __future__ import annotations

import pytest

from integrations.carriers.base import ShipmentStatus as S
from integrations.carriers.base import can_transition, is_terminal, status_rank
from integrations.carriers.ghn.statuses import STATUSES as GHN_STATUSES
from integrations.carriers.ghn.statuses import map_status as map_ghn
from integrations.carriers.viettel_post.statuses import STATUS_CODES, VTP_TERMINAL_CODES
from integrations.carriers.viettel_post.statuses import map_status as map_vtp

pytestmark = pytest.mark.pure

# Fact sheet §1.8, code by code (300-303 and 400-403 are the sub-codes ODOO-T lists).
VTP_REFERENCE: dict[int, S] = {
    -100: S.PENDING,
    -108: S.HANDED_OFF,
    -109: S.HANDED_OFF,
    -110: S.HANDED_OFF,
    100: S.PENDING,
    101: S.CANCELLED,
    102: S.PENDING,
    103: S.PENDING,
    104: S.PENDING,
    105: S.PICKED_UP,
    106: S.PENDING,
    107: S.CANCELLED,
    200: S.PICKED_UP,
    201: S.CANCELLED,
    202: S.IN_TRANSIT,
    300: S.IN_TRANSIT,
    301: S.IN_TRANSIT,
    302: S.IN_TRANSIT,
    303: S.IN_TRANSIT,
    320: S.IN_TRANSIT,
    400: S.IN_TRANSIT,
    401: S.IN_TRANSIT,
    402: S.IN_TRANSIT,
    403: S.IN_TRANSIT,
    500: S.OUT_FOR_DELIVERY,
    501: S.DELIVERED,
    502: S.RETURNING,
    503: S.CANCELLED,
    504: S.RETURNED,
    505: S.DELIVERY_FAILED,
    506: S.DELIVERY_FAILED,
    507: S.DELIVERY_FAILED,
    508: S.OUT_FOR_DELIVERY,
    509: S.IN_TRANSIT,
    510: S.IN_TRANSIT,
    515: S.RETURNING,
    550: S.OUT_FOR_DELIVERY,
    570: S.OUT_FOR_DELIVERY,
}

# Fact sheet §2.5.
GHN_REFERENCE: dict[str, S] = {
    "ready_to_pick": S.PENDING,
    "picking": S.PENDING,
    "money_collect_picking": S.PENDING,
    "picked": S.PICKED_UP,
    "storing": S.IN_TRANSIT,
    "transporting": S.IN_TRANSIT,
    "sorting": S.IN_TRANSIT,
    "delivering": S.OUT_FOR_DELIVERY,
    "money_collect_delivering": S.OUT_FOR_DELIVERY,
    "delivered": S.DELIVERED,
    "delivery_fail": S.DELIVERY_FAILED,
    "waiting_to_return": S.RETURNING,
    "return": S.RETURNING,
    "return_transporting": S.RETURNING,
    "return_sorting": S.RETURNING,
    "returning": S.RETURNING,
    "return_fail": S.RETURNING,
    "returned": S.RETURNED,
    "cancel": S.CANCELLED,
    "exception": S.IN_TRANSIT,
    "damage": S.DELIVERY_FAILED,
    "lost": S.DELIVERY_FAILED,
}


def test_every_listed_vtp_code_maps_with_a_reason() -> None:
    assert set(STATUS_CODES) == set(VTP_REFERENCE)
    for code, expected in VTP_REFERENCE.items():
        info = map_vtp(code)
        assert info.status is expected, code
        assert info.reason


def test_vtp_terminal_codes_are_terminal_statuses() -> None:
    assert all(is_terminal(map_vtp(code).status) for code in VTP_TERMINAL_CODES)


@pytest.mark.parametrize(
    ("code", "expected"), [(150, S.PENDING), (350, S.IN_TRANSIT), (599, S.OUT_FOR_DELIVERY)]
)
def test_unknown_vtp_codes_never_finish_a_parcel(code: int, expected: S) -> None:
    info = map_vtp(code)
    assert info.status is expected
    assert str(code) in info.reason


def test_every_documented_ghn_status_maps_with_a_reason() -> None:
    assert set(GHN_STATUSES) == set(GHN_REFERENCE)
    for raw, expected in GHN_REFERENCE.items():
        assert map_ghn(raw).status is expected, raw
        assert map_ghn(raw).reason


def test_unknown_ghn_status_falls_back_to_in_transit() -> None:
    assert map_ghn("teleported").status is S.IN_TRANSIT


def test_ranks_refuse_backward_moves_and_leaving_terminal_states() -> None:
    assert can_transition(S.PENDING, S.PICKED_UP)
    assert can_transition(S.OUT_FOR_DELIVERY, S.DELIVERY_FAILED)
    assert can_transition(S.DELIVERY_FAILED, S.OUT_FOR_DELIVERY)  # redelivery attempt
    assert can_transition(S.IN_TRANSIT, S.IN_TRANSIT)
    assert not can_transition(S.IN_TRANSIT, S.PICKED_UP)
    assert not can_transition(S.DELIVERED, S.RETURNING)
    assert not can_transition(S.CANCELLED, S.PENDING)
    assert status_rank(S.RETURNED) > status_rank(S.RETURNING)
    assert {s for s in S if is_terminal(s)} == {S.DELIVERED, S.RETURNED, S.CANCELLED}
