"""Bodies of the admins' inbox endpoints (`/api/v1/inbound-events`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from api.core.deps import MAX_ID
from api.core.schemas import Input, Output
from api.webhooks.parked import EventState


class InboundEventRead(Output):
    """An inbox row as admins see it (never its body: it may carry buyers' data)."""

    id: int
    source: str
    event_key: str
    topic: str
    shop_id: str
    object_id: str | None
    received_at: datetime
    handled_at: datetime | None
    parked_at: datetime | None
    attempts: int
    last_error: str | None
    outcome: str | None
    state: EventState


class InboundEventPage(Output):
    """One page of inbox rows; `next_before` continues the list (absent on the last page)."""

    items: list[InboundEventRead]
    limit: int
    next_before: int | None


class ReplayRequest(Input):
    """Rows to handle again."""

    ids: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(min_length=1, max_length=500)


class ReplayResult(Output):
    """Rows made new again (ids not found are left out)."""

    replayed: list[int]
