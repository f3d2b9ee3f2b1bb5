"""Carrier status rules and errors, without a carrier: terminal is terminal, retry or not."""

from __future__ import annotations

import pytest

from integrations.carriers.base import (
    TERMINAL_STATUSES,
    CarrierAuthError,
    CarrierError,
    DuplicateReference,
    ShipmentStatus,
    WebhookPayloadError,
    can_transition,
)
from integrations.carriers.ghn.statuses import map_status as map_ghn
from integrations.carriers.viettel_post.statuses import describe_reason

pytestmark = pytest.mark.pure


@pytest.mark.parametrize("terminal", sorted(TERMINAL_STATUSES))
def test_nothing_leaves_a_terminal_status_not_even_itself(terminal: ShipmentStatus) -> None:
    assert not any(can_transition(terminal, status) for status in ShipmentStatus)


def test_an_unknown_ghn_status_says_so() -> None:
    info = map_ghn("  Teleported ")
    assert info.status is ShipmentStatus.IN_TRANSIT
    assert info.reason == "unknown GHN status '  Teleported '"


def test_a_vtp_reason_is_read_only_when_known() -> None:
    assert describe_reason(None) is None
    assert describe_reason(987654) is None
    assert describe_reason(20) == "refused: colour"


def test_carrier_errors_say_whether_a_retry_may_help() -> None:
    plain = CarrierError("timeout", code="timeout", transient=True)
    assert (plain.message, plain.code, plain.transient, str(plain)) == (
        "timeout", "timeout", True, "timeout",
    )  # fmt: skip
    assert repr(plain) == "CarrierError('timeout', code='timeout', transient=True)"
    default = CarrierError("no")
    assert (default.code, default.transient) == ("carrier_error", False)
    duplicate = DuplicateReference("dup", "PHN-1", "VTP123")
    assert (duplicate.message, duplicate.code, duplicate.transient) == (
        "dup", "duplicate_reference", False,
    )  # fmt: skip
    assert (duplicate.reference, duplicate.existing_waybill) == ("PHN-1", "VTP123")
    assert DuplicateReference("dup", "PHN-2").existing_waybill is None
    auth = CarrierAuthError("refused")
    assert (auth.message, auth.code, auth.transient) == ("refused", "auth_failed", False)
    assert CarrierAuthError("x", code="token_expired").code == "token_expired"
    bad = WebhookPayloadError("not json")
    assert (bad.message, bad.code, bad.transient) == ("not json", "bad_webhook_payload", False)
