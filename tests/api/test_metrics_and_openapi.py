"""/metrics needs METRICS_TOKEN in production; OpenAPI lists every answer with its body."""

from __future__ import annotations

import httpx
import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr, ValidationError

from api.core.config import SECRET_FIELDS, Settings
from api.main import create_app
from integrations.simulators.serve import serve_in_background

METRICS_TOKEN = "metrics-7f3a9c1e5b"


async def test_metrics_refused_without_the_token_in_production(settings: Settings) -> None:
    production = settings.model_copy(
        update={"environment": "production", "metrics_token": SecretStr(METRICS_TOKEN)}
    )
    async with (
        serve_in_background(create_app(production)) as base,
        httpx.AsyncClient(base_url=base, timeout=10) as http,
    ):
        assert (await http.get("/metrics")).status_code == 401
        wrong = await http.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        assert wrong.headers["WWW-Authenticate"] == "Bearer"
        right = await http.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
        assert right.status_code == 200
        assert right.headers["content-type"].startswith("text/plain")
        assert "# TYPE" in right.text


@pytest.mark.pure
def test_production_refuses_to_start_without_a_metrics_token() -> None:
    secrets = {name: SecretStr(f"real-{name}-value") for name in SECRET_FIELDS}
    urls = {
        "database_url": "postgresql://db/phien",
        "redis_url": "redis://redis:6379/0",
        "shopee_callback_url": "https://phien.example.vn/webhooks/shopee",
        "public_base_url": "https://phien.example.vn",
    }
    secrets["secrets_keys"] = SecretStr(Fernet.generate_key().decode())
    Settings(environment="production", **urls, **secrets)  # type: ignore[arg-type]
    secrets["metrics_token"] = SecretStr("")
    with pytest.raises(ValidationError, match="metrics_token"):
        Settings(environment="production", **urls, **secrets)  # type: ignore[arg-type]


async def test_openapi_lists_every_answer_with_its_body(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    error = {"$ref": "#/components/schemas/Error"}
    operations = [
        (path, method, op)
        for path, item in document["paths"].items()
        if path.startswith("/api/v1")
        for method, op in item.items()
    ]
    assert len(operations) > 30
    for path, method, op in operations:
        codes = {"401", "403", "404", "422", "429", "503"}
        if method != "get":
            codes |= {"409", "413"}
        assert codes <= set(op["responses"]), (path, method)
        for code in codes - {"422"}:
            assert op["responses"][code]["content"]["application/json"]["schema"] == error
        assert "Retry-After" in op["responses"]["429"]["headers"]
    metrics = document["paths"]["/metrics"]["get"]["responses"]
    assert list(metrics["200"]["content"]) == ["text/plain"]
    assert metrics["401"]["content"]["application/json"]["schema"] == error
