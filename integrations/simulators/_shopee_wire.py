"""Shopee wire format: envelopes and signatures as the simulator computes them, and simulated
orders as get_order_detail objects (amounts as floats)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

import orjson
from fastapi import Response

from integrations.simulators._sim_models import SimLine, SimOrder

# Error names and messages come from Shopee's API schemas; their HTTP statuses are UNCONFIRMED.
_HTTP_STATUS = {"error_param": 400, "error_server": 500, "error_rate_limit": 429}


def json_body(raw: bytes) -> dict[str, Any]:
    """A JSON object body, or {} for anything else."""
    try:
        body = orjson.loads(raw) if raw else {}
    except orjson.JSONDecodeError:
        return {}
    return body if isinstance(body, dict) else {}


def ok(response: dict[str, Any] | None) -> Response:
    """A successful v2 answer, the payload under `response`."""
    body: dict[str, Any] = {"error": "", "message": "", "request_id": secrets.token_hex(16)}
    if response is not None:
        body["response"] = response
    return Response(orjson.dumps(body), media_type="application/json")


def error(name: str, message: str, status_code: int | None = None) -> Response:
    """A v2 error envelope `{error, message, request_id}`."""
    body = {"error": name, "message": message, "request_id": secrets.token_hex(16)}
    code = status_code or _HTTP_STATUS.get(name, 400)
    return Response(orjson.dumps(body), status_code=code, media_type="application/json")


def hmac_hex(key: str, message: bytes) -> str:
    """Hex HMAC-SHA256."""
    return hmac.new(key.encode(), message, hashlib.sha256).hexdigest()


def render_order(order: SimOrder, optional: set[str]) -> dict[str, Any]:
    """The get_order_detail object: default fields plus the requested optional ones."""
    rendered: dict[str, Any] = {
        "order_sn": order.order_id,
        "region": "VN",
        "currency": "VND",
        "cod": order.is_cod,
        "order_status": order.status,
        "create_time": order.create_time,
        "update_time": order.update_time,
        "days_to_ship": 2,
        "ship_by_date": order.create_time + 2 * 86400,
        "message_to_seller": "",
    }
    extra: dict[str, Any] = {
        "buyer_user_id": int(_digits(order.buyer.phone, 9)),
        "buyer_username": order.buyer.name,
        "recipient_address": _address(order),
        "item_list": [_item(order, line, n) for n, line in enumerate(order.lines, 1)],
        "total_amount": float(order.total),
        "payment_method": "Cash on Delivery" if order.is_cod else "ShopeePay",
        "pay_time": order.create_time,
        "estimated_shipping_fee": float(order.shipping_fee),
        "actual_shipping_fee": 0.0,
        "shipping_carrier": "SPX Express",
        "cancel_reason": "",
        "note": "",
    }
    rendered.update({k: v for k, v in extra.items() if k in optional})
    return rendered


def _item(order: SimOrder, line: SimLine, n: int) -> dict[str, Any]:
    item_id, _, model_id = line.sku_id.partition(":")
    return {
        "item_id": int(item_id) if item_id.isdigit() else int(_digits(line.sku_id, 10)),
        "item_name": line.product_name,
        "item_sku": line.seller_sku,
        "model_id": int(model_id) if model_id.isdigit() else 0,
        "model_name": line.sku_name,
        "model_sku": line.seller_sku,
        "model_quantity_purchased": line.quantity,
        "model_original_price": float(line.original_price),
        "model_discounted_price": float(line.unit_price),
        "order_item_id": n,
        "promotion_type": "",
        "active_qty": line.quantity if order.status not in ("CANCELLED", "IN_CANCEL") else 0,
        "cancelled_qty": line.quantity if order.status == "CANCELLED" else 0,
        "returned_qty": 0,
    }


def _address(order: SimOrder) -> dict[str, str]:
    return {
        "name": order.buyer.name,
        "phone": order.buyer.phone,
        "town": "",
        "district": order.address.commune,
        "city": order.address.district or "",
        "state": order.address.province,
        "region": "VN",
        "zipcode": order.address.postal_code or "",
        "full_address": order.full_address,
    }


def _digits(text: str, count: int) -> str:
    return str(int(hashlib.sha256(text.encode()).hexdigest(), 16))[:count].zfill(count)
