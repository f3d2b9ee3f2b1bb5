"""One typed settings object, read from the environment."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from cryptography.fernet import Fernet
from pydantic import SecretStr, field_validator, model_validator
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
    "buyer_phone_key",
    "metrics_token",
)
# Development and tests only (production refuses an empty BUYER_PHONE_KEY): the lookup hashes
# must agree between processes that share a database, so the fallback is a fixed value.
DEVELOPMENT_PHONE_KEY = b"phien-development-buyer-phone-key"


def parse_fernet_keys(value: str) -> list[bytes]:
    """The Fernet keys of a comma-separated SECRETS_KEYS value (ValueError for a bad one)."""
    keys = [part.strip().encode() for part in value.split(",") if part.strip()]
    for number, key in enumerate(keys, 1):
        try:
            Fernet(key)
        except ValueError:
            # The key itself stays out of the message: it would land in a log.
            raise ValueError(f"SECRETS_KEYS entry {number} is not a Fernet key") from None
    return keys


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
    # How long a request waits for a pooled connection before it answers 503 (Retry-After).
    db_pool_timeout_seconds: float = 10.0
    max_body_bytes: int = 1_000_000
    # The server's own limits (api/core/http_server.py): request line + headers, the time for
    # them to arrive, the longest pause inside a body, and connections + requests in flight.
    http_max_head_bytes: int = 64 * 1024
    http_head_timeout_s: float = 10.0
    http_body_idle_timeout_s: float = 30.0
    http_limit_concurrency: int = 1000
    # How long a browser stays signed in after exchanging its API token (pages only).
    web_session_hours: int = 12
    # An inbox row still unhandled after this long is offered to the workers again.
    inbox_sweep_after_seconds: int = 10
    # Raw webhook bodies (buyers' names, phones, addresses) are dropped after this many days;
    # the (source, event_key) pair that deduplicates stays.
    webhook_body_retention_days: int = 90
    # HMAC-SHA256 key of the buyer-phone lookup column (orders.buyer_phone_hash).
    buyer_phone_key: SecretStr = SecretStr("")
    # Bearer token for GET /metrics; required in production, optional elsewhere.
    metrics_token: SecretStr = SecretStr("")
    # Rate limits (`limits` notation, counted in Redis across processes): every /api/v1 request
    # per client address, and writes (POST/PUT/PATCH/DELETE) per bearer token.
    rate_limit_per_address: str = "600/minute"
    rate_limit_writes_per_token: str = "120/minute"  # noqa: S105 (a rate, not a secret)
    rate_limits_enabled: bool = True
    # Live API tokens per user: issuing one more revokes the oldest.
    max_live_tokens_per_user: int = 10
    # /ready also asks that some worker polled the queue lately (an API-only process behind a
    # load balancer of a deployment whose workers must be up). `phien serve` always checks its own.
    ready_requires_worker: bool = False
    # A standalone `phien worker` whose Redis stays unreachable this long exits non-zero (its
    # process supervisor restarts it); shorter outages are ridden out in-process.
    worker_give_up_after_seconds: float = 30.0

    tiktok_shop_api_base: str = "https://open-api.tiktokglobalshop.com"
    tiktok_shop_auth_base: str = "https://auth.tiktok-shops.com"
    tiktok_shop_app_key: str = ""
    tiktok_shop_app_secret: SecretStr = SecretStr("")
    shopee_api_base: str = "https://partner.shopeemobile.com"
    shopee_partner_id: int = 0
    shopee_partner_key: SecretStr = SecretStr("")
    # The push URL exactly as configured in Shopee's console (it is part of the signed text).
    # Required in production; elsewhere unset means "the URL the request arrived on".
    shopee_callback_url: str | None = None
    # Fernet keys for the secrets the database keeps, comma-separated, newest first (see
    # api/core/encryption.py). Required in production; elsewhere a key under var/ is used.
    secrets_keys: SecretStr = SecretStr("")
    # Where people and platforms reach this service (https://phien.example.vn): the platforms'
    # authorisation redirects come back here. Required in production; elsewhere unset means
    # "the URL the request arrived on".
    public_base_url: str | None = None
    # How long an authorisation link (its signed `state`) stays usable.
    oauth_state_ttl_seconds: int = 600
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
    # Stripe Checkout for direct sales. No key: no card payments (`phien serve --simulators`
    # then serves the Stripe simulator and points these three at it).
    stripe_api_base: str = "https://api.stripe.com"
    stripe_api_key: SecretStr = SecretStr("")
    stripe_webhook_secret: SecretStr = SecretStr("")
    # How long a direct checkout holds its stock; Stripe wants a session's expires_at at least
    # 30 minutes ahead (and at most 24 h), so 30-35 minutes leaves room for the clock skew.
    checkout_expiry_minutes: int = 32
    # POST /api/v1/checkout is public: its own, tighter limit per client address.
    rate_limit_checkout_per_address: str = "20/minute"
    # `phien serve --simulators` serves each unconfigured service's simulator on this port + n
    # (TikTok Shop 1, Shopee 2, Viettel Post 3, GHN 4, Stripe 5). Unset: 9100 + 10 × (PORT mod
    # 100), so a second instance on another PORT gets ports of its own.
    simulator_base_port: int | None = None

    @field_validator("checkout_expiry_minutes")
    @classmethod
    def _stripe_expiry_window(cls, value: int) -> int:
        if not 31 <= value <= 24 * 60:
            raise ValueError("CHECKOUT_EXPIRY_MINUTES must be 31..1440 (Stripe: 30 min..24 h)")
        return value

    def phone_key(self) -> bytes:
        """The key of the buyer-phone lookup hash (a fixed one outside production)."""
        key = self.buyer_phone_key.get_secret_value()
        return key.encode() if key else DEVELOPMENT_PHONE_KEY

    def simulator_port(self, offset: int) -> int:
        """The loopback port of the simulator at `offset` from the base port."""
        base = self.simulator_base_port
        if base is None:
            base = 9100 + 10 * (self.port % 100)
        return base + offset

    @field_validator("secrets_keys")
    @classmethod
    def _keys_are_fernet_keys(cls, value: SecretStr) -> SecretStr:
        parse_fernet_keys(value.get_secret_value())
        return value

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
        # Never derived from a request's Host header in production: a forged Host would
        # otherwise choose the URL a Shopee signature is checked against, or where a
        # platform sends a seller back with an authorisation code.
        missing = [
            name
            for name, value in (
                ("SECRETS_KEYS", self.secrets_keys.get_secret_value().strip()),
                ("SHOPEE_CALLBACK_URL", self.shopee_callback_url),
                ("PUBLIC_BASE_URL", self.public_base_url),
            )
            if not value
        ]
        if missing:
            raise ValueError("production needs " + ", ".join(missing))
        return self


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
