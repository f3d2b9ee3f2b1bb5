"""Rates per address and per token, held in Redis across processes; a cap on live tokens."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from api.core.config import Settings
from api.main import create_app
from integrations.simulators.serve import serve_in_background
from tests.factories import World


@pytest.fixture
async def strict_apis(settings: Settings) -> AsyncIterator[tuple[str, str]]:
    """Two API processes' worth of apps sharing one Redis, with small limits."""
    strict = settings.model_copy(
        update={
            "rate_limit_per_address": "8/minute",
            "rate_limit_writes_per_token": "3/minute",
            "max_live_tokens_per_user": 3,
        }
    )
    async with (
        serve_in_background(create_app(strict)) as one,
        serve_in_background(create_app(strict)) as two,
    ):
        yield one, two


async def test_writes_per_token_answer_429_with_retry_after_across_processes(
    strict_apis: tuple[str, str], world: World
) -> None:
    one, two = strict_apis
    seller = world.users["seller"]
    path = f"/api/v1/users/{seller.user_id}/tokens"
    async with httpx.AsyncClient(timeout=10) as http:
        statuses = [
            (await http.post(f"{base}{path}", json={"name": "t"}, headers=seller.headers))
            for base in (one, two, one, two)
        ]
    assert [r.status_code for r in statuses] == [201, 201, 201, 429]
    refused = statuses[-1]
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert "retry" in refused.json()["detail"]


async def test_requests_per_address_answer_429_even_without_a_token(
    strict_apis: tuple[str, str],
) -> None:
    one, two = strict_apis
    async with httpx.AsyncClient(timeout=10) as http:
        codes = [(await http.get(f"{base}/api/v1/orders")).status_code for base in (one, two) * 5]
        health = await http.get(f"{one}/health")
    assert codes == [401] * 8 + [429] * 2
    assert health.status_code == 200


async def test_a_user_keeps_at_most_the_newest_live_tokens(
    strict_apis: tuple[str, str], world: World, client: httpx.AsyncClient
) -> None:
    one, _ = strict_apis
    admin = world.users["admin"]
    seller = world.users["seller"]
    path = f"/api/v1/users/{seller.user_id}/tokens"
    async with httpx.AsyncClient(base_url=one, timeout=10) as http:
        issued = []
        for n in range(3):
            response = await http.post(path, json={"name": f"n{n}"}, headers=admin.headers)
            assert response.status_code == 201, response.text
            issued.append(response.json()["token"])
    # Four tokens were issued to the seller, three may live: the oldest (the seller's first) went.
    for token, works in ((seller.token, False), *((t, True) for t in issued)):
        me = await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == (200 if works else 401)
