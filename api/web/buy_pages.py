"""`/buy/{cooperative}`: the public page a seller shares, on to Stripe Checkout.

No sign-in: anyone with the link may buy. The form works without JavaScript (choosing a
province re-renders the page with its communes); `buy.js` only fetches the communes in place.
A buyer's phone is never logged: the page logs nothing about the buyer at all.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from api.checkout.errors import CheckoutRefused, PaymentsRefused, PaymentsUnavailable
from api.checkout.router import checkout_rate_limit
from api.checkout.schemas import BuyerIn, CheckoutIn, CheckoutLineIn
from api.checkout.service import direct_products, start_checkout
from api.cooperatives.addresses import province_options, ward_options
from api.cooperatives.storefront import Storefront, storefront
from api.core.config import Settings
from api.core.deps import MAX_ID, SessionDep
from api.orders.receipts import receipt
from api.web.buy_form import MAX_QUANTITY, BuyForm, Gettext, read_form, refusal_message
from api.web.deps import CsrfChecked
from api.web.i18n import translations
from api.web.rendering import render, request_language
from integrations.payments.types import Payments

router = APIRouter(include_in_schema=False)
# Stripe's hosted page; the simulator's origin is added from STRIPE_API_BASE.
STRIPE_CHECKOUT_ORIGIN = "https://checkout.stripe.com"


def _form_action(settings: Settings) -> str:
    base = urlsplit(settings.stripe_api_base)
    return f"'self' {STRIPE_CHECKOUT_ORIGIN} {base.scheme}://{base.netloc}"


def _page(
    request: Request, template: str, context: dict[str, Any], *, status_code: int = 200
) -> Response:
    """A buy page whose form may be sent on to Stripe's checkout host (CSP form-action)."""
    response = render(request, template, context, status_code=status_code)
    settings: Settings = request.app.state.settings
    policy = response.headers["Content-Security-Policy"]
    response.headers["Content-Security-Policy"] = policy.replace(
        "form-action 'self'", f"form-action {_form_action(settings)}"
    )
    return response


def _missing(request: Request) -> Response:
    return render(request, "buy_missing.html", {}, status_code=status.HTTP_404_NOT_FOUND)


async def _show(
    request: Request,
    session: SessionDep,
    shop: Storefront,
    form: BuyForm,
    *,
    status_code: int = 200,
) -> Response:
    products = await direct_products(session, shop.cooperative_id, shop.live_session_id)
    context = {
        "shop": shop,
        "products": products,
        "form": form,
        "provinces": province_options(),
        "wards": ward_options(form.province_code) if form.province_code else (),
        "max_quantity": MAX_QUANTITY,
        "action": request.url.path,
    }
    return _page(request, "buy.html", context, status_code=status_code)


def _path_id(raw: str | None) -> int | None:
    """A path id, or None for anything that cannot be one (shown as the friendly 404)."""
    if raw is None or not (raw.isascii() and raw.isdigit()) or len(raw) > 19:
        return None
    value = int(raw)
    return value if 1 <= value <= MAX_ID else None


async def _shop(
    session: SessionDep, cooperative_id: str, live_id: str | None = None
) -> Storefront | None:
    coop, live = _path_id(cooperative_id), _path_id(live_id)
    if coop is None or (live_id is not None and live is None):
        return None
    return await storefront(session, coop, live)


async def _buy_page(
    request: Request, session: SessionDep, cooperative_id: str, live_id: str | None
) -> Response:
    shop = await _shop(session, cooperative_id, live_id)
    if shop is None:
        return _missing(request)
    cancelled = request.query_params.get("cancelled")
    return await _show(request, session, shop, BuyForm(cancelled=bool(cancelled)))


@router.get("/buy/places/{province_code}")
async def places(province_code: int) -> Response:
    """The communes and wards of one province, for the page's commune picker."""
    options = [{"code": o.code, "name": o.name} for o in ward_options(province_code)]
    if not options:
        return JSONResponse({"detail": "no such province"}, status_code=404)
    return JSONResponse(options, headers={"Cache-Control": "public, max-age=86400"})


@router.get("/buy/{cooperative_id}")
async def buy_page(request: Request, session: SessionDep, cooperative_id: str) -> Response:
    """The cooperative's active products at their list prices."""
    return await _buy_page(request, session, cooperative_id, None)


@router.get("/buy/{cooperative_id}/live/{live_session_id}")
async def buy_live_page(
    request: Request, session: SessionDep, cooperative_id: str, live_session_id: str
) -> Response:
    """The same page for one live session: its live prices while it is on air."""
    return await _buy_page(request, session, cooperative_id, live_session_id)


def _checkout_body(form: BuyForm, cooperative_id: int, live_id: int | None) -> CheckoutIn:
    return CheckoutIn(
        cooperative_id=cooperative_id,
        live_session_id=live_id,
        lines=[CheckoutLineIn(variant_id=v, quantity=q) for v, q in form.lines()],
        buyer=BuyerIn(
            name=form.values["name"], phone=form.values["phone"],
            province=form.province_name, ward=form.ward_name,
            street=form.values["street"], note=form.values["note"],
        ),
    )  # fmt: skip


async def _open_checkout(
    request: Request, body: CheckoutIn, form: BuyForm
) -> tuple[str | None, int]:
    """The Checkout URL, or None and the page's status with the reason put on the form."""
    gettext = _gettext(request)
    try:
        # The same per-address bucket as POST /api/v1/checkout: one buyer, one budget.
        await checkout_rate_limit(request)
    except HTTPException:
        form.errors["lines"] = gettext("Too many tries from this connection. Wait a minute.")
        return None, status.HTTP_429_TOO_MANY_REQUESTS
    payments: Payments | None = getattr(request.app.state, "payments", None)
    if payments is None:
        form.errors["lines"] = refusal_message(PaymentsUnavailable(), gettext)
        return None, status.HTTP_503_SERVICE_UNAVAILABLE
    settings: Settings = request.app.state.settings
    try:
        out = await start_checkout(
            request.app.state.db, payments, body, settings=settings,
            base_url=str(request.base_url),
        )  # fmt: skip
    except CheckoutRefused as refused:
        field = form.field_of(refused.field)
        form.errors[field] = refusal_message(refused, gettext, field)
        return None, refused.status
    except PaymentsUnavailable as failed:
        form.errors["lines"] = refusal_message(failed, gettext)
        return None, status.HTTP_503_SERVICE_UNAVAILABLE
    except PaymentsRefused as failed:
        form.errors["lines"] = refusal_message(failed, gettext)
        return None, status.HTTP_502_BAD_GATEWAY
    return out.checkout_url, status.HTTP_303_SEE_OTHER


async def _submit(
    request: Request, session: SessionDep, cooperative_id: str, live_id: str | None
) -> Response:
    shop = await _shop(session, cooperative_id, live_id)
    if shop is None:
        return _missing(request)
    products = await direct_products(session, shop.cooperative_id, shop.live_session_id)
    raw: FormData = await request.form()
    form = read_form(raw, [p.variant_id for p in products], _gettext(request))
    if form.choosing_place:
        return await _show(request, session, shop, form)
    body: CheckoutIn | None = None
    if not form.errors:
        try:
            body = _checkout_body(form, shop.cooperative_id, shop.live_session_id)
        except ValidationError as exc:
            form.add_validation_errors(exc, _gettext(request))
    if form.errors or body is None:
        return await _show(request, session, shop, form, status_code=422)
    # No transaction of the page's stays open while Stripe is called.
    await session.commit()
    url, code = await _open_checkout(request, body, form)
    if url is None:
        return await _show(request, session, shop, form, status_code=code)
    return RedirectResponse(url, status_code=code)


def _gettext(request: Request) -> Gettext:
    return translations(request_language(request)).gettext


@router.post("/buy/{cooperative_id}", dependencies=[CsrfChecked])
async def buy_submit(request: Request, session: SessionDep, cooperative_id: str) -> Response:
    """Check the form, reserve and open a Checkout Session, then send the buyer to pay."""
    return await _submit(request, session, cooperative_id, None)


@router.post(
    "/buy/{cooperative_id}/live/{live_session_id}",
    dependencies=[CsrfChecked],
)
async def buy_live_submit(
    request: Request, session: SessionDep, cooperative_id: str, live_session_id: str
) -> Response:
    """The live session's form: live prices, offer caps and per-buyer limits apply."""
    return await _submit(request, session, cooperative_id, live_session_id)


@router.get("/buy/{cooperative_id}/thanks")
async def thanks(
    request: Request,
    session: SessionDep,
    cooperative_id: str,
    order: Annotated[str, Query(max_length=80)] = "",
    cancelled: Annotated[bool, Query()] = False,
) -> Response:
    """Where Stripe sends the buyer back: the order's reference, items, amount and status."""
    shop = await _shop(session, cooperative_id)
    if shop is None:
        return _missing(request)
    found = await receipt(session, shop.cooperative_id, order) if order else None
    context = {"shop": shop, "receipt": found, "cancelled": cancelled, "reference": order}
    return render(request, "buy_thanks.html", context)
