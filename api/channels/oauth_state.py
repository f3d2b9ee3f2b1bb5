"""The `state` of a shop authorisation: signed, expiring, single use.

It carries who started the connection (cooperative, platform, user), a random nonce and an
expiry, signed with HMAC-SHA256 under a key derived from SECRETS_KEYS (so it rotates with
them). The platform hands it back unchanged on the callback; we check the signature and the
expiry, then record its nonce once (a second callback with it is refused).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from api.channels.models import UsedOAuthState
from api.core.encryption import Keyring
from api.core.errors import BadRequest

PURPOSE = "phien/oauth-state/v1"

FORGED = "this authorisation link is not one Phiên made: start again from Phiên"
EXPIRED = "this authorisation link has expired: start again from Phiên"
USED = "this authorisation link was already used: start again from Phiên"


@dataclass(frozen=True)
class AuthorisationState:
    """What a state says: who asked to connect which cooperative's shop on which platform."""

    cooperative_id: int
    platform: str
    user_id: int
    nonce: str
    expires_at: int  # unix seconds


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def issue_state(
    keyring: Keyring, cooperative_id: int, platform: str, user_id: int, expires_at: int
) -> tuple[str, AuthorisationState]:
    """A new state (the string to send) for this cooperative, platform and user."""
    state = AuthorisationState(cooperative_id, platform, user_id, secrets.token_hex(16), expires_at)
    payload = {
        "c": state.cooperative_id,
        "p": state.platform,
        "u": state.user_id,
        "n": state.nonce,
        "e": state.expires_at,
    }
    body = _b64(orjson.dumps(payload))
    signature = hmac.new(keyring.derived_keys(PURPOSE)[0], body.encode(), hashlib.sha256)
    return f"{body}.{_b64(signature.digest())}", state


def _signed_by(keyring: Keyring, body: str, signature: str) -> bool:
    try:
        received = _unb64(signature)
    except ValueError:
        return False
    # Every key is tried (no early exit), so timing does not tell which one matched.
    matches = [
        hmac.compare_digest(hmac.new(key, body.encode(), hashlib.sha256).digest(), received)
        for key in keyring.derived_keys(PURPOSE)
    ]
    return any(matches)


def read_state(keyring: Keyring, text: str, platform: str, now: datetime) -> AuthorisationState:
    """The state behind `text`, or BadRequest when it is forged, for another platform or expired."""
    body, _, signature = text.partition(".")
    if not body or not signature or not _signed_by(keyring, body, signature):
        raise BadRequest(FORGED)
    try:
        payload = orjson.loads(_unb64(body))
        state = AuthorisationState(
            int(payload["c"]), str(payload["p"]), int(payload["u"]), str(payload["n"]),
            int(payload["e"]),
        )  # fmt: skip
    except (ValueError, KeyError, TypeError):
        raise BadRequest(FORGED) from None
    if state.platform != platform:
        raise BadRequest(FORGED)
    if state.expires_at <= now.timestamp():
        raise BadRequest(EXPIRED)
    return state


async def use_state(session: AsyncSession, state: AuthorisationState, now: datetime) -> None:
    """Record the state's nonce as used; BadRequest if it already was (the caller commits)."""
    # Expired states are refused before they get here, so their rows are no longer needed.
    await session.execute(delete(UsedOAuthState).where(col(UsedOAuthState.expires_at) < now))
    # One conditional INSERT decides: of two callbacks racing with one state, one gets the row.
    inserted = await session.execute(
        insert(UsedOAuthState)
        .values(nonce=state.nonce, expires_at=datetime.fromtimestamp(state.expires_at, tz=UTC))
        .on_conflict_do_nothing()
        .returning(col(UsedOAuthState.nonce))
    )
    if inserted.scalar_one_or_none() is None:
        raise BadRequest(USED)
