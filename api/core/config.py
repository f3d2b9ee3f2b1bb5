"""One typed settings object, read from the environment."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = frozenset({"", "changeme", "change-me", "secret", "dev", "placeholder"})

SECRET_FIELDS = (
    "tiktok_shop_app_secret",
    "shopee_partner_key",
    "viettel_post_password",
    "viettel_post_webhook_secret",
    "ghn_token",
    "ghn_webhook_secret",
    "stripe_api_key",
    "stripe_webhook_secret",
)


class Settings(BaseSettings):
    """Everything the service reads from its environment."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    # Unset means "start the embedded PostgreSQL / Redis under var_dir".
    database_url: str | None = None
    redis_url: str | None = None
    var_dir: Path = Path("var")
    host: str = "127.0.0.1"
    port: int = 8000
    log_level: str = "INFO"
    # Unset: 10 for an API process; a worker sizes its pool to cover its max_jobs.
    db_pool_size: int | None = None
    db_max_overflow: int = 10
    max_body_bytes: int = 1_000_000
    # An inbox row still unhandled after this long is offered to the workers again.
    inbox_sweep_after_seconds: int = 10

    tiktok_shop_api_base: str = "https://open-api.tiktokglobalshop.com"
    tiktok_shop_auth_base: str = "https://auth.tiktok-shops.com"
    tiktok_shop_app_key: str = ""
    tiktok_shop_app_secret: SecretStr = SecretStr("")
    shopee_api_base: str = "https://partner.shopeemobile.com"
    shopee_partner_id: int = 0
    shopee_partner_key: SecretStr = SecretStr("")
    # The push URL exactly as configured in Shopee's console (it is part of the signed text);
    # unset means "the URL the request arrived on", which is right without a rewriting proxy.
    shopee_callback_url: str | None = None
    viettel_post_api_base: str = "https://partner.viettelpost.vn"
    viettel_post_username: str = ""
    viettel_post_password: SecretStr = SecretStr("")
    viettel_post_webhook_secret: SecretStr = SecretStr("")
    ghn_api_base: str = "https://online-gateway.ghn.vn"
    ghn_token: SecretStr = SecretStr("")
    ghn_shop_id: int = 0
    # A fixed Viettel Post ORDER_SERVICE (e.g. VCN) skips the getPriceAll call per booking;
    # unset means "ask getPriceAll for the services on this route".
    viettel_post_service_code: str | None = None
    # Per call to a carrier: shorter than job_timeout, so a hung carrier costs one retry.
    carrier_timeout_s: float = 10.0
    # A hand-off job stops waiting for carriers after this long (inside the 60 s job timeout):
    # rows still unanswered go to jobs of their own, so no batch outlives its timeout.
    handoff_deadline_s: float = 40.0
    # A pending shipment idle this long with no job waiting for it (its ring was lost, or its
    # worker died mid-booking) is offered to the workers again; swept every 3 s. Short because
    # the sweeper skips rows whose job is queued or running with a heartbeat.
    shipment_sweep_after_seconds: int = 5
    # GHN signs nothing: this unguessable segment of /webhooks/carriers/ghn/{secret} is the proof.
    ghn_webhook_secret: SecretStr = SecretStr("")
    stripe_api_base: str = "https://api.stripe.com"
    stripe_api_key: SecretStr = SecretStr("")
    stripe_webhook_secret: SecretStr = SecretStr("")
    # `phien serve --simulators` serves each unconfigured service's simulator on this port + n
    # (TikTok Shop 1, Shopee 2, Viettel Post 3, GHN 4). Unset: 9100 + 10 × (PORT mod 100), so a
    # second instance on another PORT gets ports of its own.
    simulator_base_port: int | None = None

    def simulator_port(self, offset: int) -> int:
        """The loopback port of the simulator at `offset` from the base port."""
        base = self.simulator_base_port
        if base is None:
            base = 9100 + 10 * (self.port % 100)
        return base + offset

    def pool_size_for(self, jobs: int | None = None) -> int:
        """Connections to keep: DB_POOL_SIZE when set, else one per concurrent job (or 10)."""
        if self.db_pool_size is not None:
            return self.db_pool_size
        return max(jobs or 0, 10)

    @model_validator(mode="after")
    def _refuse_placeholders_in_production(self) -> Settings:
        if self.environment != "production":
            return self
        weak = [
            name
            for name in SECRET_FIELDS
            if getattr(self, name).get_secret_value().strip().lower() in PLACEHOLDER_SECRETS
        ]
        if weak:
            raise ValueError(
                "refusing to start in production with placeholder secrets: " + ", ".join(weak)
            )
        if self.database_url is None or self.redis_url is None:
            raise ValueError(
                "production needs DATABASE_URL and REDIS_URL; embedded servers are for dev"
            )
        return self


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
