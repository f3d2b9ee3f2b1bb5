"""What the batch rules refuse; each is also the project's own error, so the API maps it."""

from __future__ import annotations

from api.core.errors import Conflict, NotFound


class BatchNotFound(NotFound, LookupError):
    """No such batch, or one the actor may not see (its existence is not leaked): 404."""

    def __init__(self, batch_id: int) -> None:
        super().__init__(f"pickup batch {batch_id}")
        self.batch_id = batch_id


class ParcelNotFound(NotFound, LookupError):
    """The scanned or named parcel is unknown here: 404 with a message a packer can read."""

    def __init__(self, message: str) -> None:
        NotFound.__init__(self, "parcel")
        self.args = (message,)
        self.message = message

    def __str__(self) -> str:
        return self.message


class ParcelInOtherBatch(Conflict):
    """The parcel belongs to another open batch: 409 naming it."""

    def __init__(self, shipment_id: int, batch_id: int, waybill: str | None = None) -> None:
        label = waybill or f"shipment {shipment_id}"
        super().__init__(f"parcel {label} is in pickup batch {batch_id}, not this one")
        self.shipment_id = shipment_id
        self.batch_id = batch_id
        self.waybill = waybill


class BatchMoveRefused(Conflict):
    """The batch cannot take this step now (unpacked parcels left, say): 409."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)


class ParcelNotEligible(Conflict):
    """The shipment cannot join this batch (another cooperative or carrier, not booked...): 409."""
