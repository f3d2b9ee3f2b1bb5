"""Stripe's wire format for the simulator: form bodies, error envelope, ids, webhook signatures.

Written from Stripe's documented behaviour (reference/platforms.md §5), independently of the
`stripe` library, so a bug shared by the library's signer and a copy of it here cannot hide.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import parse_qsl

import orjson
from fastapi import Response


class StripeApiError(Exception):
    """An API request refused with Stripe's error envelope."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        type_: str = "invalid_request_error",
        code: str | None = None,
        param: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type_
        self.code = code
        self.param = param

    def response(self) -> Response:
        """`{"error": {...}}` with this error's HTTP status."""
        error: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.code is not None:
            error["code"] = self.code
            error["doc_url"] = f"https://stripe.com/docs/error-codes/{self.code.replace('_', '-')}"
        if self.param is not None:
            error["param"] = self.param
        return json_response({"error": error}, self.status)


def json_response(
    doc: Any, status_code: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    """A JSON response as Stripe sends them."""
    return Response(
        orjson.dumps(doc), status_code=status_code, media_type="application/json", headers=headers
    )


def new_id(prefix: str) -> str:
    """A fresh object id in Stripe's style (`cs_test_…`, `pi_…`, `evt_…`)."""
    return f"{prefix}{secrets.token_urlsafe(18).replace('-', 'x').replace('_', 'y')}"


def _path_of(key: str) -> list[str]:
    """`line_items[0][price_data][currency]` → ["line_items", "0", "price_data", "currency"]."""
    head, sep, rest = key.partition("[")
    parts = [head]
    while sep:
        inner, _, rest = rest.partition("]")
        parts.append(inner)
        head, sep, rest = rest.partition("[")
    return parts


def _listify(value: Any) -> Any:
    if isinstance(value, dict):
        converted = {k: _listify(v) for k, v in value.items()}
        if converted and all(k.isdigit() for k in converted):
            return [converted[k] for k in sorted(converted, key=int)]
        return converted
    return value


def decode_form(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """Rebuild the nested params the library flattened into bracket notation."""
    root: dict[str, Any] = {}
    for key, value in pairs:
        parts = _path_of(key)
        node = root
        for i, part in enumerate(parts):
            last = i == len(parts) - 1
            if part == "":  # `expand[]=a&expand[]=b`
                part = str(sum(1 for k in node if k.isdigit()))
            if last:
                node[part] = value
            else:
                child = node.setdefault(part, {})
                if not isinstance(child, dict):
                    raise StripeApiError(400, f"Invalid parameter: {key}", param=parts[0])
                node = child
    result = _listify(root)
    assert isinstance(result, dict)
    return result


def form_pairs(body: bytes) -> list[tuple[str, str]]:
    """The url-encoded pairs of a request body (or query string)."""
    return parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)


def as_int(params: Mapping[str, Any], name: str, *, required: bool = False) -> int | None:
    """An integer param, with Stripe's refusal when it is missing or not an integer."""
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise StripeApiError(
                400, f"Missing required param: {name}.", code="parameter_missing", param=name
            )
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise StripeApiError(
            400,
            f"Invalid integer: {value}",
            code="parameter_invalid_integer",
            param=name,
        ) from None


def sign(secret: str, body: bytes, timestamp: int) -> str:
    """The `Stripe-Signature` header: `t=<ts>,v1=<hex HMAC-SHA256 of "<ts>.<body>">`."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


class SignedHeaders(Mapping[str, str]):
    """Webhook headers whose signature is computed when read: every attempt is signed afresh.

    Stripe re-signs each retry with the time of the attempt, so a retry hours later still passes
    a 300 s tolerance. `offset_s` shifts the timestamp (a negative one makes a stale signature);
    `forged` signs with a wrong secret.
    """

    def __init__(
        self,
        secret: Callable[[], str],
        body: bytes,
        *,
        offset_s: int = 0,
        forged: bool = False,
    ) -> None:
        self._secret = secret
        self._body = body
        self._offset_s = offset_s
        self._forged = forged

    def _all(self) -> dict[str, str]:
        secret = "whsec_forged_by_someone_else" if self._forged else self._secret()
        stamp = int(time.time()) + self._offset_s
        return {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            "Stripe-Signature": sign(secret, self._body, stamp),
        }

    def __getitem__(self, key: str) -> str:
        return self._all()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return 3

    def items(self) -> Any:  # one signature per read, whichever way httpx reads them
        return self._all().items()
