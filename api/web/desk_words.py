"""What the desk says after a scan or a move, in the person's language, and the flash that
carries it across a redirect when the browser posted a plain form (no JavaScript)."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import Response

from api.batches.schemas import BatchSummary
from api.web.rendering import set_cookie

FLASH_COOKIE = "phien_desk_flash"
FLASH_SECONDS = 60
Gettext = Callable[[str], str]

# Same signs as desk.js: the outcome is never told by colour alone.
ICONS = {
    "packed": "✓", "already_packed": "2×", "other_batch": "✗", "unknown": "?", "refused": "!",
    "error": "!",
}  # fmt: skip


@dataclass(frozen=True)
class ScanAnswer:
    """The outcome of one scan, as the page shows it and desk.js reads it."""

    outcome: str  # packed | already_packed | other_batch | unknown | refused
    code: str
    shipment_id: int | None = None
    waybill: str | None = None
    order_reference: str | None = None
    packed: int | None = None
    left: int | None = None
    other_batch_id: int | None = None

    @property
    def status_code(self) -> int:
        """200 for a parcel of this batch, 409 for another batch's (or a batch past packing),
        404 for a code no parcel of this batch has."""
        return {"other_batch": 409, "refused": 409, "unknown": 404}.get(self.outcome, 200)


@dataclass(frozen=True)
class ScanView:
    """A scan answer in words."""

    outcome: str
    icon: str
    title: str
    detail: str


def scan_view(answer: ScanAnswer, gettext: Gettext) -> ScanView:
    """The title and detail a packer reads (and a screen reader speaks) for one scan."""
    parcel = " · ".join(x for x in (answer.waybill, answer.order_reference) if x) or answer.code
    if answer.outcome == "packed" and answer.left == 0:
        title = gettext("Packed")
        detail = gettext("%(parcel)s. All parcels packed: mark the batch ready for pickup.") % {
            "parcel": parcel
        }
    elif answer.outcome == "packed":
        title, detail = gettext("Packed"), parcel
    elif answer.outcome == "already_packed":
        title, detail = gettext("Already packed: nothing changed"), parcel
    elif answer.outcome == "other_batch":
        title = gettext("Wrong batch: this parcel belongs to batch #%(batch)s") % {
            "batch": answer.other_batch_id
        }
        detail = gettext("Put it aside for that batch. Code: %(code)s") % {"code": answer.code}
    elif answer.outcome == "refused":
        title = gettext("Not packed: this batch is past packing")
        detail = gettext("Move it back to packing first. Code: %(code)s") % {"code": answer.code}
    else:
        title = gettext("Unknown code")
        detail = gettext("No parcel of this batch has the code %(code)s. Check the label.") % {
            "code": answer.code
        }
    return ScanView(answer.outcome, ICONS.get(answer.outcome, ICONS["error"]), title, detail)


def scan_json(answer: ScanAnswer, gettext: Gettext) -> dict[str, Any]:
    """The answer desk.js reads: the outcome, its words and the new counts."""
    view = scan_view(answer, gettext)
    return {**asdict(answer), "title": view.title, "detail": view.detail}


def status_word(status: str, gettext: Gettext) -> str:
    """A batch status as the desk names it (the same words as the badge)."""
    words = {
        "open": gettext("Open"), "packing": gettext("Packing"),
        "ready": gettext("Ready for pickup"), "handed_over": gettext("Handed over"),
        "closed": gettext("Closed"),
    }  # fmt: skip
    return words.get(status, status)


def refusal(batch: BatchSummary, to: str, reason: str, gettext: Gettext) -> str:
    """Why the batch did not move, in the packer's language (the service's reason otherwise)."""
    if to in ("ready", "handed_over") and batch.parcels == 0:
        why = gettext("the batch has no parcels.")
    elif to in ("ready", "handed_over") and batch.left:
        why = gettext(
            "%(left)s parcel(s) not packed yet — pack them or remove them from the batch first."
        ) % {"left": batch.left}
    elif batch.status == to:
        why = gettext("it is already %(status)s.") % {"status": status_word(to, gettext)}
    elif to == "handed_over" and batch.status in ("open", "packing"):
        why = gettext("mark it ready for pickup first.")
    else:
        why = reason
    return gettext("The batch did not move: %(reason)s") % {"reason": why}


def set_flash(response: Response, request: Request, payload: dict[str, Any]) -> None:
    """Carry a short message to the next page (a plain-form post is answered by a redirect)."""
    raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    value = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    set_cookie(response, request.app.state.settings, FLASH_COOKIE, value, FLASH_SECONDS)


def read_flash(request: Request) -> dict[str, Any] | None:
    """The message left by the previous post, if any (anything unreadable is ignored)."""
    value = request.cookies.get(FLASH_COOKIE)
    if not value or len(value) > 2000:
        return None
    try:
        found = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    except (binascii.Error, ValueError):
        return None
    return found if isinstance(found, dict) else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def scan_from_flash(flash: dict[str, Any]) -> ScanAnswer | None:
    """A scan answer carried by the flash cookie, or None when it holds something else."""
    outcome, code = _str(flash.get("outcome")), _str(flash.get("code"))
    if flash.get("kind") != "scan" or outcome not in ICONS or code is None:
        return None
    return ScanAnswer(
        outcome, code, _int(flash.get("shipment_id")), _str(flash.get("waybill")),
        _str(flash.get("order_reference")), _int(flash.get("packed")), _int(flash.get("left")),
        _int(flash.get("other_batch_id")),
    )  # fmt: skip
