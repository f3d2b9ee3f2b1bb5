"""`phien serve --simulators`: real services where credentials are set, simulators elsewhere."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from api.core.config import Settings
from workers.cli.simulate import credentials_from_env
from workers.cli.simulators import describe, point_settings_at_simulators, to_simulate

pytestmark = pytest.mark.pure

REAL_TIKTOK = "https://open-api.tiktokglobalshop.com"


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def test_nothing_configured_means_everything_simulated() -> None:
    settings = _settings()
    assert to_simulate(settings) == ["tiktok-shop", "shopee", "viettel-post", "ghn", "stripe"]


def test_configured_credentials_keep_the_real_service() -> None:
    settings = _settings(tiktok_shop_app_key="live-key", tiktok_shop_app_secret=SecretStr("s3"))
    simulated = to_simulate(settings)
    assert simulated == ["shopee", "viettel-post", "ghn", "stripe"]
    pointed = point_settings_at_simulators(settings, simulated)
    assert pointed.tiktok_shop_api_base == REAL_TIKTOK
    assert pointed.tiktok_shop_app_key == "live-key"
    assert pointed.tiktok_shop_app_secret.get_secret_value() == "s3"
    assert pointed.shopee_api_base == "http://127.0.0.1:9102"
    assert pointed.viettel_post_api_base == "http://127.0.0.1:9103"
    assert pointed.ghn_api_base == "http://127.0.0.1:9104/shiip/public-api"
    assert pointed.stripe_api_base == "http://127.0.0.1:9105"
    assert pointed.stripe_api_key.get_secret_value().startswith("sk_test_")
    assert pointed.stripe_webhook_secret.get_secret_value().startswith("whsec_")
    lines = describe(pointed, simulated)
    assert lines[0].split() == ["TikTok", "Shop", "real", REAL_TIKTOK]
    assert lines[1].split() == ["Shopee", "simulated", "http://127.0.0.1:9102"]
    assert lines[4].split() == ["Stripe", "simulated", "http://127.0.0.1:9105"]


def test_a_stripe_key_keeps_the_real_stripe() -> None:
    settings = _settings(stripe_api_key=SecretStr("sk_live_configured"))
    simulated = to_simulate(settings)
    assert "stripe" not in simulated
    pointed = point_settings_at_simulators(settings, simulated)
    assert pointed.stripe_api_base == "https://api.stripe.com"
    assert describe(pointed, simulated)[4].split() == ["Stripe", "real", "https://api.stripe.com"]


def test_half_a_credential_is_not_configured() -> None:
    settings = _settings(viettel_post_username="coop")  # no password: cannot log in
    assert "viettel-post" in to_simulate(settings)


def test_two_instances_get_ports_of_their_own() -> None:
    first, second = _settings(port=8000), _settings(port=8001)
    ports_1 = {first.simulator_port(n) for n in range(1, 6)}
    ports_2 = {second.simulator_port(n) for n in range(1, 6)}
    assert ports_1 == {9101, 9102, 9103, 9104, 9105}
    assert not ports_1 & ports_2
    assert _settings(simulator_base_port=9500).simulator_port(3) == 9503


def test_the_stripe_simulator_takes_the_key_the_service_sends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STRIPE_API_KEY", "sk_test_from_env")
    monkeypatch.setenv("STRIPE_WEBHOOK_SECRET", "whsec_from_env")
    assert credentials_from_env("stripe") == {
        "api_key": "sk_test_from_env",
        "webhook_secret": "whsec_from_env",
    }
