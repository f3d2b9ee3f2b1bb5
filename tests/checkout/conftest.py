"""The checkout tests' view of the stack: its API, its settings and its Stripe simulator."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from api.core.config import Settings
from tests.stack import Stack


@dataclass(frozen=True)
class Shop:
    """The API (configured with the Stripe simulator's account), its settings, the simulator."""

    api_base: str
    settings: Settings
    stripe: str


@pytest.fixture
def shop(clean_stack: Stack) -> Shop:
    """The stack over empty tables, with a Stripe simulator that forgot everything."""
    return Shop(clean_stack.api_base, clean_stack.settings, clean_stack.stripe_sim)
