"""The suite's root: nothing here starts a server.

Tests that need PostgreSQL, Redis, the simulators or the API ask for them by name (`db`,
`settings`, `client`, `world`, `redis_url`, `tiktok_sim`, … from `tests/stack.py`); nothing is
autouse, so a test that asks for none of them starts nothing. Tests marked `pure` (signing,
parsers, mappers, status maps, amounts, text folding) may use no fixture of ours at all: this
file refuses to collect one that does, and `make test` runs them with PostgreSQL and Redis
pointed at closed ports.
"""

from __future__ import annotations

import pytest

pytest_plugins = ["tests.stack", "tests.private_redis"]


def _our_fixtures(item: pytest.Function) -> list[str]:
    defs = item._fixtureinfo.name2fixturedefs
    return sorted(
        name for name, chain in defs.items() if chain[-1].func.__module__.startswith("tests.")
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A pure test that asks for one of our fixtures (a server, a rig) is a mistake: say so."""
    for item in items:
        if isinstance(item, pytest.Function) and item.get_closest_marker("pure"):
            ours = _our_fixtures(item)
            if ours:
                raise pytest.UsageError(f"{item.nodeid} is marked pure but asks for {ours}")
