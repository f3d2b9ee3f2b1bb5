"""Pure parsers for Shopee v2 bodies: pushes (§2.2), orders (§2.5), lost pushes, error envelope."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from integrations.platforms.amounts import to_vnd, to_vnd_or_zero
from integrations.platforms.payload import load_object, mapping
from integrations.platforms.shopee.signing import verify_push
from integrations.platforms.types import (
    SHOPEE,
    PlatformAddress,
    PlatformAuthError,
    PlatformError,
    PlatformOrder,
    PlatformOrderLine,
    PlatformPayloadError,
    PlatformWebhook,
    SignatureError,
)

ORDER_STATUS_PUSH = 3

# §2.1 push codes. The names are ours (the reference gives descriptions only).
TOPICS_BY_CODE = {
    0: "verification",  # the test push sent when the callback URL is set
    1: "shop_authorization",
    2: "shop_deauthorization",
    ORDER_STATUS_PUSH: "order_status_update",
    4: "tracking_number",
    5: "shopee_updates",
    6: "banned_item",
    7: "item_promotion",
    8: "reserved_stock_change",
    9: "promotion_update",
    10: "webchat",
    11: "video_upload",
    12: "open_api_authorization_expiry",
    13: "brand_register_result",
}

# §2.4; the last three appear only in older SDKs (legacy, UNCONFIRMED in v2) but are accepted.
ORDER_STATUSES = frozenset(
    {
        "UNPAID",
        "READY_TO_SHIP",
        "PROCESSED",
        "SHIPPED",
        "COMPLETED",
        "IN_CANCEL",
        "CANCELLED",
        "INVOICE_PENDING",
        "PENDING",
        "RETRY_SHIP",
        "TO_CONFIRM_RECEIVE",
        "TO_RETURN",
    }
)

_AUTH_ERRORS = frozenset(
    {
        "error_auth",
        "error_sign",
        "invalid_access_token",
        "invalid_acceess_token",  # Shopee's own misspelling, seen in the wild
        "invalid_partner_id",
        "error_partner_key_expired",
        "refresh_token_expired",
        "error_shop_refresh_token",
        "error_merchant_refresh_token",
        "shop_access_expired",
        "merchant_access_expired",
        "supplier_access_expired",
        "shop_no_linked",
        "merchant_no_linked",
        "supplier_no_linked",
    }
)
_TRANSIENT_ERRORS = frozenset({"error_server", "error_network", "error_rate_limit", "error_busy"})


@dataclass(frozen=True, slots=True)
class LostPushMessage:
    """A push Shopee failed to deliver, with the raw push text for the inbox."""

    webhook: PlatformWebhook
    raw_body: bytes


@dataclass(frozen=True, slots=True)
class LostPushPage:
    """One page of `get_lost_push_message`; confirm `last_message_id` once stored."""

    messages: tuple[LostPushMessage, ...]
    has_next_page: bool
    last_message_id: int | None


def parse_push(raw_body: bytes) -> PlatformWebhook:
    """Parse an (already verified) push body into a `PlatformWebhook`."""
    body = load_object(raw_body, SHOPEE)
    code = body.get("code")
    data = mapping(body.get("data"))
    shop_id = "" if body.get("shop_id") is None else str(body["shop_id"])
    timestamp = body.get("timestamp")
    if code == ORDER_STATUS_PUSH:
        ordersn, status, update_time = (
            data.get("ordersn"),
            data.get("status"),
            data.get("update_time"),
        )
        if not ordersn or not isinstance(status, str) or not isinstance(update_time, int):
            raise PlatformPayloadError(
                "order push lacks ordersn/status/update_time", platform=SHOPEE
            )
        return PlatformWebhook(
            platform=SHOPEE,
            # §6: Shopee sends no event id; (shop, order, status, update_time) names the change.
            event_key=f"{shop_id}:{ordersn}:{status}:{update_time}",
            topic=TOPICS_BY_CODE[ORDER_STATUS_PUSH],
            shop_id=shop_id,
            order_id=str(ordersn),
            status=status,
            update_time=update_time,
        )
    digest = hashlib.sha256(raw_body).hexdigest()
    return PlatformWebhook(
        platform=SHOPEE,
        event_key=f"{code}:{shop_id}:{timestamp}:{digest}",
        topic=TOPICS_BY_CODE.get(code, f"code_{code}") if isinstance(code, int) else f"code_{code}",
        shop_id=shop_id,
        order_id=None,
        status=None,
        update_time=timestamp if isinstance(timestamp, int) else None,
    )


def parse_verified_push(
    partner_key: str, callback_url: str, raw_body: bytes, authorization_header: str | None
) -> PlatformWebhook:
    """Verify the push signature on the raw bytes, then parse; raises `SignatureError`."""
    if not verify_push(partner_key, callback_url, raw_body, authorization_header):
        raise SignatureError(platform=SHOPEE)
    return parse_push(raw_body)


def raise_for_error(status_code: int, body: Mapping[str, Any]) -> None:
    """Raise the error of a `{error, message, request_id}` envelope when `error` is non-empty."""
    error = str(body.get("error") or "")
    if not error:
        return
    message = str(body.get("message") or "")
    request_id = str(body["request_id"]) if body.get("request_id") else None
    # Errors may come namespaced ("common.error_auth", "order.order_list_invalid_time").
    kind = error.rsplit(".", 1)[-1]
    if kind in _AUTH_ERRORS:
        raise PlatformAuthError(error, message, platform=SHOPEE, request_id=request_id)
    transient = kind in _TRANSIENT_ERRORS or status_code == 429 or status_code >= 500
    raise PlatformError(error, message, transient=transient, platform=SHOPEE, request_id=request_id)


def response_of(status_code: int, body: Mapping[str, Any]) -> dict[str, Any]:
    """The `response` object of a successful shop-level call."""
    raise_for_error(status_code, body)
    response = body.get("response")
    return response if isinstance(response, dict) else {}


def parse_orders(response: Mapping[str, Any], shop_id: str) -> list[PlatformOrder]:
    """Parse `response.order_list` of `get_order_detail` into `PlatformOrder`s."""
    orders = response.get("order_list") or []
    if not isinstance(orders, list):
        raise PlatformPayloadError("response.order_list is not a list", platform=SHOPEE)
    return [parse_order(mapping(order), shop_id) for order in orders]


def parse_order(order: Mapping[str, Any], shop_id: str) -> PlatformOrder:
    """Parse one order of `get_order_detail` (requested with our optional fields)."""
    order_sn = order.get("order_sn")
    if not order_sn:
        raise PlatformPayloadError("order without order_sn", platform=SHOPEE)
    recipient = mapping(order.get("recipient_address"))
    return PlatformOrder(
        platform=SHOPEE,
        shop_id=shop_id,
        order_id=str(order_sn),
        status=str(order.get("order_status") or ""),
        update_time=_int(order.get("update_time"), "update_time"),
        create_time=_int(order.get("create_time"), "create_time"),
        is_cod=bool(order.get("cod")),
        currency=str(order.get("currency") or "VND"),
        # total_amount is only returned once paid; a COD order may lack it until then.
        total_amount=to_vnd_or_zero(order.get("total_amount"), "total_amount", platform=SHOPEE),
        # The buyer-facing fee is what we need; `actual_shipping_fee` is the carrier's charge.
        shipping_fee=to_vnd_or_zero(
            order.get("estimated_shipping_fee"), "estimated_shipping_fee", platform=SHOPEE
        ),
        buyer_name=str(recipient.get("name") or order.get("buyer_username") or ""),
        buyer_id=str(order.get("buyer_user_id") or ""),
        buyer_phone=str(recipient.get("phone") or ""),
        address=parse_address(recipient),
        lines=tuple(parse_line(mapping(item)) for item in order.get("item_list") or []),
    )


def parse_line(item: Mapping[str, Any]) -> PlatformOrderLine:
    """One `item_list` entry; the SKU is the (item_id, model_id) pair."""
    quantity = item.get("model_quantity_purchased")
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise PlatformPayloadError(
            "model_quantity_purchased is not a positive int", platform=SHOPEE
        )
    price = to_vnd_or_zero(
        item.get("model_discounted_price"), "model_discounted_price", platform=SHOPEE
    )
    if price == 0:
        # Bundle-deal items report a discounted price of 0 (§2.5): the discount is not broken
        # down per item, so the listing price is the best per-unit figure available.
        price = to_vnd(item.get("model_original_price"), "model_original_price", platform=SHOPEE)
    return PlatformOrderLine(
        platform_sku_id=f"{item.get('item_id')}:{item.get('model_id') or 0}",
        seller_sku=str(item.get("model_sku") or item.get("item_sku") or ""),
        product_name=str(item.get("item_name") or ""),
        sku_name=str(item.get("model_name") or ""),
        quantity=quantity,
        unit_price=price,
    )


def parse_address(recipient: Mapping[str, Any]) -> PlatformAddress:
    """Map Shopee's state/city/district/town onto province, commune and legacy district."""
    # How VN addresses fill these fields after the 2025 reform is UNCONFIRMED: the province is
    # `state`, the commune/ward is the deepest filled level below it, and a middle level (the
    # pre-2025 district) is kept as the legacy district.
    province = str(recipient.get("state") or "")
    below = [str(recipient.get(k) or "") for k in ("city", "district", "town")]
    below = [name for name in below if name]
    full_address = str(recipient.get("full_address") or "")
    return PlatformAddress(
        full_address=full_address,
        province=province,
        commune=below[-1] if below else "",
        street=_street(full_address, {province, *below}),
        district=below[0] if len(below) > 1 else None,
        postal_code=str(recipient.get("zipcode") or "") or None,
    )


def parse_order_list(response: Mapping[str, Any]) -> tuple[list[str], str | None]:
    """Order numbers of one `get_order_list` page and the cursor of the next (None at the end)."""
    order_sns = [str(mapping(o).get("order_sn")) for o in response.get("order_list") or []]
    more = bool(response.get("more"))
    cursor = str(response.get("next_cursor") or "")
    return order_sns, cursor if more and cursor else None


def parse_lost_push_page(response: Mapping[str, Any]) -> LostPushPage:
    """Parse `get_lost_push_message`; each `data` is the original push body as text."""
    messages = []
    for entry in response.get("push_message_list") or []:
        text = mapping(entry).get("data")
        if not isinstance(text, str):
            raise PlatformPayloadError("lost push data is not a string", platform=SHOPEE)
        raw = text.encode()
        messages.append(LostPushMessage(webhook=parse_push(raw), raw_body=raw))
    last = response.get("last_message_id")
    return LostPushPage(
        messages=tuple(messages),
        has_next_page=bool(response.get("has_next_page")),
        last_message_id=last if isinstance(last, int) and not isinstance(last, bool) else None,
    )


def _street(full_address: str, admin_names: set[str]) -> str:
    parts = [part.strip() for part in full_address.split(",")]
    names = {name for name in admin_names if name} | {"VN", "Việt Nam", "Vietnam"}
    # Trailing components naming an admin unit ("Thành phố Hà Nội" for state "Hà Nội") go.
    while len(parts) > 1 and any(parts[-1].endswith(name) for name in names):
        parts.pop()
    return ", ".join(parts)


def _int(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PlatformPayloadError(f"{field} is not an integer", platform=SHOPEE)
    return value
