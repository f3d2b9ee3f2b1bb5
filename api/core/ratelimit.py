"""Request rates per client address and per bearer token, counted in Redis (`limits`).

Counting in Redis makes a limit hold across every API process of a deployment. Every /api/v1
request counts against its address; writes also count against their token. The webhook lane
is not limited here: it answers before FastAPI, its senders sign every request and retry on
any refusal, and a front proxy is the cheaper place to cap a flood of unsigned posts.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time

from limits import RateLimitItem, parse
from limits.aio.storage import RedisStorage
from limits.aio.strategies import SlidingWindowCounterRateLimiter

log = logging.getLogger(__name__)
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_SCHEMES = {"redis://": "async+redis://", "rediss://": "async+rediss://"}


def limits_uri(redis_url: str) -> str:
    """The `limits` storage URI of a redis://, rediss:// or unix:// URL."""
    for plain, wrapped in _SCHEMES.items():
        if redis_url.startswith(plain):
            return wrapped + redis_url[len(plain) :]
    if redis_url.startswith("unix://"):
        return "async+redis+unix://" + redis_url[len("unix://") :]
    raise ValueError(f"unsupported Redis URL scheme: {redis_url.split(':', 1)[0]}")


class RateLimits:
    """The process's limiter: one sliding-window counter pair per key in Redis."""

    def __init__(self, redis_url: str, per_address: str, writes_per_token: str) -> None:
        storage = RedisStorage(
            limits_uri(redis_url),
            implementation="redispy",
            key_prefix="phien-rate",
            socket_timeout=0.5,
            socket_connect_timeout=0.5,
        )
        self._limiter = SlidingWindowCounterRateLimiter(storage)
        self._storage = storage
        self.per_address: RateLimitItem = parse(per_address)
        self.writes_per_token: RateLimitItem = parse(writes_per_token)

    async def _hit(self, item: RateLimitItem, kind: str, key: str) -> int | None:
        """Count one hit (Redis errors propagate); seconds until the window frees when over."""
        if await self._limiter.hit(item, kind, key):
            return None
        stats = await self._limiter.get_window_stats(item, kind, key)
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def retry_after_for(self, item: RateLimitItem, kind: str, key: str) -> int | None:
        """Count one hit of `key` against `item` alone; seconds to wait when over, else None."""
        try:
            return await self._hit(item, kind, key)
        except Exception as exc:
            log.warning("rate limit unavailable", extra={"error": type(exc).__name__})
        return None

    async def retry_after(self, address: str, token: str | None, write: bool) -> int | None:
        """Count this request; seconds to wait when a limit is exceeded, else None."""
        checks = [(self.per_address, "address", address)]
        if write and token:
            # The key holds a hash: raw tokens never sit in Redis.
            digest = hashlib.sha256(token.encode()).hexdigest()[:32]
            checks.append((self.writes_per_token, "token", digest))
        try:
            for item, kind, key in checks:
                wait = await self._hit(item, kind, key)
                if wait is not None:
                    return wait
        except Exception as exc:
            # Rate limits protect the service; with Redis away they must not become the outage.
            log.warning("rate limit unavailable", extra={"error": type(exc).__name__})
        return None
