"""Why a checkout was not started: the buyer's to fix (refused) or the provider's (try again)."""

from __future__ import annotations

# Refusals the buyer cannot fix by editing the form (the stock or a cap ran out): 409.
CONFLICT_CODES = frozenset({"out_of_stock", "over_offer_cap", "over_buyer_limit"})


class CheckoutRefused(Exception):
    """The checkout breaks a rule: a bad address, stock or a cap gone, an unknown variant."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    @property
    def status(self) -> int:
        """409 for what ran out meanwhile, 422 for what the request got wrong."""
        return 409 if self.code in CONFLICT_CODES else 422


class PaymentsUnavailable(Exception):
    """The payment provider did not answer (or is not configured): nothing is held; retry."""


class PaymentsRefused(Exception):
    """The payment provider refused to open a session: nothing is held."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
