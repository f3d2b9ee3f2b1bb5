"""Viettel Post partner API: client, pure builders/parsers, status map and webhook handling."""

from integrations.carriers.viettel_post.client import ViettelPostClient, ViettelPostConfig
from integrations.carriers.viettel_post.webhook import parse_webhook, redact_token, verify_webhook

__all__ = [
    "ViettelPostClient",
    "ViettelPostConfig",
    "parse_webhook",
    "redact_token",
    "verify_webhook",
]
