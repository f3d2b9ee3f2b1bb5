"""GHN (Giao Hàng Nhanh) API v2: client, pure builders/parsers, status map and webhook parsing."""

from integrations.carriers.ghn.client import GhnClient, GhnConfig
from integrations.carriers.ghn.webhook import parse_webhook, verify_path_secret

__all__ = ["GhnClient", "GhnConfig", "parse_webhook", "verify_path_secret"]
