"""Keys for secrets at rest: where they come from, and what production refuses."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from pydantic import SecretStr, ValidationError

from api.core.config import Settings
from api.core.encryption import Keyring, SecretUnreadable, keyring_for

pytestmark = pytest.mark.pure

PRODUCTION = {
    "environment": "production",
    "database_url": "postgresql://phien@db.internal/phien",
    "redis_url": "redis://redis.internal:6379/0",
    "tiktok_shop_app_secret": SecretStr("tt-secret-0a8f3c"),
    "shopee_partner_key": SecretStr("sp-key-77b1e2"),
    "viettel_post_password": SecretStr("vtp-pass-19cd"),
    "viettel_post_webhook_secret": SecretStr("vtp-hook-4e2a"),
    "ghn_token": SecretStr("ghn-token-6b0d"),
    "ghn_webhook_secret": SecretStr("ghn-hook-3f9e"),
    "stripe_api_key": SecretStr("sk_live_8c1a"),
    "stripe_webhook_secret": SecretStr("whsec_5d2b"),
    "shopee_callback_url": "https://phien.example.vn/webhooks/shopee",
    "public_base_url": "https://phien.example.vn",
    "buyer_phone_key": SecretStr("phone-key-2c8e41"),
    "metrics_token": SecretStr("metrics-token-9a7f03"),
}


def production(**changes: object) -> Settings:
    """Production settings with every required value, changed as asked."""
    values = {"secrets_keys": SecretStr(Fernet.generate_key().decode()), **PRODUCTION, **changes}
    return Settings.model_validate(values)


def test_production_refuses_to_start_without_its_keys_and_urls() -> None:
    assert production().environment == "production"
    for missing, name in (
        ({"secrets_keys": SecretStr("")}, "SECRETS_KEYS"),
        ({"shopee_callback_url": None}, "SHOPEE_CALLBACK_URL"),
        ({"public_base_url": None}, "PUBLIC_BASE_URL"),
    ):
        with pytest.raises(ValidationError, match=name):
            production(**missing)


def test_a_key_that_is_not_a_fernet_key_is_refused_and_not_echoed() -> None:
    good = Fernet.generate_key().decode()
    with pytest.raises(ValidationError, match="entry 2 is not a Fernet key") as raised:
        Settings(secrets_keys=SecretStr(f"{good},not-a-key-5e1f"))
    assert "not-a-key-5e1f" not in str(raised.value)


def test_development_creates_one_key_under_var_readable_by_its_owner_only(tmp_path: Path) -> None:
    settings = Settings(environment="development", var_dir=tmp_path / "var")
    first, again = keyring_for(settings), keyring_for(settings)
    key_file = tmp_path / "var" / "secrets.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert first.keys == again.keys == (key_file.read_bytes().strip(),)
    assert again.decrypt(first.encrypt("TTP_token")) == "TTP_token"


def test_the_first_key_encrypts_and_every_key_decrypts() -> None:
    old, new = Fernet.generate_key(), Fernet.generate_key()
    before = Keyring([old]).encrypt("refresh-8d1c")
    rotated_ring = Keyring([new, old])
    assert rotated_ring.decrypt(before) == "refresh-8d1c"
    assert not rotated_ring.is_current(before)
    rotated = rotated_ring.rotate(before)
    assert rotated_ring.is_current(rotated)
    assert Keyring([new]).decrypt(rotated) == "refresh-8d1c"
    with pytest.raises(SecretUnreadable):
        Keyring([new]).decrypt(before)
    assert Keyring([old]).derived_keys("state") != Keyring([old]).derived_keys("other")
