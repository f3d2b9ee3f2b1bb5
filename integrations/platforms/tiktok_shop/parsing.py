"""Pure parsers for TikTok Shop bodies: webhook envelope (§1.1), orders (§1.6), error envelope."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from integrations.platforms.amounts import to_vnd, to_vnd_or_zero
from integrations.platforms.payload import load_object, mapping
from integrations.platforms.tiktok_shop.signing import verify_webhook
from integrations.platforms.types import (
    TIKTOK_SHOP,
    PlatformAddress,
    PlatformAuthError,
    PlatformError,
    PlatformOrder,
    PlatformOrderLine,
    PlatformPayloadError,
    PlatformWebhook,
    SignatureError,
)

ORDER_STATUS_CHANGE = "ORDER_STATUS_CHANGE"

# §1.3: numbers seen in SDK constants. The official number↔name table was not found
# (UNCONFIRMED), so only type 1 drives order processing; others are kept for the audit trail.
TOPICS_BY_TYPE = {
    1: ORDER_STATUS_CHANGE,
    2: "REVERSE_STATUS_UPDATE",
    3: "RECIPIENT_ADDRESS_UPDATE",
    4: "PACKAGE_UPDATE",
    5: "PRODUCT_STATUS_CHANGE",
    6: "SELLER_DEAUTHORIZATION",
    7: "UPCOMING_AUTHORIZATION_EXPIRATION",
    12: "RETURN_STATUS_CHANGE",
}

# §1.2: the webhook doc spells cancellation `CANCEL`, the Order API `CANCELLED`. Whether live
# pushes really send `CANCEL` is UNCONFIRMED, so both are accepted and mapped to the API word.
_WEBHOOK_STATUS_ALIASES = {"CANCEL": "CANCELLED"}

ORDER_STATUSES = frozenset(
    {
        "UNPAID",
        "ON_HOLD",
        "AWAITING_SHIPMENT",
        "PARTIALLY_SHIPPING",
        "AWAITING_COLLECTION",
        "IN_TRANSIT",
        "DELIVERED",
        "COMPLETED",
        "CANCELLED",
    }
)

# Token problems (PHP SDK, §1.7) and credential/sign problems (106001 "Invalid credentials").
_AUTH_CODE_PREFIXES = ("105", "360", "106")


def normalize_order_status(status: str) -> str:
    """Map a webhook status onto the Order API vocabulary (`CANCEL` → `CANCELLED`)."""
    return _WEBHOOK_STATUS_ALIASES.get(status, status)


def parse_webhook(raw_body: bytes) -> PlatformWebhook:
    """Parse an (already verified) webhook body into a `PlatformWebhook`."""
    body = load_object(raw_body, TIKTOK_SHOP)
    notification_id = body.get("tts_notification_id")
    shop_id = body.get("shop_id")
    if not notification_id or shop_id in (None, ""):
        raise PlatformPayloadError(
            "webhook lacks tts_notification_id or shop_id", platform=TIKTOK_SHOP
        )
    data = mapping(body.get("data"))
    status = data.get("order_status")
    update_time = data.get("update_time")
    order_id = data.get("order_id")
    return PlatformWebhook(
        platform=TIKTOK_SHOP,
        event_key=str(notification_id),
        topic=_topic(body.get("type")),
        shop_id=str(shop_id),
        order_id=str(order_id) if order_id not in (None, "") else None,
        status=normalize_order_status(status) if isinstance(status, str) else None,
        update_time=update_time if isinstance(update_time, int) else None,
    )


def parse_verified_webhook(
    app_key: str, app_secret: str, raw_body: bytes, authorization_header: str | None
) -> PlatformWebhook:
    """Verify the signature on the raw bytes, then parse; raises `SignatureError` on mismatch."""
    if not verify_webhook(app_key, app_secret, raw_body, authorization_header):
        raise SignatureError(platform=TIKTOK_SHOP)
    return parse_webhook(raw_body)


def parse_envelope(status_code: int, body: Mapping[str, Any]) -> dict[str, Any]:
    """Return `data` of a `{code, message, data, request_id}` envelope or raise its error."""
    code = body.get("code")
    if code == 0:
        data = body.get("data")
        return data if isinstance(data, dict) else {}
    message = str(body.get("message") or "")
    request_id = body.get("request_id")
    request_id = str(request_id) if request_id else None
    code_text = str(code) if code is not None else f"http_{status_code}"
    # Six digits only: eight-digit codes such as 36009004 are per-API errors, not token ones.
    if len(code_text) == 6 and code_text.startswith(_AUTH_CODE_PREFIXES):
        raise PlatformAuthError(code_text, message, platform=TIKTOK_SHOP, request_id=request_id)
    transient = status_code == 429 or status_code >= 500 or _mentions_rate_limit(message)
    raise PlatformError(
        code_text, message, transient=transient, platform=TIKTOK_SHOP, request_id=request_id
    )


def parse_orders(data: Mapping[str, Any], shop_id: str) -> list[PlatformOrder]:
    """Parse `data.orders` of Get Order Detail / Order Search into `PlatformOrder`s."""
    orders = data.get("orders") or []
    if not isinstance(orders, list):
        raise PlatformPayloadError("data.orders is not a list", platform=TIKTOK_SHOP)
    return [parse_order(order, shop_id) for order in orders]


def parse_order(order: Mapping[str, Any], shop_id: str) -> PlatformOrder:
    """Parse one order object of the 202309 Order API."""
    payment = mapping(order.get("payment"))
    recipient = mapping(order.get("recipient_address"))
    order_id = order.get("id")
    if not order_id:
        raise PlatformPayloadError("order without id", platform=TIKTOK_SHOP)
    return PlatformOrder(
        platform=TIKTOK_SHOP,
        shop_id=shop_id,
        order_id=str(order_id),
        status=str(order.get("status") or ""),
        update_time=_int(order.get("update_time"), "update_time"),
        create_time=_int(order.get("create_time"), "create_time"),
        is_cod=bool(order.get("is_cod")),
        currency=str(payment.get("currency") or "VND"),
        total_amount=to_vnd(
            payment.get("total_amount"), "payment.total_amount", platform=TIKTOK_SHOP
        ),
        shipping_fee=to_vnd_or_zero(
            payment.get("shipping_fee"), "payment.shipping_fee", platform=TIKTOK_SHOP
        ),
        buyer_name=str(recipient.get("name") or ""),
        buyer_id=str(order.get("user_id") or ""),
        buyer_phone=str(recipient.get("phone_number") or ""),
        address=parse_address(recipient),
        lines=group_line_items(order.get("line_items") or []),
    )


def group_line_items(items: list[Any]) -> tuple[PlatformOrderLine, ...]:
    """Count units per SKU: the 202309 line item has no quantity, one line item is one unit."""
    # §1.6: "one line item = one unit" is inferred from third-party code (UNCONFIRMED).
    # Units of one SKU at different sale prices (a live price and a full price, a gift at 0)
    # stay separate lines so that quantity × unit_price adds up to what the buyer paid.
    counts: dict[tuple[str, int], int] = {}
    first: dict[tuple[str, int], Mapping[str, Any]] = {}
    for item in items:
        line = mapping(item)
        sku_id = str(line.get("sku_id") or "")
        if not sku_id:
            raise PlatformPayloadError("line item without sku_id", platform=TIKTOK_SHOP)
        price = to_vnd(line.get("sale_price"), "line_items.sale_price", platform=TIKTOK_SHOP)
        key = (sku_id, price)
        counts[key] = counts.get(key, 0) + 1
        first.setdefault(key, line)
    return tuple(
        PlatformOrderLine(
            platform_sku_id=sku_id,
            seller_sku=str(first[(sku_id, price)].get("seller_sku") or ""),
            product_name=str(first[(sku_id, price)].get("product_name") or ""),
            sku_name=str(first[(sku_id, price)].get("sku_name") or ""),
            quantity=quantity,
            unit_price=price,
        )
        for (sku_id, price), quantity in counts.items()
    )


def parse_address(recipient: Mapping[str, Any]) -> PlatformAddress:
    """Read province / commune (and a legacy district) from `district_info` levels."""
    # The VN level layout (Country/Province/District/Ward) is seen only in a third-party
    # fixture (UNCONFIRMED); names are matched first, positions are the fallback.
    levels = [mapping(level) for level in recipient.get("district_info") or []]
    named = {str(level.get("address_level_name") or "").lower(): level for level in levels}
    below_country = [
        str(level.get("address_name") or "")
        for level in levels
        if str(level.get("address_level") or "") not in ("", "L0")
        and str(level.get("address_level_name") or "").lower() != "country"
    ]
    province = _level_name(named, "province", "state") or (
        below_country[0] if below_country else ""
    )
    commune = _level_name(named, "ward", "commune") or (
        below_country[-1] if len(below_country) > 1 else ""
    )
    district = _level_name(named, "district") or (
        below_country[1] if len(below_country) > 2 else None
    )
    street = recipient.get("address_detail") or recipient.get("address_line1") or ""
    postal_code = recipient.get("postal_code")
    return PlatformAddress(
        full_address=str(recipient.get("full_address") or ""),
        province=province,
        commune=commune,
        street=str(street),
        district=district or None,
        postal_code=str(postal_code) if postal_code else None,
    )


def _topic(topic_type: object) -> str:
    if isinstance(topic_type, int) and not isinstance(topic_type, bool):
        return TOPICS_BY_TYPE.get(topic_type, f"TYPE_{topic_type}")
    return f"TYPE_{topic_type}"


def _level_name(named: Mapping[str, Mapping[str, Any]], *names: str) -> str:
    for name in names:
        if name in named:
            return str(named[name].get("address_name") or "")
    return ""


def _mentions_rate_limit(message: str) -> bool:
    lowered = message.lower()
    return "rate limit" in lowered or "too many requests" in lowered


def _int(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise PlatformPayloadError(f"{field} is not an integer", platform=TIKTOK_SHOP)
    try:
        return int(value)
    except ValueError:
        raise PlatformPayloadError(f"{field} is not an integer", platform=TIKTOK_SHOP) from None
