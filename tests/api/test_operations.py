"""/health, /ready, /metrics and the request id."""

from __future__ import annotations

import httpx


async def test_health_answers_without_dependencies(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_checks_database_and_redis(client: httpx.AsyncClient) -> None:
    response = await client.get("/ready")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "database": "ok", "redis": "ok"}


async def test_metrics_count_requests_by_route_template(client: httpx.AsyncClient) -> None:
    await client.get("/api/v1/products/12345")
    body = (await client.get("/metrics")).text
    assert "phien_http_requests_total" in body
    assert 'route="/api/v1/products/{product_id}"' in body
    assert "phien_http_request_duration_seconds_bucket" in body


async def test_every_answer_carries_a_request_id(client: httpx.AsyncClient) -> None:
    response = await client.get("/health", headers={"X-Request-ID": "abc123"})
    assert response.headers["x-request-id"] == "abc123"
    assert len((await client.get("/health")).headers["x-request-id"]) == 32


async def test_openapi_and_docs_are_served(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert "/api/v1/products" in spec["paths"]
    for webhook in ("/webhooks/tiktok-shop", "/webhooks/shopee", "/webhooks/carriers/viettel-post",
                    "/webhooks/carriers/ghn/{secret}"):  # fmt: skip
        assert "post" in spec["paths"][webhook]
    assert (await client.get("/docs")).status_code == 200
