"""The simulator's buyer page and webhooks, checked with the library's own signature check."""

from __future__ import annotations

import time

import httpx
import orjson
import pytest
import stripe

from integrations.payments.stripe_client import StripePayments, verify_event
from integrations.payments.types import PaymentEvent, SignatureInvalid
from integrations.simulators.stripe import StripeState
from tests.integrations.payments.conftest import (
    WEBHOOK_SECRET,
    Hook,
    Receiver,
    StripeSim,
    new_session,
)


def verified(hook: Hook) -> PaymentEvent:
    return verify_event(hook.body, hook.signature, WEBHOOK_SECRET)


async def buyer(http: httpx.AsyncClient, url: str, action: str, **form: str) -> httpx.Response:
    """What the buyer's browser does: open the page, then press a button."""
    page = await http.get(url)
    assert page.status_code == 200
    return await http.post(f"{url}/{action}", data=form)


async def test_paying_by_card_completes_the_session_and_sends_it_signed(
    payments: StripePayments, sim: StripeSim, receiver: Receiver
) -> None:
    session = await new_session(payments)
    assert session.url is not None
    page = await sim.http.get(session.url)
    assert "Gạo Séng Cù túi 2 kg × 2" in page.text
    assert "215.000 ₫" in page.text
    assert 'name="viewport"' in page.text

    paid = await sim.http.post(f"{session.url}/pay", data={"method": "card"})

    assert paid.status_code == 303
    assert paid.headers["location"] == (f"https://shop.example/buy/done?session={session.id}")
    [hook] = await receiver.wait_for(1)
    event = verified(hook)
    assert event.id.startswith("evt_")
    assert event.type == "checkout.session.completed"
    assert event.livemode is False
    assert event.object["id"] == session.id
    assert event.object["payment_status"] == "paid"
    assert event.object["payment_intent"].startswith("pi_")
    assert event.object["client_reference_id"] == "order-1"
    assert event.object["metadata"] == {"order_id": "order-1", "cooperative": "binh-lu"}
    assert event.object["amount_total"] == 215_000
    # The official library, on its own, accepts what the simulator signed.
    library_event = stripe.Webhook.construct_event(hook.body, hook.signature, WEBHOOK_SECRET)
    assert library_event.id == event.id


@pytest.mark.parametrize(
    ("outcome", "settled"),
    [("succeeded", "checkout.session.async_payment_succeeded"),
     ("failed", "checkout.session.async_payment_failed")],
)  # fmt: skip
async def test_a_bank_transfer_completes_unpaid_then_settles(
    payments: StripePayments, sim: StripeSim, receiver: Receiver, outcome: str, settled: str
) -> None:
    session = await new_session(payments)
    assert session.url is not None

    answer = await buyer(sim.http, session.url, "pay", method="bank_transfer", outcome=outcome)
    [completed] = await receiver.wait_for(1)
    await sim.control(
        "POST", f"/checkout/sessions/{session.id}/settle", succeeded=outcome == "succeeded"
    )
    later = (await receiver.wait_for(2))[1]

    assert answer.status_code == 303
    assert verified(completed).type == "checkout.session.completed"
    assert verified(completed).object["payment_status"] == "unpaid"
    assert verified(later).type == settled
    expected = "paid" if outcome == "succeeded" else "unpaid"
    assert verified(later).object["payment_status"] == expected
    assert (await payments.retrieve_checkout_session(session.id)).payment_status == expected


async def test_abandoning_goes_back_and_leaves_the_session_open(
    payments: StripePayments, sim: StripeSim, receiver: Receiver
) -> None:
    session = await new_session(payments)
    assert session.url is not None

    answer = await buyer(sim.http, session.url, "abandon")

    assert answer.status_code == 303
    assert answer.headers["location"] == "https://shop.example/buy/again"
    assert (await payments.retrieve_checkout_session(session.id)).status == "open"
    assert await sim.events() == []


async def test_an_expired_session_cannot_be_paid_on_the_page(
    payments: StripePayments, sim: StripeSim, receiver: Receiver
) -> None:
    session = await new_session(payments)
    assert session.url is not None
    await sim.control("POST", f"/checkout/sessions/{session.id}/expire")
    [hook] = await receiver.wait_for(1)

    page = await sim.http.get(session.url)
    pressed = await sim.http.post(f"{session.url}/pay", data={"method": "card"})

    assert verified(hook).type == "checkout.session.expired"
    assert verified(hook).object["status"] == "expired"
    assert "no longer active" in page.text
    assert pressed.status_code == 200  # the same page again, nothing paid
    assert (await payments.retrieve_checkout_session(session.id)).status == "expired"


async def test_sessions_past_expires_at_expire_by_themselves(
    payments: StripePayments, sim: StripeSim, sim_state: StripeState, receiver: Receiver
) -> None:
    session = await new_session(payments)
    sim_state.sessions[session.id].obj["expires_at"] = int(time.time()) - 1

    swept = await sim.control("POST", "/sweep")

    assert swept == {"expired": 1}
    [hook] = await receiver.wait_for(1)
    assert verified(hook).type == "checkout.session.expired"


async def test_forged_stale_and_tampered_webhooks_are_refused(
    payments: StripePayments, sim: StripeSim, receiver: Receiver
) -> None:
    session = await new_session(payments)
    await sim.pay(session.id)
    [good] = await receiver.wait_for(1)
    event_id = verified(good).id

    await sim.control("POST", "/events/deliver", {"event_ids": [event_id], "forged": True})
    await sim.control("POST", "/events/deliver", {"event_ids": [event_id], "sign_offset_s": -301})
    forged, stale = (await receiver.wait_for(3))[1:]

    with pytest.raises(SignatureInvalid):
        verified(forged)
    with pytest.raises(SignatureInvalid):
        verified(stale)
    with pytest.raises(SignatureInvalid):
        verify_event(good.body.replace(b'"paid"', b'"unpaid"'), good.signature, WEBHOOK_SECRET)
    with pytest.raises(SignatureInvalid):
        verify_event(good.body, None, WEBHOOK_SECRET)
    with pytest.raises(SignatureInvalid):
        verify_event(good.body, good.signature, "whsec_another_endpoint")
    with pytest.raises(SignatureInvalid):
        verify_event(good.body, good.signature, WEBHOOK_SECRET, tolerance_s=-1)
    # Re-serialised JSON is not the signed body.
    with pytest.raises(SignatureInvalid):
        verify_event(orjson.dumps(orjson.loads(good.body)), good.signature, WEBHOOK_SECRET)


async def test_a_signature_from_the_library_verifies(payments: StripePayments) -> None:
    body = orjson.dumps(
        {"id": "evt_1", "object": "event", "type": "checkout.session.expired", "created": 1,
         "livemode": False, "data": {"object": {"id": "cs_test_1", "object": "checkout.session"}}}
    )  # fmt: skip
    header = stripe.WebhookSignature.generate_signature_header(body.decode(), WEBHOOK_SECRET)

    event = verify_event(body, header, WEBHOOK_SECRET)

    assert (event.id, event.type, event.object["id"]) == (
        "evt_1",
        "checkout.session.expired",
        "cs_test_1",
    )


async def test_events_can_arrive_twice_and_out_of_order(
    payments: StripePayments, sim: StripeSim, receiver: Receiver
) -> None:
    await sim.configure(auto_deliver=False)
    session = await new_session(payments)
    await sim.pay(session.id, method="bank_transfer")
    await sim.control("POST", f"/checkout/sessions/{session.id}/settle", succeeded=True)
    events = await sim.events()
    assert [e["type"] for e in events] == [
        "checkout.session.completed",
        "checkout.session.async_payment_succeeded",
    ]
    assert receiver.hooks == []

    reversed_ids = [e["id"] for e in reversed(events)]
    await sim.control("POST", "/events/deliver", {"event_ids": reversed_ids, "copies": 2})
    await sim.drain()

    got = [verified(h) for h in receiver.hooks]
    assert len(got) == 4
    assert {e.id for e in got} == set(reversed_ids)
    assert got[0].type == "checkout.session.async_payment_succeeded"


async def test_a_failing_endpoint_gets_the_event_again(
    payments: StripePayments, sim: StripeSim, receiver: Receiver
) -> None:
    receiver.fail_next = 2
    session = await new_session(payments)
    await sim.pay(session.id)

    hooks = await receiver.wait_for(3)
    await sim.drain()

    assert len({verified(h).id for h in hooks}) == 1
    [event] = await sim.events()
    assert [d["status_code"] for d in event["deliveries"]] == [500, 500, 200]


@pytest.mark.parametrize("order", ["expired_first", "completed_first"])
async def test_a_payment_can_complete_after_its_session_expired(
    payments: StripePayments, sim: StripeSim, receiver: Receiver, order: str
) -> None:
    session = await new_session(payments)

    await sim.control("POST", f"/checkout/sessions/{session.id}/late_payment", {"order": order})
    hooks = [verified(h) for h in await receiver.wait_for(2)]

    types = [e.type for e in hooks]
    expected = ["checkout.session.expired", "checkout.session.completed"]
    assert types == (expected if order == "expired_first" else expected[::-1])
    completed = next(e for e in hooks if e.type == "checkout.session.completed")
    assert completed.object["payment_status"] == "paid"
    now = await payments.retrieve_checkout_session(session.id)
    assert (now.status, now.payment_status) == ("complete", "paid")


async def test_a_late_payment_after_an_announced_expiry_sends_only_completed(
    payments: StripePayments, sim: StripeSim, receiver: Receiver
) -> None:
    session = await new_session(payments)
    await payments.expire_checkout_session(session.id, idempotency_key="expire-1")
    await receiver.wait_for(1)

    await sim.control("POST", f"/checkout/sessions/{session.id}/late_payment", {})
    hooks = [verified(h) for h in await receiver.wait_for(2)]

    assert [e.type for e in hooks] == ["checkout.session.expired", "checkout.session.completed"]


async def test_a_refund_is_announced(
    payments: StripePayments, sim: StripeSim, receiver: Receiver
) -> None:
    session = await new_session(payments)
    await sim.pay(session.id)
    intent = (await payments.retrieve_checkout_session(session.id)).payment_intent
    assert intent is not None

    refund = await payments.create_refund(
        payment_intent=intent, amount_vnd=None, reason="order_cancelled", idempotency_key="r-9"
    )
    hooks = {e.type: e for e in (verified(h) for h in await receiver.wait_for(3))}

    # Two events of one change: Stripe promises no order between them.
    assert set(hooks) == {"checkout.session.completed", "refund.created", "charge.refunded"}
    assert hooks["refund.created"].object["id"] == refund.id
    assert hooks["refund.created"].object["metadata"] == {"reason": "order_cancelled"}
    assert hooks["charge.refunded"].object["amount_refunded"] == 215_000
    assert hooks["charge.refunded"].object["refunded"] is True


@pytest.mark.parametrize(
    "body",
    [b"[]", b"null", b"{}", b'{"object": "event", "id": "evt_1", "data": []}',
     b'{"object": "charge", "id": "ch_1", "type": "x", "data": {"object": {}}}'],
)  # fmt: skip
def test_a_signed_body_that_is_no_event_is_refused(body: bytes) -> None:
    header = stripe.WebhookSignature.generate_signature_header(body.decode(), WEBHOOK_SECRET)

    with pytest.raises(SignatureInvalid):
        verify_event(body, header, WEBHOOK_SECRET)
