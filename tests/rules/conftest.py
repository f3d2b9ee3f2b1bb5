"""Pure rule tests: no PostgreSQL, Redis or simulators (they also run under `--noconftest`)."""

import pytest


@pytest.fixture(autouse=True)
def _clean_state() -> None:
    """Overrides the suite's per-test reset of the database, queue and carriers: none is used."""
