"""The deploy check's env file is one production accepts; the shipped example is refused until
filled in; simulators accept the credentials the service is given."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from api.core.config import Settings
from bench.deploy_check.stack import production_env
from workers.cli.simulate import credentials_from_env

pytestmark = pytest.mark.pure

ROOT = Path(__file__).resolve().parents[2]


def _settings(values: dict[str, str]) -> Settings:
    known = {
        key.lower(): value for key, value in values.items() if key.lower() in Settings.model_fields
    }
    kwargs: dict[str, Any] = {**known, "environment": "production"}
    return Settings(_env_file=None, **kwargs)


def _read(path: Path) -> dict[str, str]:
    lines = [line for line in path.read_text().splitlines() if line and not line.startswith("#")]
    return dict(line.split("=", 1) for line in lines)


def test_generated_env_starts_in_production_with_fresh_secrets() -> None:
    first, second = production_env(), production_env()
    settings = _settings(first)
    assert settings.tiktok_shop_app_secret.get_secret_value() == first["TIKTOK_SHOP_APP_SECRET"]
    assert first["POSTGRES_PASSWORD"] in first["DATABASE_URL"]
    assert first["REDIS_PASSWORD"] in first["REDIS_URL"]
    assert not set(first.values()) & {v for k, v in second.items() if "SECRET" in k}


def test_example_env_is_refused_until_its_placeholders_are_replaced() -> None:
    with pytest.raises(ValidationError, match="placeholder secrets"):
        _settings(_read(ROOT / "deploy" / "phien.env.example"))


def test_simulators_take_the_credentials_the_service_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GHN_TOKEN", "token-from-env")
    monkeypatch.setenv("GHN_SHOP_ID", "4242")
    monkeypatch.delenv("GHN_WEBHOOK_SECRET", raising=False)
    assert credentials_from_env("ghn") == {"token": "token-from-env", "shop_id": 4242}
