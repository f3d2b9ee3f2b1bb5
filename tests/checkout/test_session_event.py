"""Reading a Checkout Session event's fields: nothing a signed event carries makes it raise."""

from __future__ import annotations

import pytest

from api.checkout.events import COMPLETED, SessionEvent

pytestmark = pytest.mark.pure


@pytest.mark.parametrize("raw", ["²", "٢", "9" * 5000, "99999999999999999999", "-1", "", None, 7])
def test_an_order_id_that_is_not_ours_reads_as_none(raw: object) -> None:
    event = SessionEvent.of(COMPLETED, {"id": "cs_1", "metadata": {"order_id": raw}})
    assert event.order_id is None


def test_the_fields_we_check_are_read() -> None:
    obj = {
        "id": "cs_1", "payment_status": "paid", "payment_intent": {"id": "pi_1"},
        "amount_total": 360_000, "currency": "VND", "client_reference_id": "DABC",
        "metadata": {"order_id": "42", "order_reference": "DREF"},
    }  # fmt: skip
    event = SessionEvent.of(COMPLETED, obj)
    assert (event.order_id, event.reference, event.payment_intent) == (42, "DREF", "pi_1")
    assert (event.amount_total, event.currency) == (360_000, "vnd")
