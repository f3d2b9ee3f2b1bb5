"""Our Stripe client on the official library, against the Stripe simulator over real HTTP."""

from __future__ import annotations

import asyncio

import pytest

from integrations.payments.stripe_client import StripePayments
from integrations.payments.types import CheckoutLine, PaymentError, PaymentUnavailable
from tests.integrations.payments.conftest import API_KEY, StripeSim, new_session


async def test_create_sends_whole_dong_and_answers_an_open_session(
    payments: StripePayments, sim: StripeSim
) -> None:
    session = await new_session(payments)

    assert session.id.startswith("cs_test_")
    assert session.status == "open"
    assert session.payment_status == "unpaid"
    assert session.amount_total_vnd == 2 * 80_000 + 55_000  # VND: no minor unit
    assert session.payment_intent is None
    assert session.client_reference_id == "order-1"
    assert session.metadata == {"order_id": "order-1", "cooperative": "binh-lu"}
    assert session.url == f"{sim.base}/c/pay/{session.id}"
    stored = await sim.control("GET", "/checkout/sessions")
    assert [s["id"] for s in stored] == [session.id]
    assert stored[0]["currency"] == "vnd"
    assert stored[0]["mode"] == "payment"


async def test_the_same_key_and_params_replay_the_first_session(
    payments: StripePayments, sim: StripeSim
) -> None:
    first = await new_session(payments, key="checkout-7")
    again = await payments.create_checkout_session(
        lines=[CheckoutLine("Gạo Séng Cù túi 2 kg", 80_000, 2),
               CheckoutLine("Mật ong rừng hũ 500 g", 55_000, 1)],
        client_reference_id="order-1",
        success_url="https://shop.example/buy/done?session={CHECKOUT_SESSION_ID}",
        cancel_url="https://shop.example/buy/again",
        expires_at=first.expires_at,
        metadata={"order_id": "order-1", "cooperative": "binh-lu"},
        idempotency_key="checkout-7",
    )  # fmt: skip

    assert again == first
    assert len(await sim.control("GET", "/checkout/sessions")) == 1


async def test_a_replay_is_marked_as_stripe_marks_it(sim: StripeSim) -> None:
    body = {
        "mode": "payment",
        "success_url": "https://shop.example/ok",
        "line_items[0][price_data][currency]": "vnd",
        "line_items[0][price_data][unit_amount]": "120000",
        "line_items[0][price_data][product_data][name]": "Chè Shan Tuyết",
        "line_items[0][quantity]": "3",
    }
    headers = {"Authorization": f"Bearer {API_KEY}", "Idempotency-Key": "raw-1"}
    url = f"{sim.base}/v1/checkout/sessions"
    first = await sim.http.post(url, data=body, headers=headers)
    second = await sim.http.post(url, data=body, headers=headers)

    assert first.status_code == second.status_code == 200
    assert first.json()["amount_total"] == 360_000
    assert "idempotent-replayed" not in first.headers
    assert second.headers["idempotent-replayed"] == "true"
    assert first.headers["request-id"].startswith("req_")
    assert first.headers["request-id"] != second.headers["request-id"]
    assert second.content == first.content


async def test_the_same_key_with_other_params_is_an_idempotency_error(
    payments: StripePayments,
) -> None:
    await new_session(payments, key="checkout-9")

    with pytest.raises(PaymentError) as refused:
        await new_session(payments, key="checkout-9", reference="order-2")

    assert refused.value.status == 400
    assert refused.value.code == "idempotency_error"


async def test_retrieve_and_an_unknown_session(payments: StripePayments, sim: StripeSim) -> None:
    created = await new_session(payments)
    await sim.pay(created.id)

    paid = await payments.retrieve_checkout_session(created.id)

    assert paid.status == "complete"
    assert paid.payment_status == "paid"
    assert paid.payment_intent is not None
    assert paid.payment_intent.startswith("pi_")
    with pytest.raises(PaymentError) as missing:
        await payments.retrieve_checkout_session("cs_test_nothing_here")
    assert (missing.value.status, missing.value.code) == (404, "resource_missing")


async def test_expire_an_open_session_once(payments: StripePayments) -> None:
    created = await new_session(payments)

    expired = await payments.expire_checkout_session(created.id, idempotency_key="expire-1")
    replayed = await payments.expire_checkout_session(created.id, idempotency_key="expire-1")

    assert expired.status == "expired"
    assert expired.url is None
    assert replayed == expired
    with pytest.raises(PaymentError) as refused:
        await payments.expire_checkout_session(created.id, idempotency_key="expire-2")
    assert refused.value.status == 400


async def test_refunds_up_to_what_was_paid_and_never_more(
    payments: StripePayments, sim: StripeSim
) -> None:
    session = await new_session(payments)
    await sim.pay(session.id)
    intent = (await payments.retrieve_checkout_session(session.id)).payment_intent
    assert intent is not None

    part = await payments.create_refund(
        payment_intent=intent, amount_vnd=55_000, reason="requested_by_customer",
        idempotency_key="refund-1",
    )  # fmt: skip
    same = await payments.create_refund(
        payment_intent=intent, amount_vnd=55_000, reason="requested_by_customer",
        idempotency_key="refund-1",
    )  # fmt: skip
    with pytest.raises(PaymentError) as too_much:
        await payments.create_refund(
            payment_intent=intent, amount_vnd=200_000, reason="order_cancelled",
            idempotency_key="refund-2",
        )  # fmt: skip
    rest = await payments.create_refund(
        payment_intent=intent, amount_vnd=None, reason="order_cancelled", idempotency_key="refund-3"
    )
    with pytest.raises(PaymentError) as nothing_left:
        await payments.create_refund(
            payment_intent=intent, amount_vnd=None, reason="order_cancelled",
            idempotency_key="refund-4",
        )  # fmt: skip

    assert (part.status, part.amount_vnd, part.payment_intent) == ("succeeded", 55_000, intent)
    assert await payments.retrieve_refund(part.id) == part
    assert same == part
    assert (too_much.value.status, too_much.value.code) == (400, "amount_too_large")
    assert rest.amount_vnd == 160_000
    assert nothing_left.value.code == "charge_already_refunded"


async def test_an_unpaid_session_cannot_be_refunded(
    payments: StripePayments, sim: StripeSim
) -> None:
    session = await new_session(payments)
    await sim.pay(session.id, method="bank_transfer")
    intent = (await payments.retrieve_checkout_session(session.id)).payment_intent
    assert intent is not None

    with pytest.raises(PaymentError) as refused:
        await payments.create_refund(
            payment_intent=intent, amount_vnd=None, reason="duplicate", idempotency_key="r-1"
        )

    assert refused.value.code == "charge_not_refundable"


async def test_stripe_refusals_come_out_as_payment_errors(
    payments: StripePayments, sim: StripeSim
) -> None:
    with pytest.raises(PaymentError) as too_soon:
        await new_session(payments, expires_in_s=10 * 60)
    with pytest.raises(PaymentError) as no_lines:
        await new_session(payments, key="checkout-2", lines=[])
    wrong_key = StripePayments(api_key="sk_test_not_ours", api_base=sim.base, max_network_retries=0)
    with pytest.raises(PaymentError) as unauthorised:
        await new_session(wrong_key, key="checkout-3")
    await wrong_key.aclose()

    assert (too_soon.value.status, too_soon.value.code) == (400, "parameter_invalid_integer")
    assert (no_lines.value.status, no_lines.value.code) == (400, "parameter_missing")
    assert unauthorised.value.status == 401
    assert "sk_test_not_ours" not in str(unauthorised.value)


@pytest.mark.parametrize(("mode", "status"), [("status", 500), ("status", 503),
                                              ("status", 429), ("drop", 500)])  # fmt: skip
async def test_outages_are_payment_unavailable(
    payments: StripePayments, sim: StripeSim, mode: str, status: int
) -> None:
    await sim.faults(1, mode=mode, status_code=status)

    with pytest.raises(PaymentUnavailable):
        await new_session(payments)

    # Nothing was kept under the key: the retry creates the session.
    assert (await new_session(payments)).status == "open"


async def test_the_library_retries_with_the_same_key(sim: StripeSim) -> None:
    client = StripePayments(api_key=API_KEY, api_base=sim.base, max_network_retries=2)
    await sim.faults(1, mode="drop")
    try:
        session = await new_session(client, key="checkout-retried")
    finally:
        await client.aclose()

    assert session.status == "open"
    assert len(await sim.control("GET", "/checkout/sessions")) == 1


async def test_a_slow_answer_is_a_timeout(sim: StripeSim) -> None:
    client = StripePayments(
        api_key=API_KEY, api_base=sim.base, timeout_s=0.2, max_network_retries=0
    )
    await sim.configure(latency_ms=2_000)
    try:
        with pytest.raises(PaymentUnavailable):
            await new_session(client)
    finally:
        await client.aclose()
        await sim.configure(latency_ms=0)


async def test_the_simulator_wants_a_test_secret_key(sim: StripeSim) -> None:
    url = f"{sim.base}/v1/checkout/sessions/cs_test_x"
    missing = await sim.http.get(url)
    live = await sim.http.get(url, headers={"Authorization": "Bearer sk_live_123456789012"})

    assert missing.status_code == live.status_code == 401
    assert missing.json()["error"]["type"] == "invalid_request_error"
    assert "sk_live_123456789012" not in live.text


async def test_expires_at_may_not_be_more_than_a_day_ahead(payments: StripePayments) -> None:
    with pytest.raises(PaymentError) as refused:
        await new_session(payments, expires_in_s=25 * 3600)

    assert refused.value.status == 400


def test_the_api_key_never_shows_in_the_client() -> None:
    client = StripePayments(api_key="sk_test_secret_value_123", api_base="http://127.0.0.1:9")
    assert "sk_test_secret_value_123" not in repr(client)
    assert "sk_test_secret_value_123" not in repr(vars(client))


async def test_a_double_submit_makes_one_session(sim: StripeSim) -> None:
    await sim.configure(latency_ms=300)
    client = StripePayments(api_key=API_KEY, api_base=sim.base, max_network_retries=2)
    try:
        first, second = await asyncio.gather(
            new_session(client, key="checkout-twice"), new_session(client, key="checkout-twice")
        )
    finally:
        await client.aclose()
        await sim.configure(latency_ms=0)

    # The second met the first in flight (409), and the library's retry got the first's answer.
    assert first == second
    assert len(await sim.control("GET", "/checkout/sessions")) == 1


async def test_a_busy_key_is_refused_while_its_request_runs(sim: StripeSim) -> None:
    await sim.configure(latency_ms=1_000)  # the window in which the second one arrives
    headers = {"Authorization": f"Bearer {API_KEY}", "Idempotency-Key": "refund-busy"}
    url = f"{sim.base}/v1/refunds"
    try:
        answers = await asyncio.gather(
            *(sim.http.post(url, data={"payment_intent": "pi_none"}, headers=headers)
              for _ in range(2))
        )  # fmt: skip
    finally:
        await sim.configure(latency_ms=0)

    codes = sorted(a.json()["error"].get("code") for a in answers)
    assert codes == ["idempotency_key_in_use", "resource_missing"]
    assert sorted(a.status_code for a in answers) == [400, 409]


async def test_an_unknown_url_gets_stripes_envelope(sim: StripeSim) -> None:
    answer = await sim.http.post(
        f"{sim.base}/v1/customers", headers={"Authorization": f"Bearer {API_KEY}"}
    )

    assert answer.status_code == 404
    assert answer.json()["error"]["type"] == "invalid_request_error"


async def test_session_urls_can_name_the_public_address(
    payments: StripePayments, sim: StripeSim
) -> None:
    await sim.configure(public_url="http://127.0.0.1:9105")

    session = await new_session(payments)

    assert session.url == f"http://127.0.0.1:9105/c/pay/{session.id}"
